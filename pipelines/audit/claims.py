"""The paper's quantitative claims, judged against the warehouse.

``raw/claims.yml`` lists every sentence of the paper's prose that states a number, a trend, a ratio,
a ranking or a comparison, with a verdict rule (see the file's header for the rules, the hedge
tolerances and the column layout each rule expects). This module

- loads and validates the registry (:func:`load_registry`, :class:`RegistryError`),
- evaluates every claim on a DuckDB connection (:func:`evaluate_claims`),
- writes ``quality.claims`` (:func:`write_claims_table`),
- runs as the Dagster check ``claims_check`` (:data:`CLAIM_CHECKS`: one non-blocking WARN check per
  claim, attached to the mart the claim's evidence comes from),
- prints the verdicts for ``kzkr report`` (:func:`print_claims`).

Verdicts: ``supported``, ``contradicted``, ``not_checkable``. A check passes unless its claim is
contradicted (or its evidence query fails).
"""

import itertools
import math
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import dagster as dg
import duckdb
import yaml

from pipelines.settings import PROJECT_ROOT

REGISTRY_PATH = PROJECT_ROOT / "raw" / "claims.yml"
SUPPORTED, CONTRADICTED, NOT_CHECKABLE = "supported", "contradicted", "not_checkable"
VERDICTS = (SUPPORTED, CONTRADICTED, NOT_CHECKABLE)
MART_SCHEMAS = ("demography", "migration", "education", "trade", "analytics")

MIN_YEAR = 1800  # x values from here on are calendar years (growth per year is shown)
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_ASSET_RE = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
# One statement, starting with select/with (evaluation also runs on a read-only connection).
_QUERY_RE = re.compile(r"^(select|with)\b[^;]*$", re.IGNORECASE | re.DOTALL)
_STRING_RE = re.compile(r"'(?:[^']|'')*'")
_TABLE_REF_RE = re.compile(r"\b(" + "|".join(MART_SCHEMAS) + r")\.([a-z_][a-z0-9_]*)\b")

CLAIM_KEYS_REQUIRED = ("id", "quote", "section", "cites", "evidence_sql", "rule")
CLAIM_KEYS_OPTIONAL = ("params", "also", "asset", "checkable_part", "not_checkable_reason", "note")
TOP_KEYS_REQUIRED = ("version", "tolerances", "claims")
TOP_KEYS_OPTIONAL = ("paper", "default_asset")


class RegistryError(ValueError):
    """The claims registry is malformed (the message names the claim and the problem)."""


# --------------------------------------------------------------------------- hedges


@dataclass(frozen=True)
class Hedge:
    """A tolerance named once in the registry header and applied to every claim using the word."""

    name: str
    kind: str  # numeric | share | growth | ratio
    relative: float | None = None
    below: float | None = None
    above: float | None = None
    rounding: bool = False
    max_share_deviation: float | None = None
    min_annual_growth: float | None = None
    min_ratio: float | None = None

    def interval(self, stated: float) -> tuple[float, float, bool]:
        """(low, high, high_inclusive) of the values this hedge accepts around ``stated``."""
        if self.kind != "numeric":
            raise RegistryError(f"hedge {self.name!r} is not a numeric tolerance")
        if self.rounding:
            half = 0.5 * 10 ** (-_decimals(stated))
            return stated - half, stated + half, False
        if self.relative is not None:
            return stated * (1 - self.relative), stated * (1 + self.relative), True
        return stated * (1 - (self.below or 0.0)), stated * (1 + (self.above or 0.0)), True

    def accepts(self, observed: float, stated: float) -> bool:
        lo, hi, inclusive = self.interval(stated)
        eps = 1e-9 * max(1.0, abs(stated))
        return lo - eps <= observed and (observed <= hi + eps if inclusive else observed < hi - eps)

    def describe(self, stated: float) -> str:
        lo, hi, _ = self.interval(stated)
        if self.rounding:
            return f"rounds to {fmt(stated)} ({fmt(lo)} <= x < {fmt(hi)})"
        return f"{self.name.replace('_', ' ')} {fmt(stated)}: {fmt(lo)} to {fmt(hi)}"


def _decimals(x: float) -> int:
    text = repr(float(x))
    if "e" in text or "E" in text:
        return 0
    frac = text.split(".")[1].rstrip("0") if "." in text else ""
    return len(frac)


_HEDGE_SHAPES: dict[frozenset[str], str] = {
    frozenset({"relative"}): "numeric",
    frozenset({"below", "above"}): "numeric",
    frozenset({"below"}): "numeric",
    frozenset({"rounding"}): "numeric",
    frozenset({"max_share_deviation"}): "share",
    frozenset({"min_annual_growth"}): "growth",
    frozenset({"min_ratio"}): "ratio",
}


def _parse_hedge(name: str, spec: Any) -> Hedge:
    if not isinstance(spec, Mapping) or not spec:
        raise RegistryError(f"tolerance {name!r}: expected a mapping such as {{relative: 0.2}}")
    kind = _HEDGE_SHAPES.get(frozenset(spec))
    if kind is None:
        raise RegistryError(
            f"tolerance {name!r}: unknown shape {sorted(spec)}; use one of "
            + ", ".join("{" + ", ".join(sorted(s)) + "}" for s in _HEDGE_SHAPES)
        )
    values: dict[str, Any] = {}
    for key, value in spec.items():
        if key == "rounding":
            if value is not True:
                raise RegistryError(f"tolerance {name!r}: rounding must be true")
            values[key] = True
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise RegistryError(f"tolerance {name!r}: {key} must be a non-negative number")
        values[key] = float(value)
    return Hedge(name=name, kind=kind, **values)


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Check:
    rule: str
    params: Mapping[str, Any]
    evidence_sql: str | None


