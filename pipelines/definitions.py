"""The Dagster code location: assets, checks, the warehouse job, its schedule and its raw-file sensor."""

from __future__ import annotations

import hashlib

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.assets import INGEST_ASSETS, WarehouseResource, kzkr_dbt_assets, published_warehouse
from pipelines.audit.claims.asset import build_claims_asset
from pipelines.checks import QUALITY_CHECKS
from pipelines.settings import Settings
from pipelines.transform.project import DBT_EXECUTABLE, dbt_project

JOB_NAME = "warehouse_job"
# Runs carrying this tag are limited to one at a time by the instance's run queue
# (see pipelines/instance.py, which writes dagster.yaml for `make ui` and `kzkr build`).
CONCURRENCY_TAG = "kzkr/warehouse"

warehouse_job = dg.define_asset_job(
    name=JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Ingest raw/, dbt build, quality checks, publish warehouse/kzkr.duckdb.",
    executor_def=dg.in_process_executor,  # one DuckDB writer at a time: steps run one after another
    tags={CONCURRENCY_TAG: "build"},
)

daily_build = dg.ScheduleDefinition(
    name="daily_warehouse_build",
    job=warehouse_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Rebuilds and republishes the warehouse every day at 03:00 UTC.",
)


def raw_dir_state(settings: Settings) -> str:
    """A cheap fingerprint of raw/: names, sizes and modification times of every file."""
    digest = hashlib.sha256()
    if settings.raw_dir.exists():
        for p in sorted(settings.raw_dir.rglob("*")):
            if p.is_file():
                st = p.stat()
                digest.update(f"{p.relative_to(settings.raw_dir)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@dg.sensor(
    name="raw_files_changed",
    job=warehouse_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a warehouse build when a file under raw/ is added, removed or changed.",
)
def raw_files_changed(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    state = raw_dir_state(Settings.from_env())
    if context.cursor is None:
        # First evaluation: remember the state; the schedule or `kzkr build` made the first build.
        return dg.SensorResult(skip_reason="recorded the current state of raw/", cursor=state)
    if state == context.cursor:
        return dg.SkipReason("raw/ unchanged")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=state)], cursor=state)


defs = dg.Definitions(
    assets=[*INGEST_ASSETS, kzkr_dbt_assets, build_claims_asset(), published_warehouse],
    asset_checks=[*QUALITY_CHECKS],
    jobs=[warehouse_job],
    schedules=[daily_build],
    sensors=[raw_files_changed],
    resources={
        "dbt": DbtCliResource(project_dir=dbt_project(), dbt_executable=DBT_EXECUTABLE),
        "warehouse": WarehouseResource(),
    },
)
