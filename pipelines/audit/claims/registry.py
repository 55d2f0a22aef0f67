"""The claims registry (``expectations/claims.yml``): loading and validation.

Nothing is read at import time: :func:`load_registry` reads the file when called, and
:func:`default_registry` caches the project's registry for the process.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipelines.audit.claims.format import is_number
from pipelines.audit.claims.rules import RULES
from pipelines.audit.claims.tolerances import ToleranceError, Tolerances, parse_tolerances
from pipelines.settings import EXPECTATIONS_DIR

REGISTRY_PATH = EXPECTATIONS_DIR / "claims.yml"
FULL, PARTIAL, PROXY, NONE = "full", "partial", "proxy", "none"
COVERAGES = (FULL, PARTIAL, PROXY, NONE)

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_ASSET_RE = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")
# One statement, starting with select/with (evaluation also runs on a read-only connection).
_QUERY_RE = re.compile(r"^(select|with)\b[^;]*$", re.IGNORECASE | re.DOTALL)
_STRING_RE = re.compile(r"'(?:[^']|'')*'")
_TABLE_REF_RE = re.compile(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)

CLAIM_KEYS_REQUIRED = ("id", "quote", "section", "cites", "evidence_sql", "rule")
CLAIM_KEYS_OPTIONAL = (
    "params", "also", "asset", "coverage", "checkable_part", "period", "not_checkable_reason", "note"
)  # fmt: skip
TOP_KEYS_REQUIRED = ("version", "tolerances", "claims")
TOP_KEYS_OPTIONAL = ("paper", "default_asset", "skipped", "text_discrepancies")


class RegistryError(ValueError):
    """The claims registry is malformed (the message names the claim and the problem)."""


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
    coverage: str | None  # None: derived from `period` at evaluation (full or partial)
    also: tuple[Check, ...] = ()
    checkable_part: str | None = None
    period: tuple[int, int] | None = None
    not_checkable_reason: str | None = None
    note: str | None = None

    @property
    def check_name(self) -> str:
        return f"claim_{self.id}"


@dataclass(frozen=True)
class Skipped:
    """A passage of the paper with a number or comparison that is deliberately not registered."""

    quote: str
    reason: str


@dataclass(frozen=True)
class TextDiscrepancy:
    """Two passages of the paper's text that contradict each other."""

    id: str
    where: str
    passage_a: str
    passage_b: str
    note: str


@dataclass(frozen=True)
class Registry:
    claims: tuple[Claim, ...]
    tolerances: Tolerances
    default_asset: str
    skipped: tuple[Skipped, ...] = ()
    text_discrepancies: tuple[TextDiscrepancy, ...] = ()
    path: Path | None = None

    def by_id(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(claim_id)

    @property
    def marts(self) -> tuple[str, ...]:
        """Every mart (schema.model) the evidence queries read or the claims are attached to."""
        names = {c.asset for c in self.claims}
        for c in self.claims:
            for check in (c.check, *c.also):
                names.update(tables_in(check.evidence_sql))
        return tuple(sorted(names))


def tables_in(sql: str | None) -> list[str]:
    """The ``schema.table`` names a query mentions (string literals removed)."""
    text = _STRING_RE.sub("''", sql or "")
    return [f"{s}.{t}" for s, t in _TABLE_REF_RE.findall(text)]


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


@functools.cache
def default_registry() -> Registry:
    """The project's registry, read on first use (never at import time)."""
    return load_registry(REGISTRY_PATH)


def load_registry(source: Path | str | Mapping[str, Any] = REGISTRY_PATH) -> Registry:
    """Read and validate the registry: required keys, known rules, tolerances and coverage, unique ids."""
    data, path = _load_yaml(source)
    where = str(path) if path else "registry"
    missing = [k for k in TOP_KEYS_REQUIRED if k not in data]
    if missing:
        raise RegistryError(f"{where}: missing top-level key(s) {missing}")
    unknown = sorted(set(data) - set(TOP_KEYS_REQUIRED) - set(TOP_KEYS_OPTIONAL))
    if unknown:
        raise RegistryError(f"{where}: unknown top-level key(s) {unknown}")
    try:
        tolerances = parse_tolerances(data["tolerances"])
    except ToleranceError as exc:
        raise RegistryError(f"{where}: {exc}") from exc
    default_asset = str(data.get("default_asset") or "analytics.yearly_overview")
    if not _ASSET_RE.match(default_asset):
        raise RegistryError(f"{where}: default_asset {default_asset!r} is not schema.model")
    raw_claims = data["claims"]
    if not isinstance(raw_claims, list) or not raw_claims:
        raise RegistryError(f"{where}: `claims` must be a non-empty list")
    claims: list[Claim] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_claims):
        claim = _parse_claim(raw, i, default_asset)
        if claim.id in seen:
            raise RegistryError(f"claim {claim.id!r}: duplicate id")
        seen.add(claim.id)
        claims.append(claim)
    return Registry(
        claims=tuple(claims),
        tolerances=tolerances,
        default_asset=default_asset,
        skipped=_parse_skipped(data.get("skipped") or []),
        text_discrepancies=_parse_text_discrepancies(data.get("text_discrepancies") or []),
        path=path,
    )


