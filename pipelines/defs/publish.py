"""Publish: ``warehouse/published``, the audited build made the published warehouse atomically."""

# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

from collections.abc import Sequence
from functools import cache

import dagster as dg

from pipelines.audit.status import refresh_from_file
from pipelines.lib.progress import progress
from pipelines.publish.warehouse import FINGERPRINT_TAG, fingerprint, publish, stamp_build
from pipelines.resources import PartialRunError, WarehouseResource, run_is_partial
from pipelines.settings import Settings
from pipelines.summary import mart_row_counts
from pipelines.transform.project import mart_keys

PUBLISHED_KEY = dg.AssetKey(["warehouse", "published"])


def _report_links(settings: Settings) -> dict[str, dg.MetadataValue]:
    """The data-quality report and the figures drawn by this build's checks (reports/)."""
    links: dict[str, dg.MetadataValue] = {}
    for name in ("latest.html", "latest.md"):
        if (settings.reports_dir / name).exists():
            links[f"quality_report_{name.split('.')[1]}"] = dg.MetadataValue.path(
                str(settings.reports_dir / name)
            )
    for png in sorted((settings.reports_dir / "figures").glob("*.png")):
        links[f"figure_{png.stem}"] = dg.MetadataValue.path(str(png))
    return links


def published_asset(deps: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publish step, downstream of ``deps`` (every mart: their blocking checks gate it)."""

    @dg.asset(
        key=PUBLISHED_KEY,
        group_name="publish",
        deps=list(deps),
        description="Publishes the audited build atomically as warehouse/kzkr.duckdb (write-audit-publish); "
        "the previous build is kept under warehouse/history/ for `kzkr rollback`. Only a run of the "
        "whole warehouse publishes.",
        kinds={"duckdb"},
    )
    def published(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        if run_is_partial(context):
            raise PartialRunError(
                description="not published: this run materializes only part of the warehouse, and only a "
                "build of every asset is published (the marts it did not rebuild would not match raw/). "
                'Use "Materialize all" (or `make run`); the published warehouse is unchanged.'
            )
        settings = warehouse.settings()
        build_db = settings.build_db(context.run.run_id)
        # `kzkr build` tags the run with the fingerprint it took before building; a run started
        # elsewhere (the UI, the schedule, the sensor) takes it here.
        fp = context.run.tags.get(FINGERPRINT_TAG) or fingerprint(settings)
        build_id = stamp_build(build_db, run_id=context.run.run_id, fp=fp)
        status = refresh_from_file(build_db, settings.reports_dir, context.run.run_id)  # one status
        with warehouse.connect(build_db, read_only=True) as con:
            counts = dict(mart_row_counts(con))
        result = publish(settings, build_db)
        progress(f"  publish  {result.published} (build {build_id})")
        return dg.MaterializeResult(
            metadata={
                "build_id": build_id,
                "path": dg.MetadataValue.path(str(result.published)),
                "archived_previous": str(result.archived or ""),
                "fingerprint": fp,
                "rows": dg.MetadataValue.json(counts),
                "status": dg.MetadataValue.text(status.line()),
                "summary": dg.MetadataValue.md(status.markdown()),
                **_report_links(settings),
            }
        )

    return published


@cache
def defs() -> dg.Definitions:
    from pipelines.audit.claims.asset import CLAIMS_KEY  # the claims write quality.claims before publish

    return dg.Definitions(assets=[published_asset([*mart_keys(), CLAIMS_KEY])])