@dataclass(frozen=True)
class Claim:
    id: str
    quote: str
    section: str
    cites: tuple[str, ...]
    asset: str
    check: Check
    also: tuple[Check, ...] = ()
    checkable_part: str | None = None
    not_checkable_reason: str | None = None
    note: str | None = None

    @property
    def check_name(self) -> str:
        return f"claim_{self.id}"

    @property
    def asset_key(self) -> dg.AssetKey:
        return dg.AssetKey(self.asset.split("."))


@dataclass(frozen=True)
class Registry:
    claims: tuple[Claim, ...]
    tolerances: Mapping[str, Hedge]
    default_asset: str
    path: Path | None = None

    def by_id(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(claim_id)


@dataclass(frozen=True)
class ParamSpec:
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    hedge_params: Mapping[str, str] = field(default_factory=dict)  # param -> hedge kind
    needs_sql: bool = True


def _load_yaml(source: Path | str | Mapping[str, Any]) -> tuple[Mapping[str, Any], Path | None]:
    if isinstance(source, Mapping):
        return source, None
    path = Path(source)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise RegistryError(f"{path}: the registry must be a mapping with a `claims` list")
    return data, path


def load_registry(source: Path | str | Mapping[str, Any] = REGISTRY_PATH) -> Registry:
    """Read and validate the registry: required keys, known rules and hedges, unique ids."""
    data, path = _load_yaml(source)
    where = str(path) if path else "registry"
    missing = [k for k in TOP_KEYS_REQUIRED if k not in data]
    if missing:
        raise RegistryError(f"{where}: missing top-level key(s) {missing}")
    unknown = sorted(set(data) - set(TOP_KEYS_REQUIRED) - set(TOP_KEYS_OPTIONAL))
    if unknown:
        raise RegistryError(f"{where}: unknown top-level key(s) {unknown}")
    if not isinstance(data["tolerances"], Mapping):
        raise RegistryError(f"{where}: `tolerances` must be a mapping")
    tolerances = {str(n): _parse_hedge(str(n), s) for n, s in data["tolerances"].items()}
    default_asset = str(data.get("default_asset") or "analytics.yearly_overview")
    if not _ASSET_RE.match(default_asset):
        raise RegistryError(f"{where}: default_asset {default_asset!r} is not schema.model")
    raw_claims = data["claims"]
    if not isinstance(raw_claims, list) or not raw_claims:
        raise RegistryError(f"{where}: `claims` must be a non-empty list")
    claims: list[Claim] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_claims):
        claim = _parse_claim(raw, i, tolerances, default_asset)
        if claim.id in seen:
            raise RegistryError(f"claim {claim.id!r}: duplicate id")
        seen.add(claim.id)
        claims.append(claim)
    return Registry(tuple(claims), tolerances, default_asset, path)


