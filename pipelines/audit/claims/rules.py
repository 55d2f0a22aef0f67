"""The verdict rules: each takes the evidence rows, the claim's params and the registry's tolerances.

Column layouts and params are documented in the header of ``expectations/claims.yml``. Every rule
can return each verdict (tests/test_claims.py has a case per rule and outcome).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipelines.audit.claims.format import fmt, is_number, key, rows_text
from pipelines.audit.claims.outcome import (
    CONTRADICTED,
    NOT_CHECKABLE,
    SUPPORTED,
    Outcome,
    Rows,
    RuleFn,
    col,
    num,
    outside_text,
    single,
    window,
    window_text,
    year_of,
    years_of,
)
from pipelines.audit.claims.pairs import rule_balanced, rule_greater_than, rule_imbalanced
from pipelines.audit.claims.tolerances import RELATIVE, Flip, Tolerances
from pipelines.audit.claims.trend import rule_decreasing, rule_increasing


@dataclass(frozen=True)
class ParamSpec:
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    needs_sql: bool = True


@dataclass(frozen=True)
class Rule:
    fn: RuleFn
    params: ParamSpec = field(default_factory=ParamSpec)


def rule_equals(rows: Rows, params: Mapping[str, Any], tol: Tolerances) -> Outcome:
    stated = params["stated"]
    if not rows:
        return Outcome(NOT_CHECKABLE, "-", fmt(stated), "no rows", "the evidence query returned no rows")
    row = single(rows)
    value = col(row, "value")
    evidence = f"value={fmt(value)}" + (f" ({row['detail']})" if row.get("detail") else "")
    if value is None:
        return Outcome(NOT_CHECKABLE, "-", fmt(stated), evidence, "the evidence value is NULL")
    flip = None
    if not is_number(stated):
        ok, how = str(value) == str(stated), f"exactly {stated!r}"
    elif params.get("rounded"):
        ok, how = tol.rounding.accepts(float(value), stated), tol.rounding.describe(stated)
        flip = Flip(
            tol.rounding.relative(stated), abs(float(value) - float(stated)) / abs(float(stated)), RELATIVE
        )
    else:
        ok, how = math.isclose(float(value), float(stated)), f"exactly {fmt(stated)}"
    verdict = SUPPORTED if ok else CONTRADICTED
    return Outcome(verdict, fmt(value), fmt(stated), evidence, f"observed {fmt(value)}; expected {how}", flip)


def rule_approx(rows: Rows, params: Mapping[str, Any], tol: Tolerances) -> Outcome:
    """EVERY value (row ``label``, ``value``) rounds to ``stated`` ("around 50 every year")."""
    stated, rounding = params["stated"], tol.rounding
    inside, outside = window(rows, params, "label")
    values = [(key(col(r, "label")), num(col(r, "value"))) for r in inside]
    present = [(lab, v) for lab, v in values if v is not None]
    nulls = [lab for lab, v in values if v is None]
    computed = "; ".join(f"{lab}: {fmt(v)}" for lab, v in present) or "-"
    evidence = computed + (f"; not printed: {', '.join(nulls)}" if nulls else "")
    evidence += outside_text(outside, "label", ["value"])
    if not present:
        return Outcome(NOT_CHECKABLE, "-", fmt(stated), evidence, "no value to compare")
    s = float(stated)
    worst = max(present, key=lambda p: abs(p[1] - s))
    flip = Flip(rounding.relative(stated), abs(worst[1] - s) / abs(s), RELATIVE)
    years = years_of([lab for lab, _ in present])
    bad = [(lab, v) for lab, v in present if not rounding.accepts(v, stated)]
    how = rounding.describe(stated) + window_text(params)
    if bad:
        listed = ", ".join(f"{lab}: {fmt(v)}" for lab, v in bad)
        reason = f"{len(bad)} of {len(present)} values outside {how}: {listed}"
        return Outcome(CONTRADICTED, computed, fmt(stated), evidence, reason, flip, years)
    reason = f"all {len(present)} values within {how} (farthest: {worst[0]}, {fmt(worst[1])})"
    return Outcome(SUPPORTED, computed, fmt(stated), evidence, reason, flip, years)


def rule_ratio_approx(rows: Rows, params: Mapping[str, Any], tol: Tolerances) -> Outcome:
    """One row ``numerator``, ``denominator``: their ratio rounds to ``stated`` ("a 14-fold increase")."""
    stated = params["stated"]
    if not rows:
        return Outcome(NOT_CHECKABLE, "-", fmt(stated), "no rows", "the evidence query returned no rows")
    row = single(rows)
    n, d = num(col(row, "numerator")), num(col(row, "denominator"))
    evidence = (f"{row['label']}: " if row.get("label") else "") + f"{fmt(n)} / {fmt(d)}"
    if n is None or d is None or d == 0:
        return Outcome(NOT_CHECKABLE, "-", fmt(stated), evidence, "numerator or denominator missing or zero")
    ratio, s = n / d, float(stated)
    ok = tol.rounding.accepts(ratio, stated)
    flip = Flip(tol.rounding.relative(stated), abs(ratio - s) / abs(s), RELATIVE)
    reason = f"ratio {ratio:.3f}; {'within' if ok else 'outside'} {tol.rounding.describe(stated)}"
    verdict = SUPPORTED if ok else CONTRADICTED
    return Outcome(verdict, f"{ratio:.2f}", fmt(stated), f"{evidence} = {ratio:.3f}", reason, flip)


def rule_values_match(rows: Rows, params: Mapping[str, Any], tol: Tolerances) -> Outcome:
    """Rows ``key``, ``value``: each stated key is present with exactly the stated value."""
    table = {key(col(r, "key")): col(r, "value") for r in rows}
    stated = {key(k): v for k, v in params["values"].items()}
    as_years = all(year_of(v) is not None for v in stated.values())

    def show(v: Any) -> str:
        return key(v) if as_years and is_number(v) else fmt(v)

    stated_text = "; ".join(f"{k}: {show(v)}" for k, v in stated.items())
    keys = list(table)
    covers = f"{keys[0]}-{keys[-1]}" if keys and all(k.isdigit() for k in keys) else ", ".join(keys)
    evidence = "; ".join(f"{k}: {show(v)}" for k, v in table.items()) or "no rows"
    if not table:
        return Outcome(NOT_CHECKABLE, "-", stated_text, evidence, "the evidence query returned no rows")
    problems, computed = [], []
    for k, v in stated.items():
        if k not in table:
            computed.append(f"{k}: absent")
            where = [
                tk for tk, tv in table.items() if is_number(tv) and is_number(v) and float(tv) == float(v)
            ]
            hint = f"; {show(v)} is the value printed for {', '.join(where)}" if where else ""
            problems.append(f"{k} is not in the cited table (it covers {covers}){hint}")
        elif table[k] is None:
            computed.append(f"{k}: not printed")
            problems.append(f"{k} is printed as '-' in the cited table")
        else:
            computed.append(f"{k}: {show(table[k])}")
            same = is_number(v) and is_number(table[k]) and float(table[k]) == float(v)
            if not same and str(table[k]) != str(v):
                problems.append(f"{k}: the table has {show(table[k])}, the prose {show(v)}")
    years = years_of([k for k in stated if k in table])
    if problems:
        return Outcome(
            CONTRADICTED, "; ".join(computed), stated_text, evidence, "; ".join(problems), None, years
        )
    reason = "every stated value matches the table"
    return Outcome(SUPPORTED, "; ".join(computed), stated_text, evidence, reason, None, years)


def rule_rank_at_most(rows: Rows, params: Mapping[str, Any], tol: Tolerances) -> Outcome:
    """Rows ``label``, ``rank`` [, ``n_ranked``]: every rank <= ``max_rank``.

    With ``n_ranked`` (how many items the ranking has) the check is vacuous, and not_checkable, when
    no more than ``max_rank`` items are ranked: such a rank cannot exceed ``max_rank``."""
    max_rank = int(params["max_rank"])
    stated = f"rank <= {max_rank}"
    ranks = [(key(col(r, "label")), num(col(r, "rank"))) for r in rows]
    computed = "; ".join(f"{lab}: {fmt(rk)}" for lab, rk in ranks) or "-"
    present = [(lab, rk) for lab, rk in ranks if rk is not None]
    if not present:
        return Outcome(NOT_CHECKABLE, "-", stated, computed, "no rank in the evidence")
    sizes = [num(r["n_ranked"]) for r in rows if "n_ranked" in r]
    if sizes and all(n is not None and n <= max_rank for n in sizes):
        n = fmt(max(s or 0 for s in sizes))
        reason = f"vacuous: only {n} items are ranked, so no rank can exceed {max_rank}"
        return Outcome(NOT_CHECKABLE, computed, stated, computed, reason)
    bad = [(lab, rk) for lab, rk in present if rk > max_rank]
    years = years_of([lab for lab, _ in present])
    if bad:
        reason = f"ranked below {max_rank}: " + "; ".join(f"{lab}: {fmt(rk)}" for lab, rk in bad)
        return Outcome(CONTRADICTED, computed, stated, computed, reason, None, years)
    worst = max(rk for _, rk in present)
    reason = f"every rank <= {max_rank} (lowest: {fmt(worst)})"
    return Outcome(SUPPORTED, computed, stated, computed, reason, None, years)


def rule_year_span(rows: Rows, params: Mapping[str, Any], tol: Tolerances) -> Outcome:
    """One row ``first_year``, ``last_year`` [, ``detail``]: equal to ``from`` / ``to``."""
    stated = f"{params['from']}-{params['to']}"
    if not rows:
        return Outcome(NOT_CHECKABLE, "-", stated, "no rows", "the evidence query returned no rows")
    row = single(rows)
    first, last = col(row, "first_year"), col(row, "last_year")
    computed = f"{key(first)}-{key(last)}"
    evidence = computed + (f" ({row['detail']})" if row.get("detail") else "")
    if first is None or last is None:
        return Outcome(NOT_CHECKABLE, "-", stated, evidence, "no years in the evidence")
    ok = int(first) == int(params["from"]) and int(last) == int(params["to"])
    reason = f"the data cover {computed}; the prose says {stated}"
    return Outcome(SUPPORTED if ok else CONTRADICTED, computed, stated, evidence, reason)


def rule_not_checkable(rows: Rows, params: Mapping[str, Any], tol: Tolerances) -> Outcome:
    return Outcome(NOT_CHECKABLE, "-", "-", rows_text(rows) if rows else "-", "")


_WINDOW = ("window",)
RULES: dict[str, Rule] = {
    "equals": Rule(rule_equals, ParamSpec(("stated",), ("rounded",))),
    "approx": Rule(rule_approx, ParamSpec(("stated",), _WINDOW)),
    "ratio_approx": Rule(rule_ratio_approx, ParamSpec(("stated",))),
    "values_match": Rule(rule_values_match, ParamSpec(("values",))),
    "increasing": Rule(rule_increasing, ParamSpec(("mode",), ("rapid", *_WINDOW))),
    "decreasing": Rule(rule_decreasing, ParamSpec(("mode",), ("rapid", *_WINDOW))),
    "greater_than": Rule(rule_greater_than, ParamSpec((), _WINDOW)),
    "balanced": Rule(rule_balanced, ParamSpec((), _WINDOW)),
    "imbalanced": Rule(rule_imbalanced, ParamSpec((), _WINDOW)),
    "rank_at_most": Rule(rule_rank_at_most, ParamSpec(("max_rank",))),
    "year_span": Rule(rule_year_span, ParamSpec(("from", "to"))),
    "not_checkable": Rule(rule_not_checkable, ParamSpec(needs_sql=False)),
}
