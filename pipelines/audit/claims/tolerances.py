"""The tolerances of the claims registry: fixed in advance, one rule per kind, the same for every claim.

Three kinds (stated once, with their reasoning, in the header of ``expectations/claims.yml``):

- ``rounding``: a figure of the prose stands for every value that rounds to it at its last
  significant digit (``50`` for 45 to 55, ``14`` for 13.5 to 14.5, ``300`` for 250 to 350,
  ``0.62`` for 0.615 to 0.625); a hedge word ("around", "almost", …) confirms the rounding and
  widens nothing. Ties are accepted (a writer may round a half either way).
- ``balance``: two amounts are balanced while the larger is less than ``max_ratio`` times the
  smaller (the ratio rounds to 1), unbalanced from there on, in either direction.
- ``growth``: "rapid" means at least ``min_annual_growth`` compound growth a year.

Every verdict records its tolerance and the value of that tolerance at which it would flip
(:class:`Flip`); a verdict is *sensitive* when it flips within a factor of :data:`SENSITIVITY`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pipelines.audit.claims.format import fmt

SENSITIVITY = 1.5  # a verdict whose flip point lies within this factor of its tolerance is "sensitive"

RELATIVE, RATIO, GROWTH = "relative deviation", "ratio larger/smaller", "growth per year"
CHANGE = "relative change"  # first to last point, when x is not a year
KINDS = {"rounding": RELATIVE, "balance": RATIO, "growth": GROWTH}


class ToleranceError(ValueError):
    """A tolerance of the registry header is malformed."""


@dataclass(frozen=True)
class Tolerance:
    """One tolerance of the registry header."""

    name: str
    kind: str  # rounding | balance | growth
    max_ratio: float | None = None
    min_annual_growth: float | None = None

    def half_unit(self, stated: float | int | str) -> float:
        """Half a unit of the last significant digit of ``stated`` (``50`` -> 5, ``14`` -> 0.5)."""
        d = Decimal(str(stated)).normalize()
        exponent = d.as_tuple().exponent
        if not isinstance(exponent, int) or d == 0:
            raise ToleranceError(f"cannot round to {stated!r}")
        return 0.5 * 10.0**exponent

    def relative(self, stated: float | int | str) -> float:
        """The rounding tolerance as a fraction of ``stated`` (``50`` -> 0.1)."""
        return self.half_unit(stated) / abs(float(stated))

    def accepts(self, observed: float, stated: float | int | str) -> bool:
        eps = 1e-9 * max(1.0, abs(float(stated)))
        return abs(observed - float(stated)) <= self.half_unit(stated) + eps

    def describe(self, stated: float | int | str) -> str:
        half, x = self.half_unit(stated), float(stated)
        return (
            f"{fmt(x - half)} to {fmt(x + half)} (rounds to {fmt(x)}; ±{self.relative(stated) * 100:.1f} %)"
        )


@dataclass(frozen=True)
class Flip:
    """A verdict's tolerance and the value of that tolerance at which the verdict would change.

    ``flip_at`` is None when no value of the tolerance changes the verdict (e.g. a year the table
    does not have)."""

    tolerance: float
    flip_at: float | None
    unit: str

    @property
    def sensitive(self) -> bool:
        if self.flip_at is None:
            return False
        base = 1.0 if self.unit == RATIO else 0.0  # a ratio's tolerance is its excess over 1
        tol, at = abs(self.tolerance - base), abs(self.flip_at - base)
        if tol == 0:
            return False
        return tol / SENSITIVITY <= at <= tol * SENSITIVITY

    def text(self) -> str:
        def show(v: float) -> str:
            if self.unit == RATIO:
                return f"x{v:.2f}"
            if self.unit == GROWTH:
                return f"{v * 100:+.1f} %/yr"
            if self.unit == CHANGE:
                return f"{v * 100:+.1f} %"
            return f"±{v * 100:.1f} %"

        at = "never (no tolerance changes it)" if self.flip_at is None else show(self.flip_at)
        return f"tolerance {show(self.tolerance)}, flips at {at}" + (" (sensitive)" if self.sensitive else "")


_SHAPES: dict[frozenset[str], str] = {
    frozenset({"rounding"}): "rounding",
    frozenset({"max_ratio"}): "balance",
    frozenset({"min_annual_growth"}): "growth",
}


def parse_tolerance(name: str, spec: Any) -> Tolerance:
    if not isinstance(spec, Mapping) or not spec:
        raise ToleranceError(f"tolerance {name!r}: expected a mapping such as {{max_ratio: 1.5}}")
    kind = _SHAPES.get(frozenset(spec))
    if kind is None:
        raise ToleranceError(
            f"tolerance {name!r}: unknown shape {sorted(spec)}; use one of "
            + ", ".join("{" + ", ".join(sorted(s)) + "}" for s in _SHAPES)
        )
    if kind == "rounding":
        if spec["rounding"] != "last_significant_digit":
            raise ToleranceError(f"tolerance {name!r}: rounding must be last_significant_digit")
        return Tolerance(name=name, kind=kind)
    ((key, value),) = spec.items()
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ToleranceError(f"tolerance {name!r}: {key} must be a non-negative number")
    if kind == "balance" and value <= 1:
        raise ToleranceError(f"tolerance {name!r}: max_ratio must be above 1")
    return Tolerance(name=name, kind=kind, **{key: float(value)})


@dataclass(frozen=True)
class Tolerances:
    """The three tolerances of the registry header, one per kind."""

    rounding: Tolerance
    balance: Tolerance
    rapid: Tolerance


TOLERANCE_NAMES = {"rounding": "rounding", "balance": "balance", "rapid": "growth"}


def parse_tolerances(spec: Any) -> Tolerances:
    if not isinstance(spec, Mapping) or set(spec) != set(TOLERANCE_NAMES):
        got = sorted(spec) if isinstance(spec, Mapping) else spec
        raise ToleranceError(f"`tolerances` must define exactly {sorted(TOLERANCE_NAMES)} (got {got})")
    parsed = {name: parse_tolerance(name, spec[name]) for name in TOLERANCE_NAMES}
    for name, kind in TOLERANCE_NAMES.items():
        if parsed[name].kind != kind:
            raise ToleranceError(f"tolerance {name!r} must be a {kind} tolerance, not {parsed[name].kind}")
    return Tolerances(**parsed)