def _parse_claim(raw: Any, index: int, tolerances: Mapping[str, Hedge], default_asset: str) -> Claim:
    if not isinstance(raw, Mapping):
        raise RegistryError(f"claim #{index + 1}: expected a mapping")
    label = f"claim {raw.get('id')!r}" if raw.get("id") else f"claim #{index + 1}"
    missing = [k for k in CLAIM_KEYS_REQUIRED if k not in raw]
    if missing:
        raise RegistryError(f"{label}: missing key(s) {missing}")
    unknown = sorted(set(raw) - set(CLAIM_KEYS_REQUIRED) - set(CLAIM_KEYS_OPTIONAL))
    if unknown:
        raise RegistryError(f"{label}: unknown key(s) {unknown}")
    cid = raw["id"]
    if not isinstance(cid, str) or not _ID_RE.match(cid):
        raise RegistryError(f"{label}: id must be snake_case (letters, digits, underscores)")
    for key in ("quote", "section"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise RegistryError(f"{label}: `{key}` must be a non-empty string")
    cites = raw["cites"]
    if not isinstance(cites, list) or not all(isinstance(c, str) for c in cites):
        raise RegistryError(f"{label}: `cites` must be a list of strings (e.g. [Table 3])")
    check = _parse_check(raw, label, tolerances)
    also_raw = raw.get("also") or []
    if not isinstance(also_raw, list):
        raise RegistryError(f"{label}: `also` must be a list")
    also = []
    for j, extra in enumerate(also_raw):
        if not isinstance(extra, Mapping) or set(extra) - {"rule", "params", "evidence_sql"}:
            raise RegistryError(f"{label}: also[{j}] must hold only rule, params, evidence_sql")
        sub = _parse_check(extra, f"{label} also[{j}]", tolerances)
        if sub.rule == "not_checkable":
            raise RegistryError(f"{label} also[{j}]: rule not_checkable is only for the main rule")
        also.append(sub)
    reason = raw.get("not_checkable_reason")
    if check.rule == "not_checkable" and not (isinstance(reason, str) and reason.strip()):
        raise RegistryError(f"{label}: rule not_checkable needs a `not_checkable_reason`")
    asset = raw.get("asset") or _asset_from_sql(check.evidence_sql) or default_asset
    if not isinstance(asset, str) or not _ASSET_RE.match(asset):
        raise RegistryError(f"{label}: asset {asset!r} is not schema.model")
    for key in ("checkable_part", "note"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise RegistryError(f"{label}: `{key}` must be a string")
    return Claim(
        id=cid,
        quote=raw["quote"],
        section=raw["section"],
        cites=tuple(cites),
        asset=asset,
        check=check,
        also=tuple(also),
        checkable_part=raw.get("checkable_part"),
        not_checkable_reason=reason,
        note=raw.get("note"),
    )


def _asset_from_sql(sql: str | None) -> str | None:
    m = _TABLE_REF_RE.search(sql or "")
    return f"{m.group(1)}.{m.group(2)}" if m else None


def _parse_check(raw: Mapping[str, Any], label: str, tolerances: Mapping[str, Hedge]) -> Check:
    rule = raw.get("rule")
    if rule not in RULES:
        raise RegistryError(f"{label}: unknown rule {rule!r}; known rules: {', '.join(sorted(RULES))}")
    spec = RULES[rule].params
    params = raw.get("params") or {}
    if not isinstance(params, Mapping):
        raise RegistryError(f"{label}: `params` must be a mapping")
    missing = [p for p in spec.required if p not in params]
    if missing:
        raise RegistryError(f"{label}: rule {rule} needs param(s) {missing}")
    unknown = sorted(set(params) - set(spec.required) - set(spec.optional))
    if unknown:
        raise RegistryError(f"{label}: rule {rule} does not take param(s) {unknown}")
    for pname, kind in spec.hedge_params.items():
        if pname in params:
            hedge = tolerances.get(str(params[pname]))
            if hedge is None:
                raise RegistryError(
                    f"{label}: {pname} {params[pname]!r} is not a tolerance of the registry header "
                    f"({', '.join(sorted(tolerances))})"
                )
            if hedge.kind != kind:
                raise RegistryError(
                    f"{label}: {pname} {params[pname]!r} is a {hedge.kind} tolerance, not {kind}"
                )
    if "window" in params:
        w = params["window"]
        if not (isinstance(w, Mapping) and set(w) <= {"from", "to"} and w):
            raise RegistryError(f"{label}: window must be {{from: YEAR, to: YEAR}}")
    if rule == "values_match" and not (isinstance(params["values"], Mapping) and params["values"]):
        raise RegistryError(f"{label}: values_match needs a non-empty `values` mapping")
    if rule in ("increasing", "decreasing") and params["mode"] not in ("overall", "every_step"):
        raise RegistryError(f"{label}: mode must be overall or every_step")
    for num in ("stated", "max_rank", "from", "to"):
        if num in params and rule != "equals" and not _is_number(params[num]):
            raise RegistryError(f"{label}: {num} must be a number")
    sql = raw.get("evidence_sql")
    if sql is not None and (not isinstance(sql, str) or not sql.strip()):
        raise RegistryError(f"{label}: evidence_sql must be a query or null")
    if sql is not None and not _QUERY_RE.match(_STRING_RE.sub("''", sql).strip().rstrip(";")):
        raise RegistryError(f"{label}: evidence_sql must be one read-only query (select … / with …)")
    if spec.needs_sql and sql is None:
        raise RegistryError(f"{label}: rule {rule} needs an evidence_sql")
    return Check(rule=str(rule), params=dict(params), evidence_sql=sql)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)


# --------------------------------------------------------------------------- formatting


def fmt(x: Any) -> str:
    """A number for people: thousands separators, few decimals; text as is; None as '-'."""
    if x is None:
        return "-"
    if isinstance(x, bool) or not _is_number(x):
        return str(x)
    f = float(x)
    if math.isfinite(f) and f == int(f) and abs(f) < 1e15:
        return f"{int(f):,}"
    if abs(f) >= 1000:
        return f"{f:,.0f}"
    if abs(f) >= 10:
        return f"{f:,.2f}".rstrip("0").rstrip(".")
    return f"{f:.3f}".rstrip("0").rstrip(".")


def _pct(x: float) -> str:
    return f"{x * 100:+.1f} %"


def _key(v: Any) -> str:
    if _is_number(v) and float(v) == int(float(v)):
        return str(int(float(v)))
    return str(v)


def _rows_text(rows: Sequence[Mapping[str, Any]], limit: int = 30) -> str:
    def cell(k: str, v: Any) -> str:  # years without thousands separators
        return _key(v) if "year" in k.lower() and _is_number(v) else fmt(v)

    parts = ["; ".join(f"{k}={cell(k, v)}" for k, v in r.items()) for r in rows[:limit]]
    more = f" (+{len(rows) - limit} more rows)" if len(rows) > limit else ""
    return " | ".join(parts) + more if parts else "no rows"


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Outcome:
    verdict: str
    computed: str
    stated: str
    evidence: str
    reason: str


Rows = list[dict[str, Any]]
RuleFn = Callable[[Rows, Mapping[str, Any], Mapping[str, Hedge]], Outcome]


@dataclass(frozen=True)
class Rule:
    fn: RuleFn
    params: ParamSpec


class EvidenceError(Exception):
    """The evidence does not have the columns or shape the rule expects."""


def _col(row: Mapping[str, Any], name: str) -> Any:
    if name not in row:
        raise EvidenceError(f"the evidence query must return a column {name!r} (got {sorted(row)})")
    return row[name]


def _num(v: Any) -> float | None:
    return None if v is None else float(v)


def _window(rows: Rows, params: Mapping[str, Any], key: str) -> tuple[Rows, Rows]:
    w = params.get("window")
    if not w:
        return rows, []
    lo, hi = w.get("from", -math.inf), w.get("to", math.inf)
    inside, outside = [], []
    for r in rows:
        v = _col(r, key)
        try:
            k = float(v)
        except (TypeError, ValueError) as exc:
            raise EvidenceError(f"window needs numeric {key} values, got {v!r}") from exc
        (inside if lo <= k <= hi else outside).append(r)
    return inside, outside


def _window_text(params: Mapping[str, Any]) -> str:
    w = params.get("window")
    return f"checked {w.get('from', '…')}-{w.get('to', '…')}" if w else ""


def _outside_text(outside: Rows, key: str, value_cols: Sequence[str]) -> str:
    if not outside:
        return ""
    vals = ", ".join(f"{_key(r[key])}: " + "/".join(fmt(r.get(c)) for c in value_cols) for r in outside[:12])
    return f"; outside the window (context): {vals}"


def _single(rows: Rows) -> dict[str, Any]:
    if len(rows) != 1:
        raise EvidenceError(f"the evidence query must return exactly one row (got {len(rows)})")
    return rows[0]


def rule_equals(rows: Rows, params: Mapping[str, Any], tol: Mapping[str, Hedge]) -> Outcome:
    if not rows:
        return Outcome(
            NOT_CHECKABLE, "-", fmt(params["stated"]), "no rows", "the evidence query returned no rows"
        )
    row = _single(rows)
    value, stated = _col(row, "value"), params["stated"]
    detail = f" ({row['detail']})" if row.get("detail") else ""
    evidence = f"value={fmt(value)}{detail}"
    if value is None:
        return Outcome(NOT_CHECKABLE, "-", fmt(stated), evidence, "the evidence value is NULL")
    if _is_number(stated):
        hedge = tol[params["hedge"]] if "hedge" in params else None
        ok = (
            hedge.accepts(float(value), float(stated)) if hedge else math.isclose(float(value), float(stated))
        )
        how = hedge.describe(float(stated)) if hedge else f"exactly {fmt(stated)}"
    else:
        ok, how = str(value) == str(stated), f"exactly {stated!r}"
    verdict = SUPPORTED if ok else CONTRADICTED
    return Outcome(verdict, fmt(value), fmt(stated), evidence, f"observed {fmt(value)}; expected {how}")


def rule_approx(rows: Rows, params: Mapping[str, Any], tol: Mapping[str, Hedge]) -> Outcome:
    stated, hedge = float(params["stated"]), tol[params["hedge"]]
    inside, outside = _window(rows, params, "label")
    values = [(r, _num(_col(r, "value"))) for r in inside]
    present = [(r, v) for r, v in values if v is not None]
    nulls = [_key(r["label"]) for r, v in values if v is None]
    computed = "; ".join(f"{_key(r['label'])}: {fmt(v)}" for r, v in present) or "-"
    evidence = computed + (f"; not printed: {', '.join(nulls)}" if nulls else "")
    evidence += _outside_text(outside, "label", ["value"])
    if not present:
        return Outcome(NOT_CHECKABLE, "-", fmt(stated), evidence, "no value to compare")
    bad = [(r, v) for r, v in present if not hedge.accepts(v, stated)]
    how = hedge.describe(stated)
    scope = f" ({_window_text(params)})" if params.get("window") else ""
    if bad:
        listed = ", ".join(f"{_key(r['label'])}: {fmt(v)}" for r, v in bad)
        mean = sum(v for _, v in present) / len(present)
        return Outcome(
            CONTRADICTED,
            computed,
            fmt(stated),
            evidence,
            f"{len(bad)} of {len(present)} values outside {how}{scope}: {listed} (mean {fmt(mean)})",
        )
    return Outcome(
        SUPPORTED, computed, fmt(stated), evidence, f"all {len(present)} values within {how}{scope}"
    )


def rule_ratio_approx(rows: Rows, params: Mapping[str, Any], tol: Mapping[str, Hedge]) -> Outcome:
    stated, hedge = float(params["stated"]), tol[params["hedge"]]
    if not rows:
        return Outcome(NOT_CHECKABLE, "-", fmt(stated), "no rows", "the evidence query returned no rows")
    row = _single(rows)
    num, den = _num(_col(row, "numerator")), _num(_col(row, "denominator"))
    label = f"{row['label']}: " if row.get("label") else ""
    evidence = f"{label}{fmt(num)} / {fmt(den)}"
    if num is None or den is None or den == 0:
        return Outcome(NOT_CHECKABLE, "-", fmt(stated), evidence, "numerator or denominator missing or zero")
    ratio = num / den
    ok = hedge.accepts(ratio, stated)
    evidence += f" = {ratio:.3f}"
    reason = f"ratio {ratio:.3f}; {'within' if ok else 'outside'} {hedge.describe(stated)}"
    return Outcome(SUPPORTED if ok else CONTRADICTED, f"{ratio:.2f}", fmt(stated), evidence, reason)


def rule_values_match(rows: Rows, params: Mapping[str, Any], tol: Mapping[str, Hedge]) -> Outcome:
    table = {_key(_col(r, "key")): _col(r, "value") for r in rows}
    stated = {_key(k): v for k, v in params["values"].items()}
    years = all(
        _is_number(v) and float(v).is_integer() and MIN_YEAR <= float(v) <= 2100 for v in stated.values()
    )

    def show(v: Any) -> str:
        return _key(v) if years and _is_number(v) else fmt(v)

    stated_text = "; ".join(f"{k}: {show(v)}" for k, v in stated.items())
    keys = list(table)
    span = f"{keys[0]}-{keys[-1]}" if keys and all(k.isdigit() for k in keys) else ", ".join(keys)
    evidence = "; ".join(f"{k}: {show(v)}" for k, v in table.items()) or "no rows"
    if not table:
        return Outcome(NOT_CHECKABLE, "-", stated_text, evidence, "the evidence query returned no rows")
    problems, computed = [], []
    for k, v in stated.items():
        if k not in table:
            computed.append(f"{k}: absent")
            where = [
                tk for tk, tv in table.items() if _is_number(tv) and _is_number(v) and float(tv) == float(v)
            ]
            hint = f"; {show(v)} is the value printed for {', '.join(where)}" if where else ""
            problems.append(f"{k} is not in the cited table (it covers {span}){hint}")
        elif table[k] is None:
            computed.append(f"{k}: not printed")
            problems.append(f"{k} is printed as '-' in the cited table")
        else:
            computed.append(f"{k}: {show(table[k])}")
            same = _is_number(v) and _is_number(table[k]) and float(table[k]) == float(v)
            if not same and str(table[k]) != str(v):
                problems.append(f"{k}: the table has {show(table[k])}, the prose {show(v)}")
    if problems:
        return Outcome(CONTRADICTED, "; ".join(computed), stated_text, evidence, "; ".join(problems))
    return Outcome(
        SUPPORTED, "; ".join(computed), stated_text, evidence, "every stated value matches the table"
    )


def _trend(rows: Rows, params: Mapping[str, Any], tol: Mapping[str, Hedge], sign: int) -> Outcome:
    word = "increase" if sign > 0 else "decrease"
    inside, outside = _window(rows, params, "x")
    series: dict[str, list[tuple[float, float | None]]] = {}
    for r in inside:
        series.setdefault(str(_col(r, "series")), []).append((float(_col(r, "x")), _num(_col(r, "value"))))
    min_growth = tol[params["min_annual_growth"]].min_annual_growth if "min_annual_growth" in params else None
    stated = f"{word} ({params['mode'].replace('_', ' ')})" + (
        f", at least {_pct(min_growth)}/yr ({params['min_annual_growth']})" if min_growth is not None else ""
    )
    if not series:
        return Outcome(
            NOT_CHECKABLE, "-", stated, "no rows", "no data in the window" if outside else "no rows"
        )
    computed, evidence, fails, unknown = [], [], [], []

    def prefix(name: str) -> str:
        return f"{name} " if len(series) > 1 else ""

    for name, pts in series.items():
        pts.sort()
        skipped = [_key(x) for x, v in pts if v is None]
        pts_ok = [(x, v) for x, v in pts if v is not None]
        evidence.append(
            f"{name}: "
            + ", ".join(f"{_key(x)}: {fmt(v)}" for x, v in pts_ok)
            + (f" (not printed: {', '.join(skipped)})" if skipped else "")
        )
        need = 3 if params["mode"] == "every_step" else 2
        if len(pts_ok) < need:
            unknown.append(
                f"{name}: {len(pts_ok)} point(s); "
                + ("a steady trend needs at least three" if need == 3 else "a trend needs two")
            )
            if len(pts_ok) == 2:
                (x0, v0), (x1, v1) = pts_ok
                computed.append(f"{prefix(name)}{_key(x0)}->{_key(x1)}: {fmt(v0)} -> {fmt(v1)}")
            continue
        (x0, v0), (x1, v1) = pts_ok[0], pts_ok[-1]
        assert v0 is not None and v1 is not None
        change = (v1 - v0) / v0 if v0 else math.inf
        text = f"{prefix(name)}{_key(x0)}->{_key(x1)}: {fmt(v0)} -> {fmt(v1)} ({_pct(change)}"
        growth = None
        if v0 > 0 and v1 > 0 and x1 > x0 and x0 >= MIN_YEAR:  # compound growth only when x is a year
            growth = (v1 / v0) ** (1 / (x1 - x0)) - 1
            if min_growth is not None:
                text += f", {_pct(growth)}/yr"
        computed.append(text + ")")
        failed = False
        if params["mode"] == "every_step":
            bad = [
                f"{_key(xa)}->{_key(xb)}: {fmt(va)} -> {fmt(vb)}"
                for (xa, va), (xb, vb) in itertools.pairwise(pts_ok)
                if not sign * (vb - va) > 0
            ]
            if bad:
                failed = True
                fails.append(f"{name}: no {word} in {len(bad)} of {len(pts_ok) - 1} steps ({'; '.join(bad)})")
        elif not sign * (v1 - v0) > 0:
            failed = True
            fails.append(f"{name}: no {word} from {_key(x0)} to {_key(x1)} ({fmt(v0)} -> {fmt(v1)})")
        if min_growth is not None and not failed and (growth is None or sign * growth < min_growth):
            fails.append(
                f"{name}: {_pct(growth or 0.0)}/yr is below the {params['min_annual_growth']} "
                f"threshold of {_pct(sign * min_growth)}/yr"
            )
    ev = " | ".join(evidence) + _outside_text(outside, "x", ["value"])
    scope = f" ({_window_text(params)})" if params.get("window") else ""
    if fails:
        return Outcome(CONTRADICTED, "; ".join(computed), stated, ev, "; ".join(fails) + scope)
    if unknown:
        return Outcome(NOT_CHECKABLE, "; ".join(computed) or "-", stated, ev, "; ".join(unknown) + scope)
    return Outcome(SUPPORTED, "; ".join(computed), stated, ev, f"every series shows the {word}{scope}")


def rule_increasing(rows: Rows, params: Mapping[str, Any], tol: Mapping[str, Hedge]) -> Outcome:
    return _trend(rows, params, tol, +1)


def rule_decreasing(rows: Rows, params: Mapping[str, Any], tol: Mapping[str, Hedge]) -> Outcome:
    return _trend(rows, params, tol, -1)


def rule_greater_than(rows: Rows, params: Mapping[str, Any], tol: Mapping[str, Hedge]) -> Outcome:
    min_ratio = tol[params["min_ratio"]].min_ratio if "min_ratio" in params else None
    stated = "a > b" + (f" by at least x{fmt(min_ratio)} ({params['min_ratio']})" if min_ratio else "")
    inside, outside = _window(rows, params, "label")
    present, nulls = [], []
    for r in inside:
        a, b = _num(_col(r, "a")), _num(_col(r, "b"))
        if a is None or b is None:
            nulls.append(_key(r["label"]))
        else:
            present.append((_key(r["label"]), a, b))

    def show(label: str, a: float, b: float) -> str:
        return f"{label}: {fmt(a)} vs {fmt(b)}" + (f" (x{a / b:.2f})" if b else "")

    computed = "; ".join(show(*p) for p in present) or "-"
    evidence = computed + (f"; not printed: {', '.join(nulls)}" if nulls else "")
    evidence += _outside_text(outside, "label", ["a", "b"])
    if not present:
        return Outcome(NOT_CHECKABLE, "-", stated, evidence, "no pair of values to compare")
    bad = [
        p
        for p in present
        if not (p[1] > p[2] and (min_ratio is None or (p[2] > 0 and p[1] / p[2] >= min_ratio)))
    ]
    scope = f" ({_window_text(params)})" if params.get("window") else ""
    if bad:
        return Outcome(
            CONTRADICTED,
            computed,
            stated,
            evidence,
            f"fails in {len(bad)} of {len(present)}: " + "; ".join(show(*p) for p in bad) + scope,
        )
    return Outcome(SUPPORTED, computed, stated, evidence, f"holds in all {len(present)} rows{scope}")


def rule_rank_at_most(rows: Rows, params: Mapping[str, Any], tol: Mapping[str, Hedge]) -> Outcome:
    max_rank = int(params["max_rank"])
    stated = f"rank <= {max_rank}"
    ranks = [(_key(_col(r, "label")), _num(_col(r, "rank"))) for r in rows]
    computed = "; ".join(f"{lab}: {fmt(rk)}" for lab, rk in ranks) or "-"
    present = [(lab, rk) for lab, rk in ranks if rk is not None]
    if not present:
        return Outcome(NOT_CHECKABLE, "-", stated, computed, "no rank in the evidence")
    bad = [(lab, rk) for lab, rk in present if rk > max_rank]
    if bad:
        return Outcome(
            CONTRADICTED,
            computed,
            stated,
            computed,
            "ranked below " + str(max_rank) + ": " + "; ".join(f"{lab}: {fmt(rk)}" for lab, rk in bad),
        )
    worst = max(rk for _, rk in present)
    return Outcome(SUPPORTED, computed, stated, computed, f"every rank <= {max_rank} (lowest: {fmt(worst)})")


def rule_year_span(rows: Rows, params: Mapping[str, Any], tol: Mapping[str, Hedge]) -> Outcome:
    stated = f"{params['from']}-{params['to']}"
    if not rows:
        return Outcome(NOT_CHECKABLE, "-", stated, "no rows", "the evidence query returned no rows")
    row = _single(rows)
    first, last = _col(row, "first_year"), _col(row, "last_year")
    computed = f"{fmt(first).replace(',', '')}-{fmt(last).replace(',', '')}"
    evidence = computed + (f" ({row['detail']})" if row.get("detail") else "")
    if first is None or last is None:
        return Outcome(NOT_CHECKABLE, "-", stated, evidence, "no years in the evidence")
    ok = int(first) == int(params["from"]) and int(last) == int(params["to"])
    return Outcome(
        SUPPORTED if ok else CONTRADICTED,
        computed,
        stated,
        evidence,
        f"the data cover {computed}; the prose says {stated}",
    )


def rule_balanced(rows: Rows, params: Mapping[str, Any], tol: Mapping[str, Hedge]) -> Outcome:
    hedge = tol[params["hedge"]]
    dev = hedge.max_share_deviation or 0.0
    stated = f"each share within 50 % +- {dev * 100:.0f} points ({hedge.name})"
    inside, outside = _window(rows, params, "label")
    shares, nulls = [], []
    for r in inside:
        a, b = _num(_col(r, "a")), _num(_col(r, "b"))
        if a is None or b is None or a + b == 0:
            nulls.append(_key(r["label"]))
        else:
            shares.append((_key(r["label"]), a / (a + b)))
    computed = "; ".join(f"{lab}: {s * 100:.1f} %" for lab, s in shares) or "-"
    evidence = "share of a: " + computed + (f"; not printed: {', '.join(nulls)}" if nulls else "")
    evidence += _outside_text(outside, "label", ["a", "b"])
    if not shares:
        return Outcome(NOT_CHECKABLE, "-", stated, evidence, "no pair of values to compare")
    bad = [(lab, s) for lab, s in shares if abs(s - 0.5) > dev + 1e-12]
    widest = max(shares, key=lambda p: abs(p[1] - 0.5))
    if bad:
        return Outcome(
            CONTRADICTED,
            computed,
            stated,
            evidence,
            "outside the band: " + "; ".join(f"{lab}: {s * 100:.1f} %" for lab, s in bad),
        )
    return Outcome(
        SUPPORTED,
        computed,
        stated,
        evidence,
        f"all {len(shares)} within the band (widest: {widest[0]}, {widest[1] * 100:.1f} %)",
    )


def rule_not_checkable(rows: Rows, params: Mapping[str, Any], tol: Mapping[str, Hedge]) -> Outcome:
    return Outcome(NOT_CHECKABLE, "-", "-", _rows_text(rows) if rows else "-", "")


_WINDOW = ("window",)
RULES: dict[str, Rule] = {
    "equals": Rule(rule_equals, ParamSpec(("stated",), ("hedge",), {"hedge": "numeric"})),
    "approx": Rule(rule_approx, ParamSpec(("stated", "hedge"), _WINDOW, {"hedge": "numeric"})),
    "ratio_approx": Rule(rule_ratio_approx, ParamSpec(("stated", "hedge"), (), {"hedge": "numeric"})),
    "values_match": Rule(rule_values_match, ParamSpec(("values",))),
    "increasing": Rule(
        rule_increasing,
        ParamSpec(("mode",), ("min_annual_growth", *_WINDOW), {"min_annual_growth": "growth"}),
    ),
    "decreasing": Rule(
        rule_decreasing,
        ParamSpec(("mode",), ("min_annual_growth", *_WINDOW), {"min_annual_growth": "growth"}),
    ),
    "greater_than": Rule(rule_greater_than, ParamSpec((), ("min_ratio", *_WINDOW), {"min_ratio": "ratio"})),
    "rank_at_most": Rule(rule_rank_at_most, ParamSpec(("max_rank",))),
    "year_span": Rule(rule_year_span, ParamSpec(("from", "to"))),
    "balanced": Rule(rule_balanced, ParamSpec(("hedge",), _WINDOW, {"hedge": "share"})),
    "not_checkable": Rule(rule_not_checkable, ParamSpec(needs_sql=False)),
}


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class ClaimResult:
    claim_id: str
    section: str
    quote: str
    cites: tuple[str, ...]
    asset: str
    rule: str
    stated: str
    computed: str
    evidence: str
    verdict: str
    reason: str
    checkable_part: str | None
    error: bool = False

    @property
    def passed(self) -> bool:
        return self.verdict != CONTRADICTED and not self.error


def query_rows(con: duckdb.DuckDBPyConnection, sql: str) -> Rows:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def evaluate_check(con: duckdb.DuckDBPyConnection, check: Check, tolerances: Mapping[str, Hedge]) -> Outcome:
    rows = query_rows(con, check.evidence_sql) if check.evidence_sql else []
    return RULES[check.rule].fn(rows, check.params, tolerances)


def evaluate_claim(con: duckdb.DuckDBPyConnection, claim: Claim, registry: Registry) -> ClaimResult:
    outcomes: list[Outcome] = []
    error = False
    for check in (claim.check, *claim.also):
        try:
            outcomes.append(evaluate_check(con, check, registry.tolerances))
        except (duckdb.Error, EvidenceError) as exc:
            error = True
            msg = str(exc).strip().splitlines()[0]
            outcomes.append(
                Outcome(NOT_CHECKABLE, "-", "-", "-", f"evidence for rule {check.rule} failed: {msg}")
            )
    main = outcomes[0]
    verdicts = [o.verdict for o in outcomes]
    if CONTRADICTED in verdicts:
        verdict = CONTRADICTED
    elif all(v == SUPPORTED for v in verdicts):
        verdict = SUPPORTED
    else:
        verdict = NOT_CHECKABLE
    reasons = []
    if claim.check.rule == "not_checkable" and claim.not_checkable_reason:
        reasons.append(claim.not_checkable_reason.strip())
    for check, o in zip((claim.check, *claim.also), outcomes, strict=True):
        if o.reason:
            reasons.append(f"{check.rule}: {o.reason}")
    if claim.note:
        reasons.append(f"note: {claim.note.strip()}")
    evidence = " || ".join(o.evidence for o in outcomes if o.evidence and o.evidence != "-") or "-"
    return ClaimResult(
        claim_id=claim.id,
        section=claim.section,
        quote=claim.quote,
        cites=claim.cites,
        asset=claim.asset,
        rule=claim.check.rule + "".join(f" + {c.rule}" for c in claim.also),
        stated=main.stated,
        computed=main.computed,
        evidence=evidence,
        verdict=verdict,
        reason=" ".join(r if r.endswith(".") else r + "." for r in reasons),
        checkable_part=claim.checkable_part,
        error=error,
    )


def evaluate_claims(con: duckdb.DuckDBPyConnection, registry: Registry | None = None) -> list[ClaimResult]:
    """Evaluate every claim of the registry (default: ``raw/claims.yml``) on ``con``."""
    reg = registry or REGISTRY
    return [evaluate_claim(con, c, reg) for c in reg.claims]


def verdict_counts(results: Sequence[ClaimResult]) -> dict[str, int]:
    return {v: sum(r.verdict == v for r in results) for v in VERDICTS}


CLAIMS_DDL = """
create or replace table quality.claims (
    claim_id varchar primary key,
    section varchar not null,
    quote varchar not null,
    evidence varchar,
    computed varchar,
    verdict varchar not null check (verdict in ('supported', 'contradicted', 'not_checkable')),
    rule varchar not null,
    reason varchar,
    stated varchar,
    cites varchar[],
    asset varchar,
    checkable_part varchar,
    evidence_failed boolean not null
)
"""


def write_claims_table(con: duckdb.DuckDBPyConnection, results: Sequence[ClaimResult]) -> int:
    """(Re)create ``quality.claims`` with one row per claim. Returns the number of rows."""
    con.execute("create schema if not exists quality")
    con.execute(CLAIMS_DDL)
    con.executemany(
        "insert into quality.claims values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                r.claim_id,
                r.section,
                r.quote,
                r.evidence,
                r.computed,
                r.verdict,
                r.rule,
                r.reason,
                r.stated,
                list(r.cites),
                r.asset,
                r.checkable_part,
                r.error,
            ]
            for r in results
        ],
    )
    con.execute(
        "comment on table quality.claims is 'Each quantitative sentence of the paper''s prose "
        "(raw/claims.yml) with its verdict against the warehouse: supported, contradicted or not_checkable.'"
    )
    return len(results)


