"""Dagster assets: ingest (one per raw file), dbt, publish."""

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.audit.claims.asset import CLAIMS_KEY
from pipelines.audit.status import refresh_from_file
from pipelines.ingest.specs import RAW_FILES, RawFile
from pipelines.ingest.validate import RawInputError, connect, load_table
from pipelines.publish.warehouse import FINGERPRINT_TAG, fingerprint, pause_point, publish, stamp_build
from pipelines.settings import Settings
from pipelines.summary import mart_row_counts
from pipelines.transform.project import (
    MART_SCHEMAS,
    KzkrTranslator,
    dbt_database_path,
    dbt_project,
    ensure_manifest,
    prune_run_targets,
)


class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where the raw files are read from and the warehouse is built and published."""

    raw_dir: str = ""
    warehouse_dir: str = ""

    def settings(self) -> Settings:
        base = Settings.from_env()
        return Settings(
            raw_dir=Path(self.raw_dir).absolute() if self.raw_dir else base.raw_dir,
            warehouse_dir=Path(self.warehouse_dir).absolute() if self.warehouse_dir else base.warehouse_dir,
        )


def progress(message: str) -> None:
    """One line of build progress on stdout (the CLI shows it; the UI keeps it in the run's logs)."""
    print(message, file=sys.__stdout__, flush=True)


def _ingest_asset(spec: RawFile) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["raw", spec.name]),
        group_name="raw",
        description=f"{spec.description}\n\nLoaded from `{spec.label}`"
        + (" (every release file present, each with its sidecar)" if spec.per_release else "")
        + " with its explicit schema (pipelines/ingest/specs.py); rejects bad input naming file, line and "
        "column.",
        kinds={"duckdb", "csv"},
        metadata={"file": spec.label, "key": ", ".join(spec.key)},
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = warehouse.settings()
        build_db = settings.build_db(context.run_id)
        build_db.parent.mkdir(parents=True, exist_ok=True)
        with connect(build_db) as con:
            try:
                results = load_table(con, spec, settings.raw_dir)
            except RawInputError as exc:
                raise dg.Failure(
                    description=str(exc),
                    metadata={"file": exc.file, "line": exc.line or 0, "column": exc.column or ""},
                ) from exc
            pause_point("ingest")  # test hook (tests/test_crash_safety.py): build file open, mid-ingest
        for res in results:
            progress(f"  ingest   {res.file:<58} {res.rows:>6} rows")
        files = {res.file: {"rows": res.rows, "sha256": res.sha256} for res in results}
        metadata: dict[str, Any] = {
            "rows": dg.MetadataValue.int(sum(res.rows for res in results)),
            "file": ", ".join(files),
            "table": f"raw.{spec.name}",
        }
        if len(results) == 1:
            metadata["sha256"] = results[0].sha256
        else:
            metadata["files"] = dg.MetadataValue.json(files)
        return dg.MaterializeResult(metadata=metadata)

    _ingest.__name__ = f"ingest_{spec.name}"
    return _ingest


INGEST_ASSETS = [_ingest_asset(spec) for spec in RAW_FILES]

ensure_manifest()


@dbt_assets(
    manifest=dbt_project().manifest_path,
    project=dbt_project(),
    dagster_dbt_translator=KzkrTranslator(),
    name="kzkr_dbt",
)
def kzkr_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
) -> Iterator[Any]:
    """`dbt build` (seeds, models, tests) against this run's build file."""
    settings = warehouse.settings()
    build_db = settings.build_db(context.run_id)
    previous = os.environ.get("KZKR_BUILD_DB")
    # Under `kzkr build` dbt's own log goes to a file (progress lines stay readable); in the UI it
    # stays in the run's captured stdout.
    log_path = settings.warehouse_dir / "logs" / f"dbt-{context.run_id}.log"
    quiet = os.environ.get("KZKR_CLI") == "1"
    try:
        with contextlib.ExitStack() as stack:
            os.environ["KZKR_BUILD_DB"] = str(stack.enter_context(dbt_database_path(build_db)))
            if quiet:
                log_path.parent.mkdir(parents=True, exist_ok=True)
                stack.enter_context(contextlib.redirect_stdout(stack.enter_context(log_path.open("w"))))
                progress(f"  dbt      build (log: {log_path})")
            yield from _stream_dbt_build(context, dbt)
    finally:
        if previous is None:
            os.environ.pop("KZKR_BUILD_DB", None)
        else:
            os.environ["KZKR_BUILD_DB"] = previous
        prune_run_targets()


def _stream_dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    invocation = dbt.cli(["build"], context=context, raise_on_error=False)
    models = tests = failed = 0
    for event in invocation.stream():
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            models += 1
            key = getattr(event, "output_name", None) or event.asset_key.to_user_string()
            progress(f"  dbt      {key}")
            if models == 1:
                pause_point("dbt")  # test hook: dbt is mid-build, its subprocess still running
        elif isinstance(event, dg.AssetCheckResult | dg.AssetCheckEvaluation):
            tests += 1
            if not event.passed:
                failed += 1
                progress(f"  dbt test FAILED {event.check_name} on {event.asset_key.to_user_string()}")
        yield event
    progress(f"  dbt      {models} nodes built, {tests} tests run, {failed} failed")
    if not invocation.is_successful():
        raise dg.Failure(description="dbt build failed: " + _dbt_failures(invocation))


def _dbt_failures(invocation: Any) -> str:
    """The failing dbt nodes and their messages, from run_results.json."""
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except Exception:  # no artifact: dbt failed before running anything (e.g. a parse error)
        return str(invocation.get_error())
    bad = [r for r in results if r.get("status") in ("error", "fail", "runtime error")]
    if not bad:
        return str(invocation.get_error())
    return "; ".join(f"{r['unique_id']}: {(r.get('message') or '').strip()[:300]}" for r in bad[:10])


MART_KEYS = sorted(
    (k for k in kzkr_dbt_assets.keys if k.path[0] in MART_SCHEMAS), key=lambda k: k.to_user_string()
)


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


@dg.asset(
    key=dg.AssetKey(["warehouse", "published"]),
    group_name="publish",
    deps=[*MART_KEYS, CLAIMS_KEY],  # the claims write quality.claims into the build before it is published
    description="Publishes the audited build atomically as warehouse/kzkr.duckdb (write-audit-publish); "
    "the previous build is kept under warehouse/history/ for `kzkr rollback`.",
    kinds={"duckdb"},
)
def published_warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    settings = warehouse.settings()
    build_db = settings.build_db(context.run_id)
    # `kzkr build` tags the run with the fingerprint it took before building; a run started
    # elsewhere (the UI, the schedule, the sensor) takes it here.
    fp = context.run.tags.get(FINGERPRINT_TAG) or fingerprint(settings)
    build_id = stamp_build(build_db, run_id=context.run_id, fp=fp)
    status = refresh_from_file(build_db, settings.reports_dir, context.run_id)  # one status, every surface
    with duckdb.connect(str(build_db), read_only=True) as con:
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
