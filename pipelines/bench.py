"""`make bench`: what a build costs, what a no-op rebuild costs, and how a build scales.

Three measurements, each in fresh temporary directories (the project's own ``warehouse/`` is never
touched), printed as Markdown tables (docs/benchmarks.md records a run):

1. **Full build** of the real ``raw/``: ``kzkr build --force`` in a subprocess, broken down by step
   from the Dagster run's own events (``STEP_START`` / ``STEP_SUCCESS`` timestamps read back from the
   run's instance storage) plus what happens before the run starts (interpreter and imports,
   fingerprint, up-front validation, Dagster definitions and dbt manifest) and after it ends
   (summary). Compared with the same project's plain ``dbt build`` on a database that holds only
   the raw schema (made by ``python -m pipelines.ingest.validate``), run right after it.
2. **No-op rebuild**: ``kzkr build`` with nothing changed must skip (it compares the fingerprint
   stored in ``meta.build_info``); then ``kzkr build --force`` must build and publish again.
3. **Scale**: for each of ``BENCH_SCALES`` (default ``1e5,1e6,1e7`` trade rows) a synthetic raw
   directory (``pipelines.synth``) and a full build of it: wall time, rows per second, peak memory
   of the build's process tree (psutil, sampled every 0.2 s), and a least-squares line of time
   against rows.

No figure is asserted here (tests/test_synth.py tests the pure functions below); the targets are
printed next to the figures: a whole build at most 2× a plain dbt build, a no-op at most 25 % of a
full build, 10^7 rows under 2 GB peak memory with time growing linearly.

Usage: ``make bench`` or ``python -m pipelines.bench [--scales 1e5,1e6] [--skip-full] [--json F]``;
``BENCH_SCALES=1e5 make bench`` for a quick run, ``BENCH_SCALES= make bench`` for no scale runs.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipelines.settings import DBT_PROJECT_DIR, PROJECT_ROOT

DEFAULT_SCALES = "1e5,1e6,1e7"
SAMPLE_SECONDS = 0.2
TARGET_DBT_RATIO = 2.0
TARGET_NOOP_RATIO = 0.25
TARGET_PEAK_BYTES = 2 * 1024**3

# Phases of a build, in the order they happen.
PHASES = (
    ("startup", "interpreter, imports, lock, fingerprint"),
    ("validate", "up-front pre-check of raw/: present, header, sidecar (pipelines.ingest.precheck_all)"),
    ("definitions", "Dagster and dagster-dbt imports, definitions, dbt manifest, instance"),
    ("planning", "run creation: Dagster stores one 'planned' event per asset and per asset check"),
    ("ingest", "ingest steps (validate and load each raw file)"),
    ("dbt", "dbt step (dbt build: seeds, models, tests)"),
    ("checks", "quality-check steps"),
    ("publish", "publish step (stamp, checkpoint, atomic rename)"),
    ("dagster", "Dagster between steps (run start/end, event storage)"),
    ("summary", "after the run: summary, exit"),
)


# --------------------------------------------------------------------------------------------
# Pure functions (unit tested in tests/test_synth.py)
# --------------------------------------------------------------------------------------------


def parse_scales(text: str | None) -> list[int]:
    """``"1e5, 1e6"`` → ``[100000, 1000000]``; empty → ``[]``. Sorted, duplicates dropped."""
    from pipelines.synth import parse_scale

    if not text or not text.strip():
        return []
    return sorted({parse_scale(part) for part in text.split(",") if part.strip()})


def step_category(step_key: str) -> str:
    """The build phase a Dagster step belongs to, from its step key."""
    key = step_key.lower()
    if key.startswith("raw__") or key.startswith("ingest"):
        return "ingest"
    if "dbt" in key:
        return "dbt"
    if "publish" in key or key.startswith("warehouse__"):
        return "publish"
    return "checks"


@dataclass(frozen=True)
class Event:
    """One Dagster event: what the breakdown needs of an ``EventLogEntry``."""

    timestamp: float
    event_type: str
    step_key: str | None = None


RUN_START_TYPES = ("RUN_START", "PIPELINE_START")
RUN_END_TYPES = ("RUN_SUCCESS", "PIPELINE_SUCCESS", "RUN_FAILURE", "PIPELINE_FAILURE")
STEP_END_TYPES = ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED")


def step_durations(events: Iterable[Event]) -> dict[str, float]:
    """Seconds per step key, from each step's first ``STEP_START`` to its last end event."""
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    for e in events:
        if not e.step_key:
            continue
        if e.event_type == "STEP_START":
            starts.setdefault(e.step_key, e.timestamp)
        elif e.event_type in STEP_END_TYPES:
            ends[e.step_key] = e.timestamp
    return {k: max(0.0, ends[k] - t) for k, t in starts.items() if k in ends}


