"""Trend rules: ``increasing`` and ``decreasing`` (rows ``series``, ``x``, ``value``).

``mode: overall`` compares the first and the last point, ``every_step`` each step; ``rapid: true``
also needs the compound growth per year of the registry's ``rapid`` tolerance. "Steady" (every
step) and "rapid" need at least three points: two points are one step, which shows neither a pace
nor a steadiness.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipelines.audit.claims.format import fmt, key, pct
from pipelines.audit.claims.outcome import (
    CONTRADICTED,
    MIN_YEAR,
    NOT_CHECKABLE,
    SUPPORTED,
    Outcome,
    Rows,
    col,
    num,
    outside_text,
    window,
    window_text,
)
from pipelines.audit.claims.tolerances import CHANGE, GROWTH, Flip, Tolerances

Points = list[tuple[float, float]]


@dataclass
class _Judged:
    computed: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    fails: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    margins: list[float] = field(default_factory=list)  # per series: how far inside (>0) or outside
    years: set[int] = field(default_factory=set)


def _series(rows: Rows) -> dict[str, list[tuple[float, float | None]]]:
    out: dict[str, list[tuple[float, float | None]]] = {}
    for r in rows:
        out.setdefault(str(col(r, "series")), []).append((float(col(r, "x")), num(col(r, "value"))))
    for pts in out.values():
        pts.sort()
    return out


def _growth(pts: Points) -> float | None:
    """Compound growth per year from the first to the last point (x must be years)."""
    (x0, v0), (x1, v1) = pts[0], pts[-1]
    if v0 > 0 and v1 > 0 and x1 > x0 and x0 >= MIN_YEAR:
        return float((v1 / v0) ** (1 / (x1 - x0)) - 1)
    return None


def _change(va: float, vb: float) -> float:
    return (vb - va) / abs(va) if va else math.copysign(math.inf, vb - va)


def _judge_series(
    name: str,
    pts: Points,
    params: Mapping[str, Any],
    min_growth: float | None,
    sign: int,
    j: _Judged,
    prefix: str,
) -> None:
    word = "increase" if sign > 0 else "decrease"
    (x0, v0), (x1, v1) = pts[0], pts[-1]
    growth = _growth(pts)
    text = f"{prefix}{key(x0)}->{key(x1)}: {fmt(v0)} -> {fmt(v1)} ({pct(_change(v0, v1))}"
    j.computed.append(text + (f", {pct(growth)}/yr" if growth is not None else "") + ")")
    if params["mode"] == "every_step":
        steps = [(xa, va, xb, vb) for (xa, va), (xb, vb) in itertools.pairwise(pts)]
        if min_growth is None:
            j.margins.append(min(sign * _change(va, vb) for _, va, _, vb in steps))
        bad = [
            f"{key(xa)}->{key(xb)}: {fmt(va)} -> {fmt(vb)}"
            for xa, va, xb, vb in steps
            if not sign * (vb - va) > 0
        ]
        if bad:
            j.fails.append(f"{name}: no {word} in {len(bad)} of {len(steps)} steps ({'; '.join(bad)})")
            return
    else:
        overall = growth if growth is not None else _change(v0, v1)
        if min_growth is None:
            j.margins.append(sign * overall)
        if not sign * (v1 - v0) > 0:
            j.fails.append(f"{name}: no {word} from {key(x0)} to {key(x1)} ({fmt(v0)} -> {fmt(v1)})")
            return
    if min_growth is not None:
        g = sign * growth if growth is not None else -math.inf
        j.margins.append(g)
        if g < min_growth:
            j.fails.append(
                f"{name}: {pct(growth or 0.0)}/yr is below the rapid threshold of {pct(sign * min_growth)}/yr"
            )


def _trend(rows: Rows, params: Mapping[str, Any], tol: Tolerances, sign: int) -> Outcome:
    word = "increase" if sign > 0 else "decrease"
    rapid = bool(params.get("rapid"))
    min_growth = tol.rapid.min_annual_growth if rapid else None
    stated = f"{word} ({params['mode'].replace('_', ' ')})" + (
        f", at least {pct(min_growth or 0.0)}/yr (rapid)" if rapid else ""
    )
    inside, outside = window(rows, params, "x")
    series = _series(inside)
    if not series:
        reason = "no data in the window" if outside else "no rows"
        return Outcome(NOT_CHECKABLE, "-", stated, "no rows", reason)
    need = 3 if params["mode"] == "every_step" or rapid else 2
    j = _Judged()
    for name, raw_pts in series.items():
        skipped = [key(x) for x, v in raw_pts if v is None]
        pts = [(x, v) for x, v in raw_pts if v is not None]
        j.evidence.append(
            f"{name}: "
            + ", ".join(f"{key(x)}: {fmt(v)}" for x, v in pts)
            + (f" (not printed: {', '.join(skipped)})" if skipped else "")
        )
        j.years.update(int(x) for x, _ in pts if x >= MIN_YEAR)
        if len(pts) < need:
            why = "a pace or a steady trend needs at least three" if need == 3 else "a trend needs two"
            j.unknown.append(f"{name}: {len(pts)} point(s); {why}")
            continue
        _judge_series(name, pts, params, min_growth, sign, j, f"{name} " if len(series) > 1 else "")
    ev = " | ".join(j.evidence) + outside_text(outside, "x", ["value"])
    scope = window_text(params)
    years = tuple(sorted(j.years))
    x_are_years = all(x >= MIN_YEAR for x, _ in itertools.chain(*series.values()))
    unit = GROWTH if x_are_years or rapid else CHANGE
    # flip_at: the growth (signed, as observed) of the series closest to failing
    flip = Flip(sign * min_growth if min_growth else 0.0, sign * min(j.margins), unit) if j.margins else None
    computed = "; ".join(j.computed) or "-"
    if j.fails:
        return Outcome(CONTRADICTED, computed, stated, ev, "; ".join(j.fails) + scope, flip, years)
    if j.unknown:
        return Outcome(NOT_CHECKABLE, computed, stated, ev, "; ".join(j.unknown) + scope, None, years)
    return Outcome(SUPPORTED, computed, stated, ev, f"every series shows the {word}{scope}", flip, years)


def rule_increasing(rows: Rows, params: Mapping[str, Any], tol: Tolerances) -> Outcome:
    return _trend(rows, params, tol, +1)


def rule_decreasing(rows: Rows, params: Mapping[str, Any], tol: Tolerances) -> Outcome:
    return _trend(rows, params, tol, -1)
