"""Audit: the Great Expectations suites of ``expectations/`` as Dagster asset checks on the marts, and
the claims of the paper's prose.

One ``@multi_asset_check`` (``quality_gate``) runs every suite once per run, so Great Expectations is
imported once, inside the check and never when the definitions load. It has one blocking
``AssetCheckSpec`` per rule, on the mart asset the rule checks (asset keys ``[schema, model]``):

- passed: every expectation of the rule held;
- warned (reported as passed, severity WARN, description ``warned: …``): the only failures are paper
  discrepancies registered in ``expectations/known_discrepancies.yml`` with the same stated and computed
  values (or a register entry of the rule no longer occurs); never shown as a blocking failure;
- ERROR: anything else. A blocking check that fails with ERROR stops the run before
  ``warehouse/published``: nothing is published.

Before publishing, the check writes ``quality.check_results`` and ``quality.paper_discrepancies`` into
the run's build file and the report ``<warehouse>/reports/quality-<run_id>.md|.html`` (+ ``latest.*``).
"""

# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster import AssetCheckExecutionContext

from pipelines.audit.quality.datadocs import render_data_docs
from pipelines.audit.quality.gate import FAILED, PASSED, WARNED, RuleOutcome, run_gate, write_results
from pipelines.audit.quality.report import ReportPaths, write_reports
from pipelines.audit.quality.spec import Catalog, load_catalog
from pipelines.audit.status import refresh_from_file
from pipelines.lib.markdown import md_cell
from pipelines.lib.pause import pause_point
from pipelines.lib.progress import progress

CHECK_NAME = "quality_gate"
MAX_METADATA_ROWS = 30


def _spec(rule_id: str, catalog: Catalog) -> dg.AssetCheckSpec:
    rule = catalog.rules[rule_id]
    return dg.AssetCheckSpec(
        name=rule.id,
        asset=dg.AssetKey(list(rule.asset)),
        description=f"{rule.paper_table}: {rule.description}",
        blocking=True,
        metadata={
            "suite": rule.suite,
            "batch": rule.batch,
            "paper_table": rule.paper_table,
            "expectations": dg.MetadataValue.json(
                [
                    {"type": e.type, "kwargs": e.kwargs, "description": e.description}
                    for e in rule.expectations
                ]
            ),
        },
    )


def failing_rows_markdown(result: RuleOutcome, limit: int = MAX_METADATA_ROWS) -> str:
    rows = result.failing_rows
    if not rows:
        return "No failing rows." if result.passed else "No row-level detail (see observed)."
    lines = [
        "| row | column / values | stated | computed | register | source_ref |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows[:limit]:
        values = ", ".join(f"{k}={v}" for k, v in row.values.items())
        register = row.register_status or ""
        if row.note:
            register = f"{register} ({row.note})" if register else row.note
        lines.append(
            "| "
            + " | ".join(
                md_cell(c)
                for c in (
                    row.row_label,
                    row.column_label or values,
                    "" if row.stated is None else f"{row.stated:g}",
                    "" if row.computed is None else f"{row.computed:g}",
                    register,
                    row.source_ref or "",
                )
            )
            + " |"
        )
    if len(rows) > limit:
        lines.append(f"\n… and {len(rows) - limit} more (see the report file).")
    return "\n".join(lines)


def check_result(
    result: RuleOutcome, paths: ReportPaths | None, data_docs: Path | None = None
) -> dg.AssetCheckResult:
    metadata: dict[str, Any] = {
        "observed": result.observed,
        "expected": result.expected,
        "rows_checked": dg.MetadataValue.int(result.rows_checked),
        "failing_rows": dg.MetadataValue.md(failing_rows_markdown(result)),
        "n_failing_rows": dg.MetadataValue.int(len(result.failing_rows)),
        "known_discrepancies": dg.MetadataValue.int(result.n_known),
        "unregistered_discrepancies": dg.MetadataValue.int(result.n_unregistered),
        "status": result.status,
        "paper_table": result.rule.paper_table,
    }
    if result.stale_entries:
        metadata["register_entries_not_found"] = dg.MetadataValue.json(
            [
                {"row": e.row, "column": e.column, "stated": e.stated, "computed": e.computed}
                for e in result.stale_entries
            ]
        )
    if paths is not None:
        metadata["report"] = dg.MetadataValue.path(str(paths.markdown))
        metadata["report_html"] = dg.MetadataValue.path(str(paths.html))
    if data_docs is not None:
        metadata["gx_data_docs"] = dg.MetadataValue.path(str(data_docs))
    # A rule whose only failures are registered paper discrepancies is *warned*: a finding about the
    # paper, not a failure of the build. Dagster knows only passed / failed, and shows a failed check
    # of a blocking spec as a blocking failure; so a warned rule is reported as passed, its status and
    # discrepancies in the description and metadata (the UI shows "warned: …").
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(list(result.rule.asset)),
        check_name=result.rule.id,
        passed=result.status != FAILED,
        severity=dg.AssetCheckSeverity.WARN if result.status == WARNED else dg.AssetCheckSeverity.ERROR,
        description=f"warned: {result.summary}" if result.status == WARNED else result.summary,
        metadata=metadata,
    )