def run_window(events: Iterable[Event]) -> tuple[float | None, float | None]:
    """(run start, run end) timestamps of a run's events."""
    start = end = None
    for e in events:
        if e.event_type in RUN_START_TYPES and start is None:
            start = e.timestamp
        elif e.event_type in RUN_END_TYPES:
            end = e.timestamp
    return start, end


def breakdown(
    *,
    process_start: float,
    process_end: float,
    marks: Mapping[str, float],
    events: Sequence[Event],
) -> dict[str, float]:
    """Seconds per phase (see :data:`PHASES`) of one ``kzkr build`` process.

    ``marks`` are the wall-clock times of the CLI's progress lines: ``build`` (``kzkr build: raw …``,
    after lock and fingerprint), ``validated`` (``validate … ok``) and ``loading`` (before Dagster is
    imported). Missing marks fold their phase into the next one.
    """
    out = dict.fromkeys((p for p, _ in PHASES), 0.0)
    run_start, run_end = run_window(events)
    run_start = run_start if run_start is not None else process_end
    run_end = run_end if run_end is not None else run_start
    build = marks.get("build", process_start)
    validated = marks.get("validated", build)
    loading = marks.get("loading", validated)
    out["startup"] = build - process_start
    out["validate"] = validated - build
    first = min((e.timestamp for e in events), default=run_start)
    out["definitions"] = min(first, run_start) - validated  # (loading is an instant after validated)
    _ = loading
    out["planning"] = run_start - min(first, run_start)
    steps = step_durations(events)
    for key, seconds in steps.items():
        out[step_category(key)] += seconds
    out["dagster"] = max(0.0, (run_end - run_start) - sum(steps.values()))
    out["summary"] = max(0.0, process_end - run_end)
    return {k: round(max(0.0, v), 3) for k, v in out.items()}


