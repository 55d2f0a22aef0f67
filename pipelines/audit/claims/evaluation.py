"""Evaluating the claims on a DuckDB connection and writing ``quality.claims``.

A claim's verdict combines its main rule and its ``also`` rules (any contradiction contradicts;
supported only if all are). Its coverage is declared (``full``, ``partial``, ``proxy``, ``none``)
or, for a claim with a ``period``, computed from the years the evidence has inside that period. A
proxy-only claim is ``not_checkable``: the proxy's outcome is kept as context, never as the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import duckdb

from pipelines.audit.claims.format import span
from pipelines.audit.claims.outcome import (
    CONTRADICTED,
    NOT_CHECKABLE,
    SUPPORTED,
    VERDICTS,
    EvidenceError,
    Outcome,
    Rows,
    year_of,
)
from pipelines.audit.claims.registry import (
    FULL,
    NONE,
    PARTIAL,
    PROXY,
    Check,
    Claim,
    Registry,
    default_registry,
)
from pipelines.audit.claims.rules import RULES
from pipelines.audit.claims.tolerances import Flip, Tolerances


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
    coverage: str
    checkable_part: str
    flip: Flip | None = None
    error: bool = False

    @property
    def passed(self) -> bool:
        """A claim's check fails only when its evidence could not be evaluated (verdicts are findings)."""
        return not self.error

    @property
    def sensitive(self) -> bool:
        return self.flip is not None and self.flip.sensitive


def query_rows(con: duckdb.DuckDBPyConnection, sql: str) -> Rows:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def evaluate_check(
    con: duckdb.DuckDBPyConnection,
    check: Check,
    tolerances: Tolerances,
    period: tuple[int, int] | None = None,
) -> Outcome:
    rows = query_rows(con, check.evidence_sql) if check.evidence_sql else []
    params = dict(check.params)
    if period and "window" in RULES[check.rule].params.optional and "window" not in params:
        params["window"] = {"from": period[0], "to": period[1]}
    outcome = RULES[check.rule].fn(rows, params, tolerances)
    return replace(outcome, sources=sources_text(rows, outcome.years))


def sources_text(rows: Rows, years: Sequence[int]) -> str:
    """ "un_comtrade 2010-2017; bureau_release 2018-2019": the `source` column of the evidence rows,
    per year (restricted to the years the verdict rests on, if any)."""
    if not rows or "source" not in rows[0]:
        return ""
    by_source: dict[str, set[int]] = {}
    for r in rows:
        year = next((y for c in ("x", "label", "key", "year") if (y := year_of(r.get(c))) is not None), None)
        if year is not None and (not years or year in years) and r.get("source"):
            by_source.setdefault(str(r["source"]), set()).add(year)
    ordered = sorted(by_source.items(), key=lambda kv: min(kv[1]))
    return "; ".join(f"{src} {span(sorted(ys))}" for src, ys in ordered)


def asset_sources(con: duckdb.DuckDBPyConnection, asset: str, years: Sequence[int]) -> str:
    """The source of each of ``years`` in the claim's asset, if the asset has ``year`` and ``source``
    columns (e.g. trade.kazakhstan_korea_trade: bureau releases, processed files, UN Comtrade)."""
    schema, _, table = asset.partition(".")
    cols = {
        str(c)
        for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }
    if not years or not {"year", "source"} <= cols:
        return ""
    rows = query_rows(con, f'select year, source from "{schema}"."{table}"')
    return sources_text(rows, years)


def _combine(verdicts: Sequence[str]) -> str:
    if CONTRADICTED in verdicts:
        return CONTRADICTED
    if all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    return NOT_CHECKABLE


def _coverage(claim: Claim, main: Outcome) -> tuple[str, str]:
    """(coverage, checkable part) of a claim, given its main outcome."""
    if claim.coverage is not None and claim.period is None:
        default = {FULL: "the whole claim", NONE: "none"}.get(claim.coverage, "")
        return claim.coverage, claim.checkable_part or default
    assert claim.period is not None
    lo, hi = claim.period
    years = [y for y in main.years if lo <= y <= hi]
    part = f"{span(years) if years else 'no year'} of {lo}-{hi}"
    if main.sources:
        part += f" (sources: {main.sources})"
    if claim.checkable_part:
        part += f"; {claim.checkable_part}"
    if claim.coverage is not None:  # declared (e.g. proxy) with a period: keep it, state the years
        return claim.coverage, part
    if not years:
        return NONE, part
    return (FULL if set(range(lo, hi + 1)) <= set(years) else PARTIAL), part


def evaluate_claim(con: duckdb.DuckDBPyConnection, claim: Claim, registry: Registry) -> ClaimResult:
    outcomes: list[Outcome] = []
    error = False
    checks = (claim.check, *claim.also)
    for check in checks:
        try:
            outcomes.append(evaluate_check(con, check, registry.tolerances, claim.period))
        except (duckdb.Error, EvidenceError) as exc:
            error = True
            msg = str(exc).strip().splitlines()[0]
            outcomes.append(
                Outcome(NOT_CHECKABLE, "-", "-", "-", f"evidence for rule {check.rule} failed: {msg}")
            )
    main = outcomes[0]
    if claim.period and not main.sources:
        main = replace(main, sources=asset_sources(con, claim.asset, main.years))
    verdict = _combine([o.verdict for o in outcomes])
    coverage, part = _coverage(claim, main)
    reasons = []
    if claim.check.rule == "not_checkable" and claim.not_checkable_reason:
        reasons.append(claim.not_checkable_reason.strip())
    if coverage == PROXY:
        reasons.append(f"proxy only ({part.rstrip('.')}); the proxy alone would give {verdict}, not scored")
        verdict = NOT_CHECKABLE
    for check, o in zip(checks, outcomes, strict=True):
        if o.reason:
            reasons.append(f"{check.rule}: {o.reason}")
    if claim.note:
        reasons.append(f"note: {claim.note.strip()}")
    flip = None
    if verdict != NOT_CHECKABLE:  # the tolerance of the rule that decided the verdict
        deciding = [o for o in outcomes if o.verdict == verdict]
        flip = (
            deciding[0].flip if verdict == CONTRADICTED else next((o.flip for o in deciding if o.flip), None)
        )
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
        coverage=coverage,
        checkable_part=part,
        flip=flip,
        error=error,
    )


def evaluate_claims(con: duckdb.DuckDBPyConnection, registry: Registry | None = None) -> list[ClaimResult]:
    """Evaluate every claim of the registry (default: ``expectations/claims.yml``) on ``con``."""
    reg = registry or default_registry()
    return [evaluate_claim(con, c, reg) for c in reg.claims]


def verdict_counts(results: Sequence[ClaimResult]) -> dict[str, int]:
    return {v: sum(r.verdict == v for r in results) for v in VERDICTS}
