"""The phases of a build and the pure arithmetic of the benchmark (unit tested in tests/test_synth.py)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_SCALES = "1e5,1e6,1e7"
SAMPLE_SECONDS = 0.2
TARGET_DBT_RATIO = 1.5  # issue 14: a whole build at most 1.5× a warm plain dbt build
TARGET_NOOP_RATIO = 0.25
TARGET_PEAK_BYTES = 1.5 * 1024**3  # at 10^7 trade rows
TARGET_ROWS_PER_SECOND = 250_000  # at 10^7 trade rows, end to end
TARGET_INCREMENTAL = 0.25  # a new release on top of 10^7 rows: at most 25 % of a full build

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


def parse_scales(text: str | None) -> list[int]:
    """``"1e5, 1e6"`` → ``[100000, 1000000]``; empty → ``[]``. Sorted, duplicates dropped."""
    from tools.synth import parse_scale

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
