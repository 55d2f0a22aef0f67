"""The quality gate: Great Expectations suites (``expectations/``) run on a build's marts.

Layout:

- :mod:`pipelines.audit.quality.spec` reads the suites, their batch queries and the register of known
  paper discrepancies (plain JSON/YAML; no Great Expectations import).
- :mod:`pipelines.audit.quality.engine` runs the batch queries read-only in DuckDB and validates their rows
  with Great Expectations' pandas data source (imported lazily: it costs seconds).
- :mod:`pipelines.audit.quality.gate` turns the validation results into one verdict per rule (passed /
  warned / failed), matching failures against the register; :mod:`~pipelines.audit.quality.rows`
  describes failing rows and observed values, :mod:`~pipelines.audit.quality.results` writes the
  verdicts into the build file (both re-exported by ``gate``).
- :mod:`pipelines.audit.quality.report` writes the report files and prints the terminal report;
  :mod:`~pipelines.audit.quality.render` renders the Markdown/HTML report (re-exported by ``report``).

Nothing here imports Great Expectations at module import time.
"""
