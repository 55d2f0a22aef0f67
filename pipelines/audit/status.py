"""The one status of a build, read from the build's own file, and the words every surface uses for it.

Three kinds of audit, counted apart and named as such:

- **dbt tests** (``quality.dbt_test_results``, written by dbt's on-run-end hook): passed, warned
  (a warn-severity test that found rows), failed (fail or error);
- **GX rules** (``quality.check_results``, the Great Expectations rules of ``expectations/``):
  passed, warned (their only failures are the paper's own discrepancies registered in
  ``expectations/known_discrepancies.yml``: findings, never blocking), failed (blocks publishing);
- **claims** (``quality.claims``): verdicts on the paper's sentences, supported / contradicted /
  not checkable, with the coverage of their evidence. A contradicted claim is a finding about the
  paper, not a failed check.

:func:`build_status` computes it; :meth:`BuildStatus.line` is the status line that ``kzkr build``,
``kzkr report``, the Markdown/HTML report and the Dagster UI (metadata of ``warehouse/published``)
all show, and :meth:`BuildStatus.markdown` the summary table they share.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

VERDICTS = ("supported", "contradicted", "not_checkable")
COVERAGES = ("full", "partial", "proxy", "none")
DBT_STATUS = {"pass": "passed", "success": "passed", "warn": "warned", "fail": "failed", "error": "failed"}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Tally:
    passed: int = 0
    warned: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.warned + self.failed + self.skipped

    def words(self) -> str:
        text = f"{self.passed} passed, {self.warned} warned, {self.failed} failed"
        return text + (f", {self.skipped} skipped" if self.skipped else "")


@dataclass(frozen=True)
class BuildStatus:
    build_id: str | None
    dbt_tests: Tally | None  # None: the file has no record of them
    gx_rules: Tally | None
    claims: Mapping[str, int] | None
    coverage: Mapping[str, int] = field(default_factory=dict)
    registered_discrepancies: int = 0

    @property
    def blocked(self) -> bool:
        return any(t is not None and t.failed for t in (self.dbt_tests, self.gx_rules))

    def claims_words(self) -> str:
        if self.claims is None:
            return "claims: not evaluated"
        c = self.claims
        text = (
            f"claims: {sum(c.values())} — {c.get('supported', 0)} supported, "
            f"{c.get('contradicted', 0)} contradicted, {c.get('not_checkable', 0)} not checkable"
        )
        if self.coverage:
            cov = ", ".join(f"{self.coverage.get(k, 0)} {k}" for k in COVERAGES)
            text += f" (coverage: {cov})"
        return text

    def line(self) -> str:
        """The status line: the same on every surface."""
        dbt = f"dbt tests: {self.dbt_tests.words()}" if self.dbt_tests else "dbt tests: not recorded"
        gx = f"GX rules: {self.gx_rules.words()}" if self.gx_rules else "GX rules: not run"
        return f"{dbt} · {gx} · {self.claims_words()}"

    def verdict(self) -> str:
        if self.blocked:
            return "blocked: a dbt test or GX rule failed; the build is not published"
        return "passed: no dbt test or GX rule failed"

    def markdown(self) -> str:
        """The summary table (Markdown) of the report and of the UI."""
        rows = [("", "passed", "warned", "failed"), ("---", "---:", "---:", "---:")]
        for name, tally in (("dbt tests", self.dbt_tests), ("GX rules", self.gx_rules)):
            if tally is not None:
                rows.append((name, str(tally.passed), str(tally.warned), str(tally.failed)))
        lines = [
            f"**Status: {self.verdict()}**" + (f" — build `{self.build_id}`" if self.build_id else ""),
            "",
            *("| " + " | ".join(r) + " |" for r in rows),
            "",
            f"Warned GX rules are the paper's own discrepancies registered in "
            f"`expectations/known_discrepancies.yml` ({self.registered_discrepancies} registered cells "
            "found): findings about the paper, never blocking.",
            "",
            f"{_sentence(self.claims_words())}. Contradicted claims are findings about the paper, "
            "not failed checks.",
            "",
            f"`{self.line()}`",
        ]
        return "\n".join(lines)


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    """The columns of ``schema.table`` in the connection's database (empty if it does not exist)."""
    rows = con.execute(
        "select column_name from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {str(r[0]) for r in rows}


def _dbt_tests(con: duckdb.DuckDBPyConnection) -> Tally | None:
    if not _has(con, "quality", "dbt_test_results"):
        return None
    counts = {"passed": 0, "warned": 0, "failed": 0, "skipped": 0}
    rows = con.execute("select status, count(*) from quality.dbt_test_results group by 1").fetchall()
    for status, n in rows:
        counts[DBT_STATUS.get(str(status), "skipped")] += int(n)
    return Tally(**counts)


def _gx_rules(con: duckdb.DuckDBPyConnection) -> Tally | None:
    if not _has(con, "quality", "check_results"):
        return None
    counts = dict(con.execute("select status, count(*) from quality.check_results group by 1").fetchall())
    return Tally(*(int(counts.get(k, 0)) for k in ("passed", "warned", "failed")))


def _claims(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int] | None, dict[str, int]]:
    columns = _has(con, "quality", "claims")
    if not columns:
        return None, {}
    verdicts = dict(con.execute("select verdict, count(*) from quality.claims group by 1").fetchall())
    coverage: dict[str, int] = {}
    if "coverage" in columns:
        coverage = {
            str(k): int(v)
            for k, v in con.execute("select coverage, count(*) from quality.claims group by 1").fetchall()
        }
    return {v: int(verdicts.get(v, 0)) for v in VERDICTS}, coverage


