"""Numbers and rows as the claims report prints them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any


def is_number(v: Any) -> bool:
    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)


def fmt(x: Any) -> str:
    """A number for people: thousands separators, few decimals; text as is; None as '-'."""
    if x is None:
        return "-"
    if isinstance(x, bool) or not is_number(x):
        return str(x)
    f = float(x)
    if math.isfinite(f) and f == int(f) and abs(f) < 1e15:
        return f"{int(f):,}"
    if abs(f) >= 1000:
        return f"{f:,.0f}"
    if abs(f) >= 10:
        return f"{f:,.2f}".rstrip("0").rstrip(".")
    return f"{f:.3f}".rstrip("0").rstrip(".")


def pct(x: float) -> str:
    return f"{x * 100:+.1f} %"


def key(v: Any) -> str:
    """A label or year as text (2019, not 2,019)."""
    if is_number(v) and math.isfinite(float(v)) and float(v) == int(float(v)):
        return str(int(float(v)))
    return str(v)


def rows_text(rows: Sequence[Mapping[str, Any]], limit: int = 30) -> str:
    def cell(k: str, v: Any) -> str:  # years without thousands separators
        return key(v) if "year" in k.lower() and is_number(v) else fmt(v)

    parts = ["; ".join(f"{k}={cell(k, v)}" for k, v in r.items()) for r in rows[:limit]]
    more = f" (+{len(rows) - limit} more rows)" if len(rows) > limit else ""
    return " | ".join(parts) + more if parts else "no rows"


def span(years: Sequence[int]) -> str:
    """Years as ranges: 2010-2012, 2015, 2018-2019."""
    ys = sorted(set(years))
    out: list[str] = []
    start = prev = None
    for y in ys:
        if prev is not None and y == prev + 1:
            prev = y
            continue
        if start is not None:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
        start = prev = y
    if start is not None:
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(out) or "-"