# --------------------------------------------------------------------------- report


def claims_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int] | None:
    """Verdict counts recorded in ``quality.claims`` (for the build summary), or None without the table."""
    try:
        rows = con.execute("select verdict, count(*) from quality.claims group by verdict").fetchall()
    except duckdb.Error:
        return None
    counts = dict.fromkeys(VERDICTS, 0)
    counts.update({str(v): int(n) for v, n in rows})
    return counts


def claims_summary_line(counts: Mapping[str, int]) -> str:
    s, x, n = (counts.get(v, 0) for v in VERDICTS)
    return (
        f"claims: {sum(counts.values())} quantitative claims of the paper: "
        f"{s} supported, {x} contradicted, {n} not checkable"
    )


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_claims(con: duckdb.DuckDBPyConnection, out: TextIO | None = None) -> int:
    """Print the claim verdicts (from ``quality.claims`` if the warehouse has it, else evaluated now).

    Returns the number of contradicted claims.
    """
    out = out or sys.stdout
    has_table = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'quality' and table_name = 'claims'"
    ).fetchone()
    rows: list[tuple[str, str, str, str, str, str]]
    if has_table and has_table[0]:
        rows = [
            (str(a), str(b), str(c or "-"), str(d or "-"), str(e), str(f or ""))
            for a, b, c, d, e, f in con.execute(
                "select claim_id, verdict, computed, stated, quote, reason from quality.claims"
            ).fetchall()
        ]
        origin = "quality.claims"
    else:
        rows = [
            (r.claim_id, r.verdict, r.computed, r.stated, r.quote, r.reason) for r in evaluate_claims(con)
        ]
        origin = "evaluated now (the warehouse has no quality.claims)"
    order = {CONTRADICTED: 0, SUPPORTED: 1, NOT_CHECKABLE: 2}
    rows.sort(key=lambda r: order.get(r[1], 3))
    counts = {v: sum(r[1] == v for r in rows) for v in VERDICTS}
    print(
        f"Claims of the paper's prose: {len(rows)} — {counts[SUPPORTED]} supported, "
        f"{counts[CONTRADICTED]} contradicted, {counts[NOT_CHECKABLE]} not checkable ({origin})",
        file=out,
    )
    print(f"  {'claim':<46} {'verdict':<13} {'computed | stated':<56} quote", file=out)
    for cid, verdict, computed, stated, quote, _ in rows:
        cmp = "-" if verdict == NOT_CHECKABLE and computed == "-" else f"{computed} | {stated}"
        print(
            f'  {_short(cid, 46):<46} {verdict:<13} {_short(cmp, 56):<56} "{_short(quote, 50)}"',
            file=out,
        )
    contradicted = [r for r in rows if r[1] == CONTRADICTED]
    if contradicted:
        print("Contradicted claims:", file=out)
        for cid, _, _, _, quote, reason in contradicted:
            print(f'  {cid}: "{_short(quote, 100)}"', file=out)
            print(f"      {reason}", file=out)
    return counts[CONTRADICTED]


