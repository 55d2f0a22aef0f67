"""What a verdict rule returns, and the helpers the rules share."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.audit.claims.format import fmt, is_number, key
from pipelines.audit.claims.tolerances import Flip, Tolerances

SUPPORTED, CONTRADICTED, NOT_CHECKABLE = "supported", "contradicted", "not_checkable"
VERDICTS = (SUPPORTED, CONTRADICTED, NOT_CHECKABLE)
MIN_YEAR = 1800  # x values or labels from here on are calendar years
MAX_YEAR = 2200

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Outcome:
    """A rule's verdict on its evidence.

    ``flip`` is the tolerance the verdict used and where it would flip (None: exact comparison or
    nothing compared); ``years`` are the calendar years whose values the verdict rests on."""

    verdict: str
    computed: str
    stated: str
    evidence: str
    reason: str
    flip: Flip | None = None
    years: tuple[int, ...] = field(default=())
    sources: str = ""  # which source each year's evidence comes from, if the evidence says


RuleFn = Callable[[Rows, Mapping[str, Any], Tolerances], Outcome]


class EvidenceError(Exception):
    """The evidence does not have the columns or shape the rule expects."""


def col(row: Mapping[str, Any], name: str) -> Any:
    if name not in row:
        raise EvidenceError(f"the evidence query must return a column {name!r} (got {sorted(row)})")
    return row[name]


def num(v: Any) -> float | None:
    return None if v is None else float(v)


def year_of(v: Any) -> int | None:
    """``v`` as a calendar year, or None if it is not one."""
    if is_number(v) and float(v).is_integer() and MIN_YEAR <= float(v) <= MAX_YEAR:
        return int(float(v))
    if isinstance(v, str) and v.strip().isdigit():
        return year_of(int(v.strip()))
    return None


def years_of(values: Sequence[Any]) -> tuple[int, ...]:
    return tuple(sorted({y for y in (year_of(v) for v in values) if y is not None}))


def window(rows: Rows, params: Mapping[str, Any], column: str) -> tuple[Rows, Rows]:
    w = params.get("window")
    if not w:
        return rows, []
    lo, hi = w.get("from", -math.inf), w.get("to", math.inf)
    inside, outside = [], []
    for r in rows:
        v = col(r, column)
        try:
            k = float(v)
        except (TypeError, ValueError) as exc:
            raise EvidenceError(f"window needs numeric {column} values, got {v!r}") from exc
        (inside if lo <= k <= hi else outside).append(r)
    return inside, outside


def window_text(params: Mapping[str, Any]) -> str:
    w = params.get("window")
    return f" (checked {w.get('from', '…')}-{w.get('to', '…')})" if w else ""


def outside_text(outside: Rows, column: str, value_cols: Sequence[str]) -> str:
    if not outside:
        return ""
    vals = ", ".join(
        f"{key(r[column])}: " + "/".join(fmt(r.get(c)) for c in value_cols) for r in outside[:12]
    )
    return f"; outside the window (context): {vals}"


def single(rows: Rows) -> dict[str, Any]:
    if len(rows) != 1:
        raise EvidenceError(f"the evidence query must return exactly one row (got {len(rows)})")
    return rows[0]
