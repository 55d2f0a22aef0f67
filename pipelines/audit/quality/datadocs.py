"""Great Expectations' own Data Docs of a build's validations, in ``<warehouse>/reports/gx/``.

The quality gate validates each batch with its suite (pipelines/audit/quality/engine.py) and keeps
GX's validation results; :func:`render_data_docs` puts them into the validation-results store of an
ephemeral GX context with a filesystem Data Docs site and lets GX build the site: one page per
suite's expectations and per validation, and an index. The site is built in a hidden directory and
then swapped in place of the previous build's, so ``reports/gx/index.html`` is always one build's.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SITE = "kzkr"


def data_docs_dir(reports_dir: Path) -> Path:
    return reports_dir / "gx"


def render_data_docs(suite_results: Sequence[tuple[Any, Any]], reports_dir: Path, run_id: str) -> Path | None:
    """Build GX's Data Docs of ``suite_results`` ((suite, validation result) pairs of one run).
    Returns the site's index.html, or None if there is nothing to render."""
    if not suite_results:
        return None
    final = data_docs_dir(reports_dir)
    tmp = reports_dir / f".gx-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        context = gx.get_context(mode="ephemeral")
        context.add_data_docs_site(
            site_name=SITE,
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(tmp)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        run = RunIdentifier(run_name=run_id, run_time=datetime.now(UTC))
        for suite, result in suite_results:
            context.suites.add(suite)
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
                run_id=run,
                batch_identifier=suite.name.rsplit(".", 1)[-1],
            )
            context.validation_results_store.set(key, result)
        context.build_data_docs(site_names=[SITE])
    old = reports_dir / f".gx-old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return final / "index.html"
