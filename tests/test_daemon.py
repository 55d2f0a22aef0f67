"""Unattended runs, as the Dagster daemon of `make ui` starts them.

One scenario (a module fixture and tests that run in file order) on a temporary instance: a copy of
the session's reference warehouse (its published build and the ``.dagster`` instance ``kzkr build``
recorded it in), a private copy of raw/, and ``dagster-daemon run -m pipelines.definitions`` with
short intervals (``KZKR_SENSOR_INTERVAL_SECONDS``, ``KZKR_SENSOR_QUIET_SECONDS``), the schedule's
cron set to one minute shortly after the start (``KZKR_SCHEDULE_CRON``) and alerts posted to a
webhook on 127.0.0.1 (``KZKR_ALERT_WEBHOOK``):

1. the schedule's tick starts a run; while it runs, ``kzkr build --force`` starts too: it waits for
   the warehouse lock, and both finish and publish in turn (the schedule's build is archived in
   ``history/``, the CLI's is published) — and the CLI's dbt reuses the partial parse;
2. a burst of edits under raw/, longer than the sensor's interval, starts exactly one run, after
   the files have been quiet, and that run publishes;
3. a change that breaks a sum (a Table 7 "Total") starts a run that fails and publishes nothing:
   the published file is byte-identical; the run-failure sensor appends its alert lines to
   ``alerts/alerts.jsonl`` and posts each one to the webhook;
4. ``kzkr status`` shows all of it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from conftest import (
    KZKR,
    PUBLISHED_NAME,
    REPO,
    BuiltWarehouse,
    build_info,
    copy_raw,
    kzkr_env,
    sha256_file,
)
from test_alerts import Hook

pytestmark = pytest.mark.e2e

DAEMON = str(Path(sys.executable).with_name("dagster-daemon"))
INTERVAL = 2  # seconds between sensor evaluations
QUIET = 8  # seconds raw/ must stay unchanged before the sensor builds
# The burst lasts longer than the sensor interval of the code before the debounce (30 s), so that
# sensor would have started a build per evaluation that saw a change.
# The old sensor evaluated every 30 s: a burst of more than two of its intervals, started after
# its first evaluation, always had it request builds while the edits were still coming.
BURST_EDITS, BURST_GAP = 16, 4.0
RUN_TIMEOUT = 900.0
SCHEDULE_LEAD = 75  # seconds from the daemon's start to the schedule's one tick (at least)
JOB = "warehouse_job"
SENSOR = "raw_files_changed"
SCHEDULE = "daily_warehouse_build"

T = TypeVar("T")


@dataclass
class Scenario:
    raw: Path
    warehouse: Path
    home: Path
    log: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    hook: Hook
    tick_at: datetime
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def published(self) -> Path:
        return self.warehouse / PUBLISHED_NAME

    def log_tail(self, n: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-n:]

    def wait(self, what: str, probe: Callable[[], T | None], timeout: float = RUN_TIMEOUT) -> T:
        """Poll ``probe`` until it returns a value; fail naming ``what`` (with the daemon's log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"the daemon exited with {self.proc.returncode} waiting for {what}:\n{self.log_tail()}"
                )
            value = probe()
            if value is not None:
                return value
            time.sleep(1.0)
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}:\n{self.log_tail()}")

    def runs(self, tag: str | None = None, value: str | None = None) -> list[Any]:
        """Runs of the warehouse job, oldest first (optionally: with tag ``tag`` = ``value``)."""
        import dagster as dg

        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            runs = list(reversed(instance.get_runs(filters=dg.RunsFilter(job_name=JOB))))
        if tag is not None:
            runs = [r for r in runs if r.tags.get(tag) == value]
        return runs

    def run(self, run_id: str) -> Any:
        import dagster as dg

        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            return instance.get_run_by_id(run_id)

    def sensor_cursor(self, name: str) -> str | None:
        """The cursor the daemon stored for sensor ``name`` (None before its first evaluation)."""
        import dagster as dg
        from dagster._core.scheduler.instigation import InstigatorType

        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
        for state in states:
            data = state.instigator_data
            if state.name == name and data is not None and getattr(data, "cursor", None):
                return str(data.cursor)
        return None

    def created_at(self, run_id: str) -> float:
        """When the run was created (requested), epoch seconds."""
        import dagster as dg

        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            record = instance.get_run_record_by_id(run_id)
        assert record is not None
        created = record.create_timestamp
        return (created if created.tzinfo else created.replace(tzinfo=UTC)).timestamp()

    def finished(self, run_id: str) -> Any | None:
        run = self.run(run_id)
        return run if run is not None and run.is_finished else None

    def published_build_of(self, run_id: str) -> str | None:
        """The build id the run's ``warehouse/published`` materialization recorded, if any."""
        import dagster as dg

        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            records = instance.fetch_materializations(dg.AssetKey(["warehouse", "published"]), limit=100)
        for record in records.records:
            if record.run_id == run_id and record.asset_materialization is not None:
                return str(record.asset_materialization.metadata["build_id"].value)
        return None


