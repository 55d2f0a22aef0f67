"""Running a build, plain dbt and a no-op in subprocesses: wall time, the RSS of the process tree, the
Dagster run's events."""

from __future__ import annotations

import contextlib
import json
import os
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
    for t in readers:
        t.join(timeout=10)
    return Run(argv, proc.returncode, start, end, peak, peak_time, lines, "".join(err_chunks))


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
    )


@dataclass
class PlainDbt:
    ingest_wall: float
    dbt_wall: float
    dbt_elapsed: float | None
    peak_rss: int
    ok: bool
    cold_wall: float | None = None  # the first `dbt build` on a fresh target (full parse)


def measure_plain_dbt(raw_dir: Path, work: Path, timeout: float | None) -> PlainDbt:
    """``python -m pipelines.ingest.validate`` into a raw-only file, then plain ``dbt build`` on a copy of it,
    twice: cold (a fresh target directory: dbt parses the whole project, as in a fresh clone or CI)
    and warm (the partial parse a developer's repeated ``dbt build`` gets: the fastest baseline, the
    one the 2× target is measured against)."""
    env = {k: v for k, v in os.environ.items() if k != "KZKR_BUILD_DB"}
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
    raw_only = work / "raw_only.duckdb"  # not raw.duckdb: its catalog would shadow the schema `raw`
    ing = run_measured(
        [sys.executable, "-m", "pipelines.ingest.validate", "--raw-dir", str(raw_dir), "--db", str(raw_only)],
        env=env,
        cwd=PROJECT_ROOT,
        timeout=timeout,
    )
    if ing.returncode != 0:
        print(f"  plain ingest failed: {ing.stderr.strip()[-1000:]}")
        return PlainDbt(ing.wall, 0.0, None, ing.peak_rss, False)
    db = work / "plain.duckdb"
    env["KZKR_BUILD_DB"] = str(db)
    target, logs = work / "dbt-target", work / "dbt-logs"
    dbt = str(Path(sys.executable).with_name("dbt"))
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    common += ["--target-path", str(target), "--log-path", str(logs)]
    runs = []
    for _ in ("cold", "warm"):
        shutil.copy2(raw_only, db)  # the same path both times: the profile, so the parse, is reusable
        run = run_measured([dbt, "build", "--quiet", *common], env=env, cwd=PROJECT_ROOT, timeout=timeout)
        if run.returncode != 0:
            print(f"  plain dbt build failed (exit {run.returncode}): {run.stdout[-2000:]}")
        runs.append(run)
    cold, warm = runs
    return PlainDbt(
        round(ing.wall, 3),
        round(warm.wall, 3),
        dbt_elapsed(target),
        max(cold.peak_rss, warm.peak_rss),
        cold.returncode == 0 and warm.returncode == 0,
        round(cold.wall, 3),
    )