def phase_at(t: float, *, marks: Mapping[str, float], events: Sequence[Event]) -> str:
    """The phase (see :data:`PHASES`) of one ``kzkr build`` process that was under way at time ``t``."""
    starts: dict[str, float] = {}
    for e in events:
        if e.step_key and e.event_type == "STEP_START":
            starts.setdefault(e.step_key, e.timestamp)
        elif (
            e.step_key
            and e.event_type in STEP_END_TYPES
            and e.step_key in starts
            and starts[e.step_key] <= t <= e.timestamp
        ):
            return step_category(e.step_key)
    run_start, run_end = run_window(events)
    first = min((e.timestamp for e in events), default=None)
    if run_end is not None and t > run_end:
        return "summary"
    if run_start is not None and t >= run_start:
        return "dagster"
    if first is not None and t >= first:
        return "planning"
    if "validated" in marks and t >= marks["validated"]:
        return "definitions"
    if "build" in marks and t >= marks["build"]:
        return "validate"
    return "startup"


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when the denominator is not positive."""
    if denominator <= 0:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class LineFit:
    slope: float  # seconds per row
    intercept: float  # seconds
    r2: float

    def predict(self, x: float) -> float:
        return self.intercept + self.slope * x


def fit_line(xs: Sequence[float], ys: Sequence[float]) -> LineFit:
    """Ordinary least squares ``y = intercept + slope · x`` (at least two distinct x)."""
    if len(xs) != len(ys):
        raise ValueError("xs and ys differ in length")
    n = len(xs)
    if n < 2 or len(set(xs)) < 2:
        raise ValueError("a line needs at least two distinct x values")
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return LineFit(slope, intercept, r2)


def marginal_slopes(xs: Sequence[float], ys: Sequence[float]) -> list[float]:
    """Seconds per row between consecutive points (sorted by x): constant when time is linear."""
    pts = sorted(zip(xs, ys, strict=True))
    return [(y2 - y1) / (x2 - x1) for (x1, y1), (x2, y2) in itertools.pairwise(pts) if x2 != x1]


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "–"
    if s < 10:
        return f"{s:.2f} s"
    if s < 600:
        return f"{s:.1f} s"
    return f"{s / 60:.1f} min"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "–"
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if n >= size:
            return f"{n / size:.2f} {unit}" if unit == "GB" else f"{n / size:.0f} {unit}"
    return f"{n:.0f} B"


def fmt_rows(n: float) -> str:
    """Thousands separated by thin commas: 10000000 → ``10,000,000``."""
    return f"{round(n):,}"


def fmt_ratio(r: float | None) -> str:
    return "–" if r is None else f"{r:.2f}×"


def fmt_pct(r: float | None) -> str:
    return "–" if r is None else f"{100 * r:.1f} %"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: str = "") -> str:
    """A GitHub Markdown table. ``align``: one letter per column, ``l`` or ``r`` (default ``l``)."""
    body = [[str(c) for c in r] for r in rows]
    cols = len(headers)
    if any(len(r) != cols for r in body):
        raise ValueError("every row needs one cell per header")
    align = (align or "l" * cols).ljust(cols, "l")
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    widths = [max(w, 3) for w in widths]

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(cells, widths, align, strict=True)
            )
            + " |"
        )

    sep = "|" + "|".join(
        ("-" * (w + 1) + ":") if a == "r" else ("-" * (w + 2)) for w, a in zip(widths, align, strict=True)
    )
    return "\n".join([line(list(headers)), sep + "|", *(line(r) for r in body)])


def verdict(value: float | None, target: float, *, lower_is_better: bool = True) -> str:
    if value is None:
        return "?"
    ok = value <= target if lower_is_better else value >= target
    return "meets target" if ok else "MISSES target"


# --------------------------------------------------------------------------------------------
# Running things
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    import duckdb
    import psutil

    def version(dist: str) -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as v

        try:
            return v(dist)
        except PackageNotFoundError:
            return "–"

    return {
        "cores": str(os.cpu_count()),
        "memory": fmt_bytes(psutil.virtual_memory().total),
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt-core": version("dbt-core"),
        "dbt-duckdb": version("dbt-duckdb"),
        "dagster": version("dagster"),
        "dagster-dbt": version("dagster-dbt"),
    }


def full_build_section(work: Path, timeout: float | None) -> dict[str, Any]:
    raw = PROJECT_ROOT / "raw"
    wh = work / "warehouse-real"
    from pipelines.ingest.specs import TRADE
    from pipelines.synth import count_rows

    rows = count_rows(raw / TRADE.filename)
    print("full build of raw/ (kzkr build --force) …", flush=True)
    full = measure_build("full build", raw_dir=raw, warehouse_dir=wh, rows=rows, timeout=timeout)
    print("plain dbt build …", flush=True)
    plain = measure_plain_dbt(raw, work, timeout)
    print("no-op rebuild (kzkr build) …", flush=True)
    env = build_env(raw_dir=raw, warehouse_dir=wh)
    noop = run_measured(kzkr("build"), env=env, cwd=PROJECT_ROOT, timeout=timeout)
    skipped = noop.returncode == 0 and "nothing changed" in noop.stdout
    print("forced rebuild (kzkr build --force) …", flush=True)
    forced = measure_build("forced rebuild", raw_dir=raw, warehouse_dir=wh, rows=rows, timeout=timeout)
    rebuilt = forced.published and forced.run_id is not None and forced.run_id != full.run_id
    return {
        "full": asdict(full),
        "plain": asdict(plain),
        "noop": {"wall": round(noop.wall, 3), "skipped": skipped, "peak_rss": noop.peak_rss},
        "forced": asdict(forced),
        "force_rebuilt": rebuilt,
    }


def scale_section(
    scales: Sequence[int], work: Path, timeout: float | None, keep: bool
) -> list[dict[str, Any]]:
    from pipelines.ingest.specs import TRADE
    from pipelines.synth import format_scale, synthesize

    out = []
    for n in scales:
        label = format_scale(n)
        raw = work / f"raw-{label}"
        wh = work / f"warehouse-{label}"
        print(f"scale {label}: synthesizing {fmt_rows(n)} trade rows …", flush=True)
        t0 = time.monotonic()
        synthesize(raw, n)
        synth_s = time.monotonic() - t0
        size = (raw / TRADE.filename).stat().st_size
        print(f"scale {label}: kzkr build --force …", flush=True)
        fig = measure_build(f"scale {label}", raw_dir=raw, warehouse_dir=wh, rows=n, timeout=timeout)
        noop = (  # a no-op only means something after a published build
            run_measured(kzkr("build"), env=build_env(raw_dir=raw, warehouse_dir=wh), cwd=PROJECT_ROOT)
            if fig.published
            else None
        )
        db = wh / "kzkr.duckdb"
        out.append(
            {
                **asdict(fig),
                "synth_seconds": round(synth_s, 3),
                "csv_bytes": size,
                "warehouse_bytes": db.stat().st_size if db.exists() else None,
                "noop_wall": round(noop.wall, 3) if noop else None,
            }
        )
        print(
            f"scale {label}: {fmt_seconds(fig.wall)}, peak {fmt_bytes(fig.peak_rss)}"
            + ("" if fig.published else " (NOT published)"),
            flush=True,
        )
        if not keep:
            shutil.rmtree(raw, ignore_errors=True)
            shutil.rmtree(wh, ignore_errors=True)
    return out


def report(results: Mapping[str, Any]) -> str:
    """The Markdown report of a benchmark's results (as :func:`main` collects them)."""
    parts: list[str] = []
    m = results["machine"]
    parts.append(
        markdown_table(
            ["machine", ""],
            [
                ["cores", m["cores"]],
                ["memory", m["memory"]],
                ["OS", m["os"]],
                ["Python", m["python"]],
                ["DuckDB", m["duckdb"]],
                ["dbt-core / dbt-duckdb", f"{m['dbt-core']} / {m['dbt-duckdb']}"],
                ["Dagster / dagster-dbt", f"{m['dagster']} / {m['dagster-dbt']}"],
            ],
        )
    )
    full_sec = results.get("full")
    if full_sec:
        full, plain = full_sec["full"], full_sec["plain"]
        total = full["wall"]
        rows = [
            [
                name,
                desc,
                fmt_seconds(full["phases"].get(name, 0.0)),
                fmt_pct(ratio(full["phases"].get(name, 0.0), total)),
            ]
            for name, desc in PHASES
        ]
        rows.append(
            [
                "**total**",
                f"`kzkr build --force`, {fmt_rows(full['rows'])} trade rows"
                + ("" if full["published"] else " — the build FAILED"),
                f"**{fmt_seconds(total)}**",
                "100 %",
            ]
        )
        parts.append(
            "### Full build, by step\n\n" + markdown_table(["phase", "what", "time", "share"], rows, "llrr")
        )
        if full.get("dbt_elapsed") is not None:
            parts.append(
                f"Inside the dbt step, dbt's own node execution (run_results.json `elapsed_time`) took "
                f"{fmt_seconds(full['dbt_elapsed'])}; the rest of the step is dbt's start-up and parse and "
                "dagster-dbt's event handling."
            )
        r_dbt = ratio(total, plain["dbt_wall"])
        r_pipe = ratio(total, plain["dbt_wall"] + plain["ingest_wall"])
        noop = full_sec["noop"]
        r_noop = ratio(noop["wall"], total)
        cmp_rows = [
            [
                "plain `dbt build` (warm partial parse)",
                fmt_seconds(plain["dbt_wall"]),
                fmt_ratio(r_dbt),
                f"≤ {TARGET_DBT_RATIO:g}×: {verdict(r_dbt, TARGET_DBT_RATIO)}",
            ],
            [
                "plain ingest + plain `dbt build`",
                fmt_seconds(plain["ingest_wall"] + plain["dbt_wall"]),
                fmt_ratio(r_pipe),
                "",
            ],
            [
                "no-op `kzkr build` (nothing changed)",
                fmt_seconds(noop["wall"]),
                fmt_pct(r_noop),
                f"≤ {TARGET_NOOP_RATIO:.0%}: {verdict(r_noop, TARGET_NOOP_RATIO)}"
                + ("" if noop["skipped"] else " — but it did NOT skip"),
            ],
            [
                "`kzkr build --force` again",
                fmt_seconds(full_sec["forced"]["wall"]),
                fmt_ratio(ratio(full_sec["forced"]["wall"], total)),
                "rebuilt and published" if full_sec["force_rebuilt"] else "did NOT rebuild",
            ],
        ]
        if plain.get("dbt_elapsed") is not None:
            cmp_rows.insert(1, ["  of which dbt node execution", fmt_seconds(plain["dbt_elapsed"]), "", ""])
        if plain.get("cold_wall"):
            cmp_rows.insert(
                2,
                [
                    "plain `dbt build`, cold (full parse: fresh clone, CI)",
                    fmt_seconds(plain["cold_wall"]),
                    fmt_ratio(ratio(total, plain["cold_wall"])),
                    "",
                ],
            )
        parts.append(
            "### Compared with plain dbt, and a no-op rebuild\n\n"
            + markdown_table(
                ["run", "time", "full build ÷ run (no-op: run ÷ full build)", "target"], cmp_rows, "lrrl"
            )
        )
    scales = results.get("scales") or []
    if scales:
        rows = []
        main_phases = ("validate", "ingest", "dbt", "checks")
        for s in scales:
            ph = s["phases"]
            rest = sum(v for k, v in ph.items() if k not in main_phases)
            rows.append(
                [
                    fmt_rows(s["rows"]),
                    fmt_bytes(s["csv_bytes"]),
                    fmt_seconds(s["wall"]) + ("" if s["published"] else " (failed)"),
                    fmt_rows(s["rows"] / s["wall"]) if s["wall"] > 0 else "–",
                    fmt_bytes(s["peak_rss"]),
                    *(fmt_seconds(ph.get(k, 0.0)) for k in main_phases),
                    fmt_seconds(rest),
                    fmt_seconds(s["noop_wall"]),
                    fmt_seconds(s["synth_seconds"]),
                ]
            )
        parts.append(
            "### Scale (synthetic trade rows, `kzkr build --force`)\n\n"
            + markdown_table(
                [
                    "trade rows",
                    "CSV",
                    "build",
                    "rows/s",
                    "peak RSS",
                    "validate",
                    "ingest",
                    "dbt",
                    "checks",
                    "other",
                    "no-op",
                    "synth",
                ],
                rows,
                "r" * 12,
            )
            + "\n\n*other*: start-up, definitions, planning, publish, summary; *no-op*: `kzkr build` "
            "right after; *synth*: writing the synthetic raw directory (not part of the build)."
        )
        ok = [s for s in scales if s["published"]]
        notes = []
        if len(ok) >= 2:
            fit = fit_line([s["rows"] for s in ok], [s["wall"] for s in ok])
            marg = marginal_slopes([s["rows"] for s in ok], [s["wall"] for s in ok])
            notes.append(
                f"Least-squares line: time ≈ {fit.intercept:.1f} s + {fit.slope * 1e6:.2f} s "
                "per million rows "
                f"(R² = {fit.r2:.4f}); between consecutive scales: "
                + ", ".join(f"{m * 1e6:.2f} s per million rows" for m in marg)
                + "."
            )
        biggest = max(scales, key=lambda s: s["rows"])
        notes.append(
            f"Peak RSS at {fmt_rows(biggest['rows'])} rows: {fmt_bytes(biggest['peak_rss'])} "
            + (f"(during {biggest['peak_phase']}) " if biggest.get("peak_phase") else "")
            + f"(target < {fmt_bytes(TARGET_PEAK_BYTES)}: {verdict(biggest['peak_rss'], TARGET_PEAK_BYTES)})."
        )
        parts.append(" ".join(notes))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scales",
        default=os.environ.get("BENCH_SCALES", DEFAULT_SCALES),
        help="trade rows per scale run, comma-separated "
        f"(env BENCH_SCALES; default {DEFAULT_SCALES}; empty: none)",
    )
    parser.add_argument(
        "--skip-full", action="store_true", help="skip the full-build / plain-dbt / no-op runs"
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--dir", type=Path, help="work directory (default: a new temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per build before it is killed")
    args = parser.parse_args(argv)
    try:
        scales = parse_scales(args.scales)
    except ValueError as exc:
        print(f"error: BENCH_SCALES / --scales: {exc}", file=sys.stderr)
        return 2
    work = args.dir or Path(tempfile.mkdtemp(prefix="kzkr-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"kzkr bench: work directory {work}", flush=True)
    results: dict[str, Any] = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        if not args.skip_full:
            results["full"] = full_build_section(work, args.timeout)
        results["scales"] = scale_section(scales, work, args.timeout, args.keep)
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str))
    print()
    print(report(results))
    failed = [s for s in results["scales"] if not s["published"]]
    full_ok = args.skip_full or results["full"]["full"]["published"]
    return 0 if full_ok and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
