"""Rules on pairs of amounts (rows ``label``, ``a``, ``b``): ``greater_than``, ``balanced``, ``imbalanced``.

``balanced`` and ``imbalanced`` are direction-free and share the registry's ``balance`` tolerance:
a pair is balanced while the larger amount is less than ``max_ratio`` times the smaller.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pipelines.audit.claims.format import fmt, key
from pipelines.audit.claims.outcome import (
    CONTRADICTED,
    NOT_CHECKABLE,
    SUPPORTED,
    Outcome,
    Rows,
    col,
    num,
    outside_text,
    window,
    window_text,
    years_of,
)
from pipelines.audit.claims.tolerances import RATIO, Flip, Tolerances

Pair = tuple[str, float, float]


def _pairs(rows: Rows, params: Mapping[str, Any]) -> tuple[list[Pair], list[str], str]:
    inside, outside = window(rows, params, "label")
    present, nulls = [], []
    for r in inside:
        a, b = num(col(r, "a")), num(col(r, "b"))
        if a is None or b is None:
            nulls.append(key(r["label"]))
        else:
            present.append((key(r["label"]), a, b))
    context = (f"; not printed: {', '.join(nulls)}" if nulls else "") + outside_text(
        outside, "label", ["a", "b"]
    )
    return present, nulls, context


def _ratio(a: float, b: float) -> float:
    """The larger over the smaller (inf if the smaller is 0 and the larger is not)."""
    lo, hi = sorted((abs(a), abs(b)))
    if lo == 0:
        return 1.0 if hi == 0 else math.inf
    return hi / lo


def _show(label: str, a: float, b: float) -> str:
    return f"{label}: {fmt(a)} vs {fmt(b)} (x{_ratio(a, b):.2f} {'a' if a >= b else 'b'} larger)"


def rule_greater_than(rows: Rows, params: Mapping[str, Any], tol: Tolerances) -> Outcome:
    """a > b in every row."""
    present, _, context = _pairs(rows, params)
    computed = "; ".join(f"{lab}: {fmt(a)} vs {fmt(b)}" for lab, a, b in present) or "-"
    if not present:
        return Outcome(NOT_CHECKABLE, "-", "a > b", computed + context, "no pair of values to compare")
    ratios = [a / b if b else math.inf for _, a, b in present]
    flip = Flip(1.0, min(ratios), RATIO) if math.isfinite(min(ratios)) else None
    years = years_of([lab for lab, _, _ in present])
    bad = [p for p in present if not p[1] > p[2]]
    scope = window_text(params)
    if bad:
        reason = f"fails in {len(bad)} of {len(present)}: " + "; ".join(_show(*p) for p in bad) + scope
        return Outcome(CONTRADICTED, computed, "a > b", computed + context, reason, flip, years)
    reason = f"holds in all {len(present)} rows{scope}"
    return Outcome(SUPPORTED, computed, "a > b", computed + context, reason, flip, years)


def _balance(rows: Rows, params: Mapping[str, Any], tol: Tolerances, want_balanced: bool) -> Outcome:
    limit = tol.balance.max_ratio or 1.5
    stated = (
        f"larger < x{limit:g} the smaller in every row (balance)"
        if want_balanced
        else f"larger >= x{limit:g} the smaller in every row, either direction (balance)"
    )
    present, _, context = _pairs(rows, params)
    computed = "; ".join(_show(*p) for p in present) or "-"
    if not present:
        return Outcome(NOT_CHECKABLE, "-", stated, computed + context, "no pair of values to compare")
    ratios = [(lab, _ratio(a, b)) for lab, a, b in present]
    if want_balanced:
        bad = [(lab, r) for lab, r in ratios if r >= limit]
        edge = max(ratios, key=lambda p: p[1])
    else:
        bad = [(lab, r) for lab, r in ratios if r < limit]
        edge = min(ratios, key=lambda p: p[1])
    flip = Flip(limit, edge[1], RATIO)
    years = years_of([lab for lab, _, _ in present])
    scope = window_text(params)
    word = "unbalanced" if want_balanced else "balanced"
    if bad:
        reason = f"{word} in {len(bad)} of {len(present)}: " + "; ".join(f"{lab}: x{r:.2f}" for lab, r in bad)
        return Outcome(CONTRADICTED, computed, stated, computed + context, reason + scope, flip, years)
    reason = f"holds in all {len(present)} rows (closest to the limit: {edge[0]}, x{edge[1]:.2f}){scope}"
    return Outcome(SUPPORTED, computed, stated, computed + context, reason, flip, years)


def rule_balanced(rows: Rows, params: Mapping[str, Any], tol: Tolerances) -> Outcome:
    """Every pair balanced ("the gender ratio is relatively equal")."""
    return _balance(rows, params, tol, want_balanced=True)


def rule_imbalanced(rows: Rows, params: Mapping[str, Any], tol: Tolerances) -> Outcome:
    """Every pair unbalanced, in either direction ("a lack of balance in the trade")."""
    return _balance(rows, params, tol, want_balanced=False)