def _figures(build_db: Path, reports_dir: Path) -> list[Any]:
    """The redrawn figures and table trends, embedded in the report (pipelines/audit/figures.py)."""
    from pipelines.audit.figures import render_figures

    with duckdb.connect(str(build_db), read_only=True) as con:
        return render_figures(con, reports_dir / "figures")


def build_quality_checks(catalog: Catalog | None = None) -> list[dg.AssetChecksDefinition]:
    catalog = catalog or load_catalog()
    specs = [_spec(rule_id, catalog) for rule_id in sorted(catalog.rules)]

    @dg.multi_asset_check(
        specs=specs,
        name=CHECK_NAME,
        description="Great Expectations suites of expectations/ on the marts of this run's build file: sums "
        "and percentages against the paper, the bureau's identities, ranges, types, grain and completeness. "
        "Writes quality.check_results, quality.paper_discrepancies and the report before publishing.",
        required_resource_keys={"warehouse"},
        can_subset=True,  # materializing one mart runs the gate and reports that mart's rules
    )
    def quality_gate(context: AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        warehouse = context.resources.warehouse
        settings = warehouse.settings()
        run_id = context.run.run_id
        build_db = warehouse.build_file(context)
        pause_point("checks")  # test hook (tests/test_crash_safety.py): dbt done, the gate about to run
        suite_results: list[Any] = []
        outcome = run_gate(build_db, run_id=run_id, catalog=catalog, suite_results=suite_results)
        write_results(build_db, outcome)
        paths = write_reports(settings.reports_dir, outcome, figures=_figures(build_db, settings.reports_dir))
        data_docs = render_data_docs(suite_results, settings.reports_dir, run_id)  # GX's own Data Docs
        refresh_from_file(build_db, settings.reports_dir, run_id)  # the build's status section
        c = outcome.counts
        progress(
            f"  checks   {len(outcome.results)} GX rules: {c[PASSED]} passed, "
            f"{c[WARNED]} warned, {c[FAILED]} failed; report {paths.markdown}"
        )
        selected = context.selected_asset_check_keys
        for result in outcome.results:
            check = check_result(result, paths, data_docs)
            if dg.AssetCheckKey(check.asset_key, check.check_name) not in selected:
                continue
            if result.status == FAILED:
                context.log.error(f"quality check {result.rule.id} failed: {result.summary}")
            yield check

    return [quality_gate]


@cache
def quality_checks() -> list[dg.AssetChecksDefinition]:
    return build_quality_checks()


@cache
def claims_asset() -> dg.AssetsDefinition:
    """``quality/claims`` (pipelines/audit/claims/asset.py), upstream of the publish step."""
    from pipelines.audit.claims.asset import build_claims_asset

    return build_claims_asset()


@cache
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[claims_asset()], asset_checks=quality_checks())
