"""Failing rows and observed values of one expectation, described for the quality gate's verdicts.

Split out of :mod:`pipelines.audit.quality.gate`, which re-exports :class:`FailingRow`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.audit.quality.engine import BatchData, ValidationResult, jsonable
from pipelines.audit.quality.spec import ExpectationSpec
from pipelines.lib.numbers import fmt_number


@dataclass
class FailingRow:
    """A row (or a missing/unexpected value) an expectation did not accept."""

    row_label: str
    source_ref: str | None
    values: dict[str, Any]
    column_label: str | None = None
    stated: float | None = None
    computed: float | None = None
    source_table: str | None = None
    register_status: str | None = None  # known / unregistered, for stated-vs-computed rows
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"row_label": self.row_label, "source_ref": self.source_ref}
        if self.column_label is not None:
            d["column_label"] = self.column_label
        if self.source_table is not None:
            d.update(stated=self.stated, computed=self.computed, register=self.register_status)
        d.update(self.values)
        if self.note:
            d["note"] = self.note
        return jsonable(d)


def _num(value: Any) -> float | None:
    v = jsonable(value)
    if v is None or isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def fmt_value(value: Any, *, sep: bool = True) -> str:
    return fmt_number(jsonable(value), sep=sep)


def rows_from_indices(spec: ExpectationSpec, data: BatchData, indices: list[Any]) -> list[FailingRow]:
    frame = data.frame
    assert frame is not None
    rows: list[FailingRow] = []
    cols = [c for c in spec.columns if c in frame.columns]
    for idx in indices:
        try:
            rec = frame.loc[idx]
        except (KeyError, TypeError):
            continue
        values = {c: jsonable(rec[c]) for c in cols}
        row = FailingRow(
            row_label=str(rec.get("row_label")),
            source_ref=jsonable(rec.get("source_ref")),
            values=values,
        )
        d = spec.discrepancy
        if d is not None:
            row.row_label = str(jsonable(rec.get(d.row_label_column)))
            row.source_ref = jsonable(rec.get(d.source_ref_column))
            row.column_label = (
                str(jsonable(rec.get(d.column_label_column))) if d.column_label_column else d.column_label
            )
            row.stated = _num(rec.get(d.stated_column))
            row.computed = _num(rec.get(d.computed_column))
            row.source_table = d.source_table
        rows.append(row)
    return rows


def set_rows(spec: ExpectationSpec, result: dict[str, Any], data: BatchData) -> list[FailingRow]:
    """Missing / unexpected values of a distinct-values expectation as rows."""
    rows = []
    column = str(spec.kwargs.get("column", ""))
    refs: dict[str, Any] = {}
    if data.frame is not None and column in data.frame.columns:
        for _, rec in data.frame.iterrows():
            refs.setdefault(str(jsonable(rec[column])), jsonable(rec.get("source_ref")))
    for key, what in (("partial_missing_list", "missing"), ("partial_unexpected_list", "unexpected")):
        for value in result.get(key) or []:
            rows.append(
                FailingRow(
                    row_label=str(value),
                    source_ref=refs.get(str(value)),
                    values={column: value, "problem": what},
                )
            )
    return rows


def _column_range(spec: ExpectationSpec, data: BatchData) -> str:
    column = str(spec.kwargs.get("column", ""))
    if data.frame is None or column not in data.frame.columns:
        return ""
    values = [v for v in (jsonable(x) for x in data.frame[column].tolist()) if isinstance(v, int | float)]
    if not values:
        return "no values"
    lo, hi = min(values), max(values)
    return f"{column} = {fmt_value(lo)}" if lo == hi else f"{column} from {fmt_value(lo)} to {fmt_value(hi)}"


def _distinct(spec: ExpectationSpec, data: BatchData) -> str:
    column = str(spec.kwargs.get("column", ""))
    if data.frame is None or column not in data.frame.columns:
        return ""
    return f"{data.frame[column].nunique(dropna=True):,} distinct {column} values"


def describe_observed(spec: ExpectationSpec, vr: ValidationResult, data: BatchData) -> tuple[str, Any]:
    """What was observed, in words, and the observed number/value where there is one."""
    res = vr.result
    if vr.exception:
        return f"error: {vr.exception}", None
    if "unexpected_count" in res and "element_count" in res:
        n, total = int(res.get("unexpected_count") or 0), int(res.get("element_count") or 0)
        missing = int(res.get("missing_count") or 0)
        considered = total if spec.type == "expect_column_values_to_not_be_null" else total - missing
        if n == 0:
            text = f"all {considered:,} rows as expected"
            if spec.type == "expect_column_values_to_be_between":
                text += f" ({_column_range(spec, data)})"
            return text, 0
        shown = res.get("unexpected_list") or res.get("partial_unexpected_list") or []
        if shown and all(isinstance(x, list) and len(x) == 2 for x in shown):
            text = ", ".join(f"{fmt_value(a, sep=False)} vs {fmt_value(b, sep=False)}" for a, b in shown[:12])
            text += ", …" if len(shown) > 12 else ""
        else:
            text = fmt_value(shown)
        return f"{n:,} of {considered:,} rows unexpected: {text}", n
    if res.get("observed_value") is not None:
        value = res["observed_value"]
        if "type" in spec.type:
            return f"{spec.kwargs.get('column')}: {fmt_value(value)}", value
        if spec.type.startswith("expect_table_row_count"):
            return f"{fmt_value(value)} rows", value
        return fmt_value(value), value
    parts = []
    if "distinct_values" in spec.type:
        parts.append(_distinct(spec, data))
    if res.get("partial_missing_list"):
        parts.append(f"missing {fmt_value(res['partial_missing_list'])}")
    if res.get("partial_unexpected_list"):
        parts.append(f"unexpected {fmt_value(res['partial_unexpected_list'])}")
    text = "; ".join(p for p in parts if p)
    return (text or ("as expected" if vr.success else "not as expected")), None
