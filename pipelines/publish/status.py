"""`kzkr status`: the published build and its age, the last run of each kind, open alerts, freshness.

What it shows comes from three places, none of them written by it:

- the published file's ``meta.build_info`` (build id, when it was built);
- the Dagster instance the builds record their runs in (``DAGSTER_HOME``, else
  ``<warehouse>/.dagster``): the newest build run of each kind — ``cli`` (``kzkr build`` / ``make
  run``), ``schedule``, ``sensor``, ``ui`` (the Dagster UI: Materialize, the launchpad, backfills);
- ``<warehouse>/alerts/alerts.jsonl``: an alert is *open* while no build has been published since.

Freshness: the published build is ``OK`` while it is younger than the freshness limit
(``KZKR_FRESHNESS_HOURS``, default 36), ``WARN`` after; the asset check ``published_is_fresh``
(pipelines/defs/automation.py) uses the same :func:`freshness`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.publish.alerts import Alert, alerts_file, read_alerts

RUN_KINDS = ("cli", "schedule", "sensor", "ui")
TRIGGER_TAG = "kzkr/trigger"  # set by `kzkr build` on its runs
BUILD_JOB = "warehouse_job"
IMPLICIT_JOB_PREFIX = "__ASSET_JOB"  # the UI's "Materialize" runs
PUBLISHED_ASSET = ("warehouse", "published")
OK, WARN, MISSING = "OK", "WARN", "MISSING"


def run_kind(tags: Mapping[str, str]) -> str:
    """Who started a run, from its tags: cli, schedule, sensor, ui, or other."""
    if tags.get("dagster/schedule_name"):
        return "schedule"
    if tags.get("dagster/sensor_name"):
        return "sensor"
    if tags.get(TRIGGER_TAG) == "cli":
        return "cli"
    if tags.get("dagster/from_ui") == "true" or tags.get("dagster/backfill"):
        return "ui"
    return "other"


def is_build_job(job_name: str) -> bool:
    return job_name == BUILD_JOB or job_name.startswith(IMPLICIT_JOB_PREFIX)


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def _age(hours: float) -> str:
    if hours < 1:
        return f"{hours * 60:.0f} min"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


@dataclass(frozen=True)
class Freshness:
    status: str  # OK, WARN or MISSING
    limit_hours: float
    age_hours: float | None = None

    def describe(self) -> str:
        if self.age_hours is None:
            return f"{self.status}: nothing published yet (limit {self.limit_hours:g} h)"
        verb = "within" if self.status == OK else "older than"
        age = _age(self.age_hours)
        return f"{self.status}: last publish {age} ago, {verb} the limit of {self.limit_hours:g} h"


def freshness(built_at: datetime | None, now: datetime, limit_hours: float) -> Freshness:
    """How fresh the published build is: WARN once it is older than ``limit_hours``."""
    if built_at is None:
        return Freshness(MISSING, limit_hours)
    age = (_aware(now) - _aware(built_at)).total_seconds() / 3600
    return Freshness(OK if age <= limit_hours else WARN, limit_hours, age)


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    job: str
    kind: str
    status: str
    started: datetime | None
    published_build: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Status:
    published: Path
    build_id: str | None
    built_at: datetime | None
    fresh: Freshness
    last_runs: dict[str, RunSummary | None]
    open_alerts: list[dict[str, object]]
    alerts_path: Path
    notes: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.fresh.status == OK and not self.open_alerts


def last_run_by_kind(runs: Iterable[RunSummary]) -> dict[str, RunSummary | None]:
    """The newest run of each kind (``runs`` newest first)."""
    last: dict[str, RunSummary | None] = dict.fromkeys(RUN_KINDS)
    for run in runs:
        if run.kind in last and last[run.kind] is None:
            last[run.kind] = run
    return last


def open_alerts(alerts: Iterable[dict[str, object]], since: datetime | None) -> list[dict[str, object]]:
    """Alerts raised after ``since`` (the last publish); all of them when nothing is published."""
    out = []
    for alert in alerts:
        try:
            at = _aware(datetime.fromisoformat(str(alert.get("at"))))
        except ValueError:
            at = None
        if since is None or at is None or at > _aware(since):
            out.append(alert)
    return out


def _failure_text(instance: Any, run_id: str) -> str | None:
    """The first step failure of a run, its whole message on one line."""
    import dagster as dg

    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = entry.get_dagster_event()
        err = event.step_failure_data.error if event.step_failure_data else None
        while err is not None and err.cause is not None and "StepExecutionError" in err.cls_name:
            err = err.cause
        if err is not None and err.message:
            text = " ".join(line.strip() for line in err.message.strip().splitlines() if line.strip())
            for prefix in ("dagster._core.definitions.events.Failure: ", "dagster._core.errors."):
                text = text.removeprefix(prefix)
            return f"{event.step_key}: {text}"
    return None


def failed_run_alerts(instance: Any, run_id: str, warehouse_dir: Path) -> list[Alert]:
    """The alerts of a failed run, from what the instance recorded: one per blocking check that
    failed with ERROR, then one for the run itself (its first step failure)."""
    import dagster as dg

    run = instance.get_run_by_id(run_id)
    if run is None:
        return []
    job, trigger = run.job_name, run_kind(run.tags)
    report = warehouse_dir / "reports" / f"quality-{run_id}.md"
    alerts = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        ev = entry.get_dagster_event().asset_check_evaluation_data
        if ev.passed or ev.severity != dg.AssetCheckSeverity.ERROR or not ev.blocking:
            continue
        where = ev.metadata.get("report")
        alerts.append(
            Alert(
                run_id=run_id,
                job=job,
                trigger=trigger,
                what=f"blocking check failed: {ev.check_name} on {ev.asset_key.to_user_string()}",
                error=ev.description or "",
                report=str(where.value) if where is not None else (str(report) if report.exists() else None),
            )
        )
    error = _failure_text(instance, run_id) or "the run failed before any step failed"
    alerts.append(
        Alert(
            run_id=run_id,
            job=job,
            trigger=trigger,
            what="run failed",
            error=error,
            report=str(report) if report.exists() else None,
        )
    )
    return alerts


def runs_from_instance(dagster_home: Path, limit: int = 200) -> list[RunSummary]:
    """The build runs recorded in the instance at ``dagster_home``, newest first ([] if none)."""
    if not (dagster_home / "dagster.yaml").exists():
        return []
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        published: dict[str, str] = {}
        records = instance.fetch_materializations(dg.AssetKey(list(PUBLISHED_ASSET)), limit=limit).records
        for record in records:
            mat = record.asset_materialization
            build = mat.metadata.get("build_id") if mat else None
            published[record.run_id] = str(build.value) if build is not None else "?"
        out = []
        for run in instance.get_runs(limit=limit):
            if not is_build_job(run.job_name):
                continue
            rec = instance.get_run_record_by_id(run.run_id)
            started = rec.start_time if rec is not None else None
            status = run.status.value
            out.append(
                RunSummary(
                    run_id=run.run_id,
                    job=run.job_name,
                    kind=run_kind(run.tags),
                    status=status,
                    started=datetime.fromtimestamp(started, UTC) if started else None,
                    published_build=published.get(run.run_id),
                    error=_failure_text(instance, run.run_id) if status == "FAILURE" else None,
                )
            )
        return out


def collect_status(
    warehouse_dir: Path,
    published: Path,
    dagster_home: Path,
    limit_hours: float,
    now: datetime | None = None,
) -> Status:
    from pipelines.publish.warehouse import published_info

    now = now or datetime.now(UTC)
    info = published_info(published)
    built_at = info["built_at"] if info and isinstance(info["built_at"], datetime) else None
    notes: list[str] = []
    try:
        runs = runs_from_instance(dagster_home)
    except Exception as exc:  # an instance we cannot read must not hide the rest
        notes.append(f"could not read the Dagster instance at {dagster_home}: {exc}")
        runs = []
    path = alerts_file(warehouse_dir)
    return Status(
        published=published,
        build_id=str(info["build_id"]) if info else None,
        built_at=built_at,
        fresh=freshness(built_at, now, limit_hours),
        last_runs=last_run_by_kind(runs),
        open_alerts=open_alerts(read_alerts(path), built_at),
        alerts_path=path,
        notes=notes,
    )


def _when(ts: datetime | None) -> str:
    return _aware(ts).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "?"


def format_status(status: Status, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    lines = []
    if status.build_id is None:
        lines.append(f"published  none: {status.published} does not exist yet (make run)")
    else:
        age = (now - _aware(status.built_at)).total_seconds() / 3600 if status.built_at else None
        lines.append(
            f"published  build {status.build_id}, built {_when(status.built_at)}"
            + (f" ({_age(age)} ago)" if age is not None else "")
        )
        lines.append(f"           {status.published}")
    lines.append(f"freshness  {status.fresh.describe()}")
    lines.append("last runs")
    for kind, run in status.last_runs.items():
        if run is None:
            lines.append(f"  {kind:<9} none")
            continue
        outcome = run.status + (f", published build {run.published_build}" if run.published_build else "")
        lines.append(f"  {kind:<9} {_when(run.started)}  {outcome}  (run {run.run_id[:8]}, {run.job})")
        if run.error:
            lines.append(f"            {run.error[:200]}")
    n = len(status.open_alerts)
    lines.append(f"alerts     {n} open (raised since the last publish; all in {status.alerts_path})")
    for alert in status.open_alerts[-10:]:
        run = str(alert.get("run_id"))[:8]
        lines.append(f"  {alert.get('at')}  {alert.get('trigger')}  run {run}  {alert.get('what')}")
    lines.extend(f"note       {note}" for note in status.notes)
    return "\n".join(lines)
