"""One way to write a number for people (reports, check results, messages)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any


def fmt_number(value: Any, *, sep: bool = True, none: str = "NULL") -> str:
    """``value`` for people: whole numbers with thousands separators (``sep``), other floats to six
    significant digits, lists in brackets (at most 12 items, no separators), ``none`` for a missing
    value, anything else as text."""
    v = float(value) if isinstance(value, Decimal) else value
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return none
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return f"{v:,.0f}" if sep else f"{v:.0f}"
        return f"{v:.6g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}" if sep else str(v)
    if isinstance(v, list | tuple):
        shown = ", ".join(fmt_number(x, sep=False, none=none) for x in v[:12])
        return f"[{shown}{', …' if len(v) > 12 else ''}]"
    return str(v)
