"""Running a build, plain dbt and a no-op in subprocesses: wall time, the RSS of the process tree, the
Dagster run's events."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from tools.bench.phases import SAMPLE_SECONDS, Event, breakdown, phase_at


@dataclass
class Run:
    argv: list[str]
    returncode: int
    start: float  # time.time() at launch
    end: float
    peak_rss: int  # bytes, process tree, sampled
    peak_time: float = 0.0  # when the peak was sampled (time.time())
    lines: list[tuple[float, str]] = field(default_factory=list)  # stdout with arrival times
    stderr: str = ""
    cpu: float = 0.0  # user + system seconds of the process and every child it waited for

    @property
    def wall(self) -> float:
        return self.end - self.start

    @property
    def stdout(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def mark(self, prefix: str) -> float | None:
        for t, line in self.lines:
            if line.lstrip().startswith(prefix):
                return t
        return None


def _tree_rss(proc: Any) -> int:
    import psutil

    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run_measured(argv: list[str], *, env: Mapping[str, str], cwd: Path, timeout: float | None = None) -> Run:
    """Run ``argv``; time it, sample the RSS of its process tree, timestamp its stdout lines."""
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
    )
    lines: list[tuple[float, str]] = []
    err_chunks: list[str] = []

    def read_out() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.time(), line.rstrip("\n")))

    def read_err() -> None:
        assert proc.stderr is not None
        err_chunks.append(proc.stderr.read())

    readers = [threading.Thread(target=read_out, daemon=True), threading.Thread(target=read_err, daemon=True)]
    for t in readers:
        t.start()
    peak, peak_time = 0, start
    try:
        ps = psutil.Process(proc.pid)
        deadline = None if timeout is None else start + timeout
        while proc.poll() is None:
            rss = _tree_rss(ps)
            if rss > peak:
                peak, peak_time = rss, time.time()
            if deadline is not None and time.time() > deadline:
                proc.kill()
                break
            time.sleep(SAMPLE_SECONDS)
    except psutil.NoSuchProcess:
        pass
    proc.wait()
    end = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # runs are sequential: the delta is this one's
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    for t in readers:
        t.join(timeout=10)
    return Run(argv, proc.returncode, start, end, peak, peak_time, lines, "".join(err_chunks), round(cpu, 3))


def build_env(*, raw_dir: Path, warehouse_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KZKR_BUILD_DB", "KZKR_LOCK_HELD")}
    env.update(
        {
            "KZKR_RAW_DIR": str(raw_dir),
            "KZKR_WAREHOUSE_DIR": str(warehouse_dir),
            "DAGSTER_HOME": str(warehouse_dir / ".dagster"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DAGSTER_DISABLE_TELEMETRY": "1",
            # the project this module belongs to, whatever is installed in the environment
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        }
    )
    return env


def kzkr(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", *args]


def read_run_events(dagster_home: Path, run_id_prefix: str | None = None) -> tuple[str | None, list[Event]]:
    """The latest run (or the one whose id starts with ``run_id_prefix``) and its events."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(limit=20)
        if run_id_prefix:
            runs = [r for r in runs if r.run_id.startswith(run_id_prefix)] or runs
        if not runs:
            return None, []
        run_id = runs[0].run_id
        events = [
            Event(e.timestamp, e.dagster_event.event_type_value, e.step_key)
            for e in instance.all_logs(run_id)
            if e.dagster_event is not None
        ]
    return run_id, events


def published_run_prefix(run: Run) -> str | None:
    """The run id prefix printed by ``kzkr build`` ("published build … (run 1a2b3c4d) …")."""
    for _, line in run.lines:
        if line.startswith("published build") and "(run " in line:
            return line.split("(run ", 1)[1].split(")", 1)[0].strip()
    return None


def dbt_elapsed(target_dir: Path) -> float | None:
    """``elapsed_time`` of a dbt invocation (its run_results.json): node execution, parse excluded."""
    path = target_dir / "run_results.json"
    try:
        return float(json.loads(path.read_text())["elapsed_time"])
    except (OSError, KeyError, ValueError, TypeError):
        return None


def dagster_dbt_target(run_id: str | None) -> Path | None:
    """The target directory dagster-dbt gave the run's dbt invocation (``target/<name>-<run id>…``)."""
    if not run_id:
        return None
    hits = sorted((DBT_PROJECT_DIR / "target").glob(f"*-{run_id[:7]}-*"))
    return hits[-1] if hits else None


