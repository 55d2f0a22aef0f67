"""Automation: the warehouse job, its daily schedule and the raw-file sensor."""

from __future__ import annotations

import hashlib
from functools import cache

import dagster as dg

from pipelines.lib.hashing import hash_tree
from pipelines.settings import Settings

JOB_NAME = "warehouse_job"
# Runs carrying this tag are limited to one at a time by the instance's run queue
# (pipelines/cli.py writes dagster.yaml for `make ui` and `kzkr build`).
CONCURRENCY_TAG = "kzkr/warehouse"


def raw_dir_state(settings: Settings) -> str:
    """A cheap fingerprint of raw/: names, sizes and modification times of every file."""
    digest = hashlib.sha256()
    hash_tree(digest, settings.raw_dir, "**/*", contents=False)
    return digest.hexdigest()


@cache
def warehouse_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=JOB_NAME,
        selection=dg.AssetSelection.all(),
        description="Ingest raw/, dbt build, quality checks, publish warehouse/kzkr.duckdb.",
        executor_def=dg.in_process_executor,  # one DuckDB writer at a time: steps run one after another
        tags={CONCURRENCY_TAG: "build"},
    )


def daily_build() -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="daily_warehouse_build",
        job=warehouse_job(),
        cron_schedule="0 3 * * *",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Rebuilds and republishes the warehouse every day at 03:00 UTC.",
    )


@dg.sensor(
    name="raw_files_changed",
    job_name=JOB_NAME,
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


@cache
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[warehouse_job()], schedules=[daily_build()], sensors=[raw_files_changed])