def _text(raw: Mapping[str, Any], key: str, label: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RegistryError(f"{label}: `{key}` must be a non-empty string")
    return value


def _parse_skipped(raw: Any) -> tuple[Skipped, ...]:
    if not isinstance(raw, list):
        raise RegistryError("`skipped` must be a list of {quote, reason}")
    out = []
    for i, item in enumerate(raw):
        label = f"skipped[{i}]"
        if not isinstance(item, Mapping) or set(item) != {"quote", "reason"}:
            raise RegistryError(f"{label}: must hold exactly quote and reason")
        out.append(Skipped(_text(item, "quote", label), _text(item, "reason", label)))
    return tuple(out)


def _parse_text_discrepancies(raw: Any) -> tuple[TextDiscrepancy, ...]:
    if not isinstance(raw, list):
        raise RegistryError("`text_discrepancies` must be a list")
    keys = ("id", "where", "passage_a", "passage_b", "note")
    out = []
    for i, item in enumerate(raw):
        label = f"text_discrepancies[{i}]"
        if not isinstance(item, Mapping) or set(item) != set(keys):
            raise RegistryError(f"{label}: must hold exactly {', '.join(keys)}")
        out.append(TextDiscrepancy(*(_text(item, k, label) for k in keys)))
    return tuple(out)


def _parse_claim(raw: Any, index: int, default_asset: str) -> Claim:
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
    quote, section = _text(raw, "quote", label), _text(raw, "section", label)
    cites = raw["cites"]
    if not isinstance(cites, list) or not all(isinstance(c, str) for c in cites):
        raise RegistryError(f"{label}: `cites` must be a list of strings (e.g. [Table 3])")
    check = _parse_check(raw, label)
    also = _parse_also(raw.get("also"), label)
    for key in ("checkable_part", "note", "not_checkable_reason"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise RegistryError(f"{label}: `{key}` must be a string")
    reason = raw.get("not_checkable_reason")
    if check.rule == "not_checkable" and not (reason and reason.strip()):
        raise RegistryError(f"{label}: rule not_checkable needs a `not_checkable_reason`")
    period = _parse_period(raw.get("period"), label)
    coverage = _coverage(raw, check, period, label)
    asset = raw.get("asset") or next(iter(tables_in(check.evidence_sql)), None) or default_asset
    if not isinstance(asset, str) or not _ASSET_RE.match(asset):
        raise RegistryError(f"{label}: asset {asset!r} is not schema.model")
    return Claim(
        id=cid,
        quote=quote,
        section=section,
        cites=tuple(cites),
        asset=asset,
        check=check,
        coverage=coverage,
        also=also,
        checkable_part=raw.get("checkable_part"),
        period=period,
        not_checkable_reason=reason,
        note=raw.get("note"),
    )


def _parse_also(also_raw: Any, label: str) -> tuple[Check, ...]:
    if also_raw is None:
        return ()
    if not isinstance(also_raw, list):
        raise RegistryError(f"{label}: `also` must be a list")
    also = []
    for j, extra in enumerate(also_raw):
        if not isinstance(extra, Mapping) or set(extra) - {"rule", "params", "evidence_sql"}:
            raise RegistryError(f"{label}: also[{j}] must hold only rule, params, evidence_sql")
        sub = _parse_check(extra, f"{label} also[{j}]")
        if sub.rule == "not_checkable":
            raise RegistryError(f"{label} also[{j}]: rule not_checkable is only for the main rule")
        also.append(sub)
    return tuple(also)


def _parse_period(raw: Any, label: str) -> tuple[int, int] | None:
    if raw is None:
        return None
    ok = isinstance(raw, Mapping) and set(raw) == {"from", "to"}
    if not ok or not all(isinstance(raw[k], int) and not isinstance(raw[k], bool) for k in ("from", "to")):
        raise RegistryError(f"{label}: period must be {{from: YEAR, to: YEAR}}")
    if raw["from"] > raw["to"]:
        raise RegistryError(f"{label}: period runs backwards")
    return int(raw["from"]), int(raw["to"])


def _coverage(raw: Mapping[str, Any], check: Check, period: tuple[int, int] | None, label: str) -> str | None:
    """The declared coverage, checked against the rule; None = derived from `period` when evaluated."""
    coverage = raw.get("coverage")
    checkable = check.rule != "not_checkable"
    if coverage is None:
        if not checkable:
            return NONE
        if period is None:
            return FULL
        return None
    if coverage not in COVERAGES:
        raise RegistryError(f"{label}: coverage must be one of {', '.join(COVERAGES)}")
    if coverage == NONE and checkable:
        raise RegistryError(f"{label}: coverage none needs rule not_checkable (nothing to evaluate)")
    if coverage in (FULL, PARTIAL) and not checkable:
        raise RegistryError(f"{label}: coverage {coverage} needs a checkable rule")
    if coverage == PROXY and not check.evidence_sql:
        raise RegistryError(f"{label}: coverage proxy needs the proxy's evidence_sql")
    if coverage in (PARTIAL, PROXY) and not raw.get("checkable_part"):
        raise RegistryError(
            f"{label}: coverage {coverage} needs a `checkable_part` saying which part / what stands in"
        )
    return str(coverage)


def _parse_check(raw: Mapping[str, Any], label: str) -> Check:
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
    _check_params(rule, params, label)
    sql = raw.get("evidence_sql")
    if sql is not None and (not isinstance(sql, str) or not sql.strip()):
        raise RegistryError(f"{label}: evidence_sql must be a query or null")
    if sql is not None and not _QUERY_RE.match(_STRING_RE.sub("''", sql).strip().rstrip(";")):
        raise RegistryError(f"{label}: evidence_sql must be one read-only query (select … / with …)")
    if spec.needs_sql and sql is None:
        raise RegistryError(f"{label}: rule {rule} needs an evidence_sql")
    return Check(rule=str(rule), params=dict(params), evidence_sql=sql)


def _check_params(rule: str, params: Mapping[str, Any], label: str) -> None:
    if "window" in params:
        w = params["window"]
        if not (isinstance(w, Mapping) and set(w) <= {"from", "to"} and w):
            raise RegistryError(f"{label}: window must be {{from: YEAR, to: YEAR}}")
    if rule == "values_match" and not (isinstance(params["values"], Mapping) and params["values"]):
        raise RegistryError(f"{label}: values_match needs a non-empty `values` mapping")
    if rule in ("increasing", "decreasing") and params["mode"] not in ("overall", "every_step"):
        raise RegistryError(f"{label}: mode must be overall or every_step")
    if "rapid" in params and params["rapid"] is not True:
        raise RegistryError(f"{label}: rapid must be true (or left out)")
    for num in ("stated", "max_rank", "from", "to"):
        if num in params and rule != "equals" and not is_number(params[num]):
            raise RegistryError(f"{label}: {num} must be a number")
