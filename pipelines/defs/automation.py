"""Automation: the warehouse job, its schedule, the raw-file sensor, alerts and freshness.

- ``warehouse_job`` (every asset, in one process) and its schedule ``daily_warehouse_build``
  (``KZKR_SCHEDULE_CRON``, UTC);
- ``raw_files_changed``: one build per burst of edits under raw/, once the files have been quiet
  for ``KZKR_SENSOR_QUIET_SECONDS`` (the debounce: pipelines/ingest/watch.py);
- ``alert_on_run_failure``: a run-failure sensor appending one line per failed blocking check and
  one per failed run to ``<warehouse>/alerts/alerts.jsonl`` (and POSTing it to ``KZKR_ALERT_WEBHOOK``);
- ``published_is_fresh``: an asset check on ``warehouse/published`` that warns when the published
  build is older than ``KZKR_FRESHNESS_HOURS``; it runs in every build and, between builds, the
  sensor ``published_freshness`` runs it (job ``freshness_check_job``) when freshness changes.

Intervals, cron and limits are read from :class:`pipelines.settings.Automation` when the code
location loads.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import cache

import dagster as dg

from pipelines.ingest.watch import debounce, raw_dir_state
from pipelines.publish.alerts import Alert, raise_alert
from pipelines.publish.status import OK, WARN, Freshness, failed_run_alerts, freshness
from pipelines.publish.warehouse import published_info
from pipelines.settings import Automation, Settings

JOB_NAME = "warehouse_job"
# Runs carrying this tag are limited to one at a time by the instance's run queue
# (pipelines/cli.py writes dagster.yaml for `make ui` and `kzkr build`).
CONCURRENCY_TAG = "kzkr/warehouse"
PUBLISHED_KEY = dg.AssetKey(["warehouse", "published"])
FRESHNESS_CHECK = "published_is_fresh"
FRESHNESS_JOB = "freshness_check_job"


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
    cron = Automation.from_env().schedule_cron
    return dg.ScheduleDefinition(
        name="daily_warehouse_build",
        job=warehouse_job(),
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Rebuilds and republishes the warehouse on the cron `{cron}` (UTC; KZKR_SCHEDULE_CRON).",
    )


def _raw_files_changed() -> dg.SensorDefinition:
    auto = Automation.from_env()

    @dg.sensor(
        name="raw_files_changed",
        job_name=JOB_NAME,
        minimum_interval_seconds=auto.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts one warehouse build when files under raw/ were added, removed or changed and "
        f"have then stayed unchanged for {auto.sensor_quiet_seconds:g} s (KZKR_SENSOR_QUIET_SECONDS): "
        "a burst of edits starts one build, an edit undone in time none.",
    )
    def raw_files_changed(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        state = raw_dir_state(Settings.from_env().raw_dir)
        quiet = Automation.from_env().sensor_quiet_seconds
        decision = debounce(context.cursor, state, time.time(), quiet)
        if decision.request:
            return dg.SensorResult(
                run_requests=[dg.RunRequest(run_key=decision.run_key)], cursor=decision.cursor
            )
        return dg.SensorResult(skip_reason=decision.reason, cursor=decision.cursor)

    return raw_files_changed


raw_files_changed = _raw_files_changed()


def _record(alert: Alert, log: object) -> None:
    settings, webhook = Settings.from_env(), Automation.from_env().alert_webhook
    outcome = raise_alert(settings.warehouse_dir, alert, webhook)
    if outcome.webhook_error and hasattr(log, "warning"):
        log.warning(f"alert not delivered: {outcome.webhook_error}")


def alert_on_run_failure() -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="alert_on_run_failure",
        minimum_interval_seconds=Automation.from_env().sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="For every failed run of this code location: one line per failed blocking check and "
        "one for the run in <warehouse>/alerts/alerts.jsonl, each POSTed to KZKR_ALERT_WEBHOOK where set.",
    )
    def _sensor(context: dg.RunFailureSensorContext) -> None:
        warehouse_dir = Settings.from_env().warehouse_dir
        for alert in failed_run_alerts(context.instance, context.dagster_run.run_id, warehouse_dir):
            _record(alert, context.log)

    return _sensor


def _freshness_now() -> tuple[dict[str, object] | None, Freshness]:
    info = published_info(Settings.from_env().published)
    built_at = info["built_at"] if info and isinstance(info["built_at"], datetime) else None
    return info, freshness(built_at, datetime.now(UTC), Automation.from_env().freshness_hours)


@cache
def published_is_fresh() -> dg.AssetChecksDefinition:
    hours = Automation.from_env().freshness_hours

    @dg.asset_check(
        asset=PUBLISHED_KEY,
        name=FRESHNESS_CHECK,
        blocking=False,
        description=f"WARN when the published build is older than {hours:g} hours (KZKR_FRESHNESS_HOURS): "
        "nothing has been published successfully since.",
    )
    def _check() -> dg.AssetCheckResult:
        info, fresh = _freshness_now()
        return dg.AssetCheckResult(
            passed=fresh.status == OK,
            severity=dg.AssetCheckSeverity.WARN,
            description=fresh.describe(),
            metadata={
                "build_id": str(info["build_id"]) if info else "",
                "age_hours": -1.0 if fresh.age_hours is None else round(fresh.age_hours, 3),
                "limit_hours": fresh.limit_hours,
            },
        )

    return _check


@cache
def freshness_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=FRESHNESS_JOB,
        selection=dg.AssetSelection.checks(published_is_fresh()),
        description="Evaluates only the freshness check of warehouse/published (reads the published file).",
    )


def published_freshness() -> dg.SensorDefinition:
    @dg.sensor(
        name="published_freshness",
        job_name=FRESHNESS_JOB,
        minimum_interval_seconds=max(60, Automation.from_env().sensor_interval_seconds),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Runs the freshness check of warehouse/published when the published build turns stale "
        "(and records one 'published build is stale' alert per stale build).",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        info, fresh = _freshness_now()
        key = f"{fresh.status}:{info['build_id'] if info else ''}"
        if key == context.cursor:
            return dg.SensorResult(skip_reason=f"unchanged: {fresh.describe()}", cursor=key)
        if fresh.status != WARN or info is None:
            return dg.SensorResult(skip_reason=fresh.describe(), cursor=key)
        _record(
            Alert(
                run_id=str(info["run_id"]),
                job=FRESHNESS_JOB,
                trigger="sensor",
                what="published build is stale",
                error=f"build {info['build_id']}: {fresh.describe()}",
            ),
            context.log,
        )
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"{key}-{int(time.time())}")], cursor=key)

    return _sensor


@cache
def defs() -> dg.Definitions:
    return dg.Definitions(
        jobs=[warehouse_job(), freshness_job()],
        schedules=[daily_build()],
        sensors=[raw_files_changed, alert_on_run_failure(), published_freshness()],
        asset_checks=[published_is_fresh()],
    )