@dataclass
class BuildFigures:
    label: str
    rows: int
    wall: float
    peak_rss: int
    returncode: int
    published: bool
    phases: dict[str, float]
    run_id: str | None = None
    dbt_elapsed: float | None = None  # dbt's own node-execution time inside the dbt step
    error: str = ""
    peak_phase: str = ""  # the phase during which the peak RSS was sampled
    cpu: float = 0.0
    files_copied: int = 0  # raw files copied from the published build, not read (pipelines.ingest.reuse)


def measure_build(
    label: str, *, raw_dir: Path, warehouse_dir: Path, rows: int, force: bool = True, timeout: float | None
) -> BuildFigures:
    env = build_env(raw_dir=raw_dir, warehouse_dir=warehouse_dir)
    run = run_measured(
        kzkr("build", *(["--force"] if force else [])), env=env, cwd=PROJECT_ROOT, timeout=timeout
    )
    published = run.returncode == 0 and any(line.startswith("published build") for _, line in run.lines)
    run_id, events = (None, [])
    if published or (warehouse_dir / ".dagster").exists():
        try:
            run_id, events = read_run_events(warehouse_dir / ".dagster", published_run_prefix(run))
        except Exception as exc:  # the run never started: no storage to read
            print(f"  (no Dagster events: {exc})", file=sys.stderr)
    marks = {
        k: v
        for k, v in {
            "build": run.mark("kzkr build: raw"),
            "validated": run.mark("validate ") or run.mark("precheck "),
            "loading": run.mark("loading"),
        }.items()
        if v is not None
    }
    phases = breakdown(process_start=run.start, process_end=run.end, marks=marks, events=events)
    peak_phase = phase_at(run.peak_time, marks=marks, events=events)
    target = dagster_dbt_target(run_id)
    error = "" if published else (run.stderr.strip().splitlines() or ["(no message)"])[-1][:300]
    if not published:
        print(f"  {label}: the build did not publish (exit {run.returncode}): {run.stderr.strip()[-2000:]}")
    return BuildFigures(
        label,
        rows,
        round(run.wall, 3),
        run.peak_rss,
        run.returncode,
        published,
        phases,
        run_id,
        dbt_elapsed(target) if target else None,
        error,
        peak_phase,
        run.cpu,
        sum(COPIED in line for _, line in run.lines),
    )


COPIED = "(unchanged: copied from the published build)"  # the ingest's progress line says so


@dataclass
class PlainDbt:
    """The same project's plain ``dbt build`` on a copy of a database that holds only the raw schema
    (made once by ``python -m pipelines.ingest.validate``), always under one path and one target
    directory: the first build parses the whole project (cold, as in a fresh clone or CI), every
    later one reuses dbt's partial parse (warm, as a developer's repeated ``dbt build``: the fastest
    baseline, the one the target ratio is measured against)."""

    env: dict[str, str]
    raw_only: Path
    db: Path
    target: Path
    logs: Path

    @classmethod
    def prepare(cls, raw_dir: Path, work: Path, timeout: float | None) -> tuple[PlainDbt | None, Run]:
        """The plain ingest (timed: the returned run); None when it failed."""
        env = {k: v for k, v in os.environ.items() if k != "KZKR_BUILD_DB"}
        env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
        raw_only = work / "raw_only.duckdb"  # not raw.duckdb: its catalog would shadow the schema `raw`
        argv = [sys.executable, "-m", "pipelines.ingest.validate", "--raw-dir", str(raw_dir)]
        ing = run_measured([*argv, "--db", str(raw_only)], env=env, cwd=PROJECT_ROOT, timeout=timeout)
        if ing.returncode != 0:
            print(f"  plain ingest failed: {ing.stderr.strip()[-1000:]}")
            return None, ing
        db = work / "plain.duckdb"
        env["KZKR_BUILD_DB"] = str(db)
        return cls(env, raw_only, db, work / "dbt-target", work / "dbt-logs"), ing

    def build(self, timeout: float | None) -> Run:
        shutil.copy2(self.raw_only, self.db)  # one path every time: the profile, so the parse, is reusable
        dbt = str(Path(sys.executable).with_name("dbt"))
        argv = [dbt, "build", "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir"]
        argv += [str(DBT_PROJECT_DIR), "--target-path", str(self.target), "--log-path", str(self.logs)]
        run = run_measured(argv, env=self.env, cwd=PROJECT_ROOT, timeout=timeout)
        if run.returncode != 0:
            print(f"  plain dbt build failed (exit {run.returncode}): {run.stdout[-2000:]}")
        return run

    def elapsed(self) -> float | None:
        """dbt's node execution in the last build (run_results.json)."""
        return dbt_elapsed(self.target)