# --------------------------------------------------------------------------- Dagster

REGISTRY: Registry = load_registry()
CLAIMS_CHECK_PRIORITY = "10"  # run before publish when both are ready (publish removes the build file)


def _progress(message: str) -> None:
    print(message, file=sys.stdout, flush=True)


def _metadata(r: ClaimResult) -> dict[str, Any]:
    return {
        "quote": dg.MetadataValue.text(r.quote),
        "section": dg.MetadataValue.text(r.section),
        "verdict": dg.MetadataValue.text(r.verdict),
        "rule": dg.MetadataValue.text(r.rule),
        "stated": dg.MetadataValue.text(r.stated),
        "computed": dg.MetadataValue.text(r.computed),
        "evidence": dg.MetadataValue.text(r.evidence),
        "reason": dg.MetadataValue.text(r.reason),
        "cites": dg.MetadataValue.text(", ".join(r.cites) or "-"),
        "checkable_part": dg.MetadataValue.text(r.checkable_part or "-"),
    }


def _resolve_db(context: dg.AssetCheckExecutionContext) -> tuple[Path, bool]:
    """The run's build file (writable) or, if publish already moved it, the published file (read-only)."""
    settings = context.resources.warehouse.settings()
    build_db = Path(settings.build_db(context.run.run_id))
    if build_db.exists():
        return build_db, True
    published = Path(settings.published)
    if published.exists():
        context.log.warning(
            f"{build_db} is gone (already published); evaluating claims on {published} without "
            "writing quality.claims"
        )
        return published, False
    raise dg.Failure(description=f"neither the build file {build_db} nor {published} exists")