def _cron_for(at: datetime) -> str:
    return f"{at.minute} {at.hour} * * *"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=60)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def scenario(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    import shutil

    tmp = tmp_path_factory.mktemp("daemon")
    raw = copy_raw(tmp / "raw")
    wh = tmp / "warehouse"
    shutil.copytree(
        built_warehouse.warehouse_dir,
        wh,
        symlinks=True,
        ignore=shutil.ignore_patterns(".builds", ".build.lock"),
    )
    home = wh / ".dagster"
    assert (home / "dagster.yaml").exists(), f"the reference build recorded no Dagster instance in {home}"
    now = datetime.now(UTC)
    tick_at = (now + timedelta(seconds=SCHEDULE_LEAD + 60)).replace(second=0, microsecond=0)
    hook = Hook()
    env = kzkr_env(
        raw,
        wh,
        {
            "DAGSTER_HOME": str(home),
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "KZKR_SENSOR_INTERVAL_SECONDS": str(INTERVAL),
            "KZKR_SENSOR_QUIET_SECONDS": str(QUIET),
            "KZKR_SCHEDULE_CRON": _cron_for(tick_at),
            "KZKR_ALERT_WEBHOOK": hook.url,
        },
    )
    log = tmp / "daemon.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [DAEMON, "run", "-m", "pipelines.definitions"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    s = Scenario(raw, wh, home, log, env, proc, hook, tick_at)
    try:
        yield s
    finally:
        _stop(proc)
        hook.close()


def _kzkr(s: Scenario, *args: str, extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [KZKR, *args],
        env={**s.env, **(extra or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_schedule_run_and_a_kzkr_build_started_together_both_publish_in_turn(scenario: Scenario) -> None:
    s = scenario
    before = build_info(s.published)[0]
    run = s.wait(
        f"the schedule's tick at {s.tick_at:%H:%M} UTC to start a run",
        lambda: next(
            (r for r in s.runs("dagster/schedule_name", SCHEDULE) if r.status.value == "STARTED"), None
        ),
        timeout=SCHEDULE_LEAD + 240,
    )
    cli = _kzkr(s, "build", "--force", "--wait", str(RUN_TIMEOUT))
    out, err = cli.communicate(timeout=RUN_TIMEOUT)
    done = s.wait("the schedule's run to finish", lambda: s.finished(run.run_id))
    assert done.status.value == "SUCCESS", s.log_tail()
    assert cli.returncode == 0, out[-3000:] + err[-3000:]
    assert "waiting for the warehouse lock: another build is running" in out, out[-3000:]
    scheduled = s.published_build_of(run.run_id)
    cli_build = build_info(s.published)[0]
    assert scheduled is not None, "the schedule's run did not publish"
    assert len({before, scheduled, cli_build}) == 3
    # in turn: the schedule's build was published first, then archived when the CLI's replaced it
    assert (s.warehouse / "history" / f"kzkr-{scheduled}.duckdb").exists()
    assert scheduled < cli_build, (scheduled, cli_build)  # build ids start with their UTC time
    # dbt state: the CLI's dbt did not have to re-parse the project after the daemon's run
    cli_run = next(r for r in s.runs("kzkr/trigger", "cli") if r.run_id.startswith(cli_build.split("-")[-1]))
    dbt_log = (s.warehouse / "logs" / f"dbt-{cli_run.run_id}.log").read_text()
    assert "Unable to do partial parsing" not in dbt_log, [
        line for line in dbt_log.splitlines() if "partial" in line.lower()
    ]
    assert not list((s.warehouse / ".builds").glob("build-*")), "a build left files behind"
    s.notes["schedule_build"], s.notes["cli_build"] = scheduled, cli_build


def _edit_sidecar(raw: Path, i: int) -> None:
    sidecar = sorted(raw.glob("paper_table*.meta.yml"))[0]
    with sidecar.open("a", encoding="utf-8") as fh:
        fh.write(f"# edited {i}\n")


def test_a_burst_of_edits_starts_one_sensor_run_that_publishes(scenario: Scenario) -> None:
    s = scenario
    s.wait("no build to be running", lambda: True if not [r for r in s.runs() if not r.is_finished] else None)
    before = build_info(s.published)[0]
    known = {r.run_id for r in s.runs("dagster/sensor_name", SENSOR)}
    s.wait("the sensor's first evaluation (its cursor)", lambda: s.sensor_cursor(SENSOR), timeout=300)
    for i in range(BURST_EDITS):
        _edit_sidecar(s.raw, i)
        last_edit = time.time()
        time.sleep(BURST_GAP)
    burst_end = time.monotonic()

    def new_sensor_runs() -> list[Any]:
        return [r for r in s.runs("dagster/sensor_name", SENSOR) if r.run_id not in known]

    first = s.wait("the sensor to start a run", lambda: new_sensor_runs() or None, timeout=QUIET + 120)[0]
    started_after = time.monotonic() - burst_end
    done = s.wait("the sensor's run to finish", lambda: s.finished(first.run_id))
    time.sleep(max(3 * INTERVAL, 35 - (time.monotonic() - burst_end)))
    runs = new_sensor_runs()
    assert [r.run_id for r in runs] == [first.run_id], f"{len(runs)} sensor runs for one burst of edits"
    # requested once the files had been quiet, not while the edits were still coming
    created = s.created_at(first.run_id)
    assert created >= last_edit + QUIET - 1, (
        f"the run was requested {created - last_edit:.1f} s after the last edit"
    )
    assert done.status.value == "SUCCESS", s.log_tail()
    published = build_info(s.published)[0]
    assert published != before and published == s.published_build_of(first.run_id)
    s.notes["sensor_build"], s.notes["sensor_started_after_burst_s"] = published, round(started_after, 1)


def _break_a_total(raw: Path) -> str:
    """Add 1 to the first number of the Total row of Table 7 (a printed total no longer the sum)."""
    path = raw / "paper_table7_k_university_exchange.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    total = next(r for r in body if "Total" in r)
    col = next(i for i, v in enumerate(total) if i > total.index("Total") and v.isdigit())
    total[col] = str(int(total[col]) + 1)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *body])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return f"{path.name}: Total, column {header[col]}"


def test_a_change_that_breaks_a_sum_fails_its_run_publishes_nothing_and_alerts(scenario: Scenario) -> None:
    s = scenario
    s.wait("no build to be running", lambda: True if not [r for r in s.runs() if not r.is_finished] else None)
    sha = sha256_file(s.published)
    known = {r.run_id for r in s.runs("dagster/sensor_name", SENSOR)}
    broken = _break_a_total(s.raw)
    run = s.wait(
        "the sensor to start a run for the broken total",
        lambda: next((r for r in s.runs("dagster/sensor_name", SENSOR) if r.run_id not in known), None),
        timeout=QUIET + 120,
    )
    done = s.wait("the broken run to finish", lambda: s.finished(run.run_id))
    assert done.status.value == "FAILURE", f"the run with {broken} did not fail"
    assert sha256_file(s.published) == sha, "a failed run changed the published file"
    assert s.published_build_of(run.run_id) is None

    alerts_path = s.warehouse / "alerts" / "alerts.jsonl"
    lines = s.wait(
        "the run-failure sensor's alert",
        lambda: (
            [
                ln
                for ln in (alerts_path.read_text().splitlines() if alerts_path.exists() else [])
                if json.loads(ln)["run_id"] == run.run_id and json.loads(ln)["what"] == "run failed"
            ]
            or None
        ),
        timeout=120,
    )
    records = [json.loads(ln) for ln in alerts_path.read_text().splitlines()]
    mine = [r for r in records if r["run_id"] == run.run_id]
    assert all(list(r) == ["at", "run_id", "job", "trigger", "what", "error", "report"] for r in mine)
    assert all(r["trigger"] == "sensor" and r["job"] == JOB for r in mine), mine
    checks = [r for r in mine if r["what"].startswith("blocking check failed: ")]
    assert checks, f"no blocking-check alert for {broken}: {mine}"
    assert any("k_" in r["what"] or "t7" in r["what"] for r in checks), checks
    assert all(r["report"] and Path(r["report"]).exists() for r in checks), checks
    assert len(lines) == 1
    # the webhook got each of them, the same JSON
    posted = [json.loads(body) for _, _, body in s.hook.received]
    for record in mine:
        assert record in posted, (record, posted)
    s.notes["alert_line"] = lines[0]


def test_kzkr_status_shows_the_build_the_runs_the_alerts_and_freshness(scenario: Scenario) -> None:
    s = scenario
    proc = _kzkr(s, "status")
    out, _err = proc.communicate(timeout=300)
    print(out)
    assert proc.returncode == 1, "open alerts: status must say the warehouse needs attention"
    published = build_info(s.published)[0]
    assert f"build {published}" in out
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("  ") and ln.split()}
    assert "SUCCESS" in lines["cli"] and "SUCCESS" in lines["schedule"], out
    assert "FAILURE" in lines["sensor"], out
    assert "freshness  OK" in out
    assert "alerts     " in out and " 0 open" not in out
    stale = _kzkr(s, "status", extra={"KZKR_FRESHNESS_HOURS": "0.0001"})
    stale_out, _ = stale.communicate(timeout=300)
    assert "freshness  WARN" in stale_out, stale_out
    s.notes["status"] = out
    report = Path(os.environ.get("KZKR_DAEMON_NOTES") or s.warehouse.parent / "notes.json")
    report.write_text(json.dumps(s.notes, indent=2))