def _registered(con: duckdb.DuckDBPyConnection) -> int:
    if not _has(con, "quality", "paper_discrepancies"):
        return 0
    row = con.execute("select count(*) from quality.paper_discrepancies where status = 'known'").fetchone()
    return int(row[0]) if row else 0


def _build_id(con: duckdb.DuckDBPyConnection) -> str | None:
    if not _has(con, "meta", "build_info"):
        return None
    row = con.execute("select build_id from meta.build_info limit 1").fetchone()
    return str(row[0]) if row else None


def build_status(con: duckdb.DuckDBPyConnection) -> BuildStatus:
    """The status of the build in ``con``'s database (a build file or the published file)."""
    claims, coverage = _claims(con)
    return BuildStatus(
        build_id=_build_id(con),
        dbt_tests=_dbt_tests(con),
        gx_rules=_gx_rules(con),
        claims=claims,
        coverage=coverage,
        registered_discrepancies=_registered(con),
    )


# ------------------------------------------------------------------------------- in the report files

BEGIN, END = "<!-- kzkr:status -->", "<!-- /kzkr:status -->"
_ANCHORS = {".md": "# Data-quality report\n", ".html": "<h1>Data-quality report</h1>"}


def status_html(status: BuildStatus) -> str:
    import html

    t = [("dbt tests", status.dbt_tests), ("GX rules", status.gx_rules)]
    rows = "".join(
        f"<tr><td>{name}</td><td class='num'>{x.passed}</td><td class='num'>{x.warned}</td>"
        f"<td class='num'>{x.failed}</td></tr>"
        for name, x in t
        if x is not None
    )
    return (
        f"<h2>Status</h2><p class='verdict {'failed' if status.blocked else 'passed'}'>"
        f"Status: {html.escape(status.verdict())}</p>"
        f"<table><thead><tr><th></th><th>passed</th><th>warned</th><th>failed</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<p>Warned GX rules are the paper's own discrepancies registered in "
        f"<code>expectations/known_discrepancies.yml</code>: findings about the paper, never blocking.</p>"
        f"<p>{html.escape(_sentence(status.claims_words()))}. Contradicted claims are findings about "
        "the paper, not failed checks.</p>"
        f"<p><code class='status-line'>{html.escape(status.line())}</code></p>"
    )


GX_DOCS = "gx/index.html"  # relative to the reports directory (pipelines/audit/quality/datadocs.py)


def _links(suffix: str, gx_docs: bool) -> str:
    if not gx_docs:
        return ""
    what = "Great Expectations' own Data Docs of this build's validations"
    if suffix == ".md":
        return f"\n{what}: [{GX_DOCS}]({GX_DOCS})\n"
    return f"<p>{what}: <a href='{GX_DOCS}'>{GX_DOCS}</a></p>"


def with_status(text: str, suffix: str, status: BuildStatus, *, gx_docs: bool = False) -> str:
    """``text`` (a report, Markdown or HTML) with its status section replaced or inserted."""
    block = (status.markdown() + "\n" if suffix == ".md" else status_html(status)) + _links(suffix, gx_docs)
    section = f"{BEGIN}\n## Status\n\n{block}{END}\n" if suffix == ".md" else f"{BEGIN}{block}{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        return head + section + rest.split(END, 1)[1].lstrip("\n" if suffix == ".md" else "")
    anchor = _ANCHORS[suffix]
    if anchor in text:
        return text.replace(anchor, anchor + ("\n" if suffix == ".md" else "") + section, 1)
    return section + text


def refresh_reports(reports_dir: Path, run_id: str, status: BuildStatus) -> list[Path]:
    """Write the status section into the run's reports (and ``latest.*`` if they are this run's)."""
    written = []
    gx_docs = (reports_dir / GX_DOCS).exists()
    for suffix in (".md", ".html"):
        own = reports_dir / f"quality-{run_id}{suffix}"
        targets = [own]
        latest = reports_dir / f"latest{suffix}"
        if own.exists() and latest.exists() and run_id in latest.read_text(encoding="utf-8"):
            targets.append(latest)
        for path in targets:
            if not path.exists():
                continue
            tmp = path.with_name(f".{path.name}.{os.getpid()}.status")
            text = with_status(path.read_text(encoding="utf-8"), suffix, status, gx_docs=gx_docs)
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
            written.append(path)
    return written


def refresh_from_file(db: Path, reports_dir: Path, run_id: str) -> BuildStatus:
    """The status of the build file ``db``, written into the run's reports. Returns it."""
    with duckdb.connect(str(db), read_only=True) as con:
        status = build_status(con)
    refresh_reports(reports_dir, run_id, status)
    return status