def build_claim_checks(registry: Registry) -> list[dg.AssetChecksDefinition]:
    specs = [
        dg.AssetCheckSpec(
            name=c.check_name,
            asset=c.asset_key,
            description=f'{c.section}: "{_short(c.quote, 200)}" (rule {c.check.rule})',
            blocking=False,
            metadata={"quote": c.quote, "rule": c.check.rule, "cites": ", ".join(c.cites) or "-"},
        )
        for c in registry.claims
    ]

    @dg.multi_asset_check(
        specs=specs,
        name="claims_check",
        description="Judges each quantitative claim of the paper's prose (raw/claims.yml) against the build "
        "and writes quality.claims. Warn-only: a contradicted claim is a finding about the paper.",
        required_resource_keys={"warehouse"},
        op_tags={"dagster/priority": CLAIMS_CHECK_PRIORITY},
    )
    def claims_check(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        db, writable = _resolve_db(context)
        with duckdb.connect(str(db), read_only=True) as con:
            results = evaluate_claims(con, registry)
        if writable:
            with duckdb.connect(str(db)) as con:
                write_claims_table(con, results)
        counts = verdict_counts(results)
        _progress(
            f"  claims   {len(results)} claims: {counts[SUPPORTED]} supported, "
            f"{counts[CONTRADICTED]} contradicted, {counts[NOT_CHECKABLE]} not checkable"
        )
        by_id = {c.id: c for c in registry.claims}
        for r in results:
            claim = by_id[r.claim_id]
            yield dg.AssetCheckResult(
                asset_key=claim.asset_key,
                check_name=claim.check_name,
                passed=r.passed,
                severity=dg.AssetCheckSeverity.WARN,
                description=_short(f"{r.verdict}: {r.reason}", 1000),
                metadata=_metadata(r),
            )

    return [claims_check]


CLAIM_CHECKS: list[dg.AssetChecksDefinition] = build_claim_checks(REGISTRY)
