"""The verdicts: one per rule (passed / warned / failed), and the paper's discrepancies.

A rule fails (severity ERROR, blocks publishing) when any of its expectations fails, unless every
failing row is a stated-vs-computed comparison registered in ``expectations/known_discrepancies.yml``
with the same rule, row, column, stated and computed values: then it warns (severity WARN). A
changed number is therefore never silently covered. A register entry that no longer occurs makes its
rule warn too, so that the register is kept current.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.audit.quality.engine import (
    BatchData,
    ValidationResult,
    fetch_batches,
    validate_frames,
)
from pipelines.audit.quality.results import CHECK_RESULTS_DDL as CHECK_RESULTS_DDL
from pipelines.audit.quality.results import DISCREPANCIES_DDL as DISCREPANCIES_DDL
from pipelines.audit.quality.results import MAX_ROWS_KEPT as MAX_ROWS_KEPT
from pipelines.audit.quality.results import write_results as write_results
from pipelines.audit.quality.rows import (
    FailingRow,
    describe_observed,
    fmt_value,
    rows_from_indices,
    set_rows,
)
from pipelines.audit.quality.spec import Catalog, ExpectationSpec, RegisterEntry, Rule, load_catalog

PASSED, WARNED, FAILED = "passed", "warned", "failed"
KNOWN, UNREGISTERED, NOT_FOUND = "known", "unregistered", "not_found"


@dataclass
class ExpectationOutcome:
    spec: ExpectationSpec
    success: bool
    observed: str
    expected: str
    failing_rows: list[FailingRow] = field(default_factory=list)
    n_failing: int = 0
    exception: str | None = None
    observed_value: Any = None


@dataclass
class RuleOutcome:
    rule: Rule
    status: str
    expectations: list[ExpectationOutcome]
    rows_checked: int
    summary: str
    stale_entries: list[RegisterEntry] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def severity(self) -> str | None:
        return {PASSED: None, WARNED: "WARN", FAILED: "ERROR"}[self.status]

    @property
    def expected(self) -> str:
        return "; ".join(e.expected for e in self.expectations)

    @property
    def observed(self) -> str:
        failing = [e for e in self.expectations if not e.success]
        shown = failing or self.expectations
        return "; ".join(dict.fromkeys(e.observed for e in shown))

    @property
    def failing_rows(self) -> list[FailingRow]:
        return [row for e in self.expectations for row in e.failing_rows]

    @property
    def n_known(self) -> int:
        return sum(r.register_status == KNOWN for r in self.failing_rows)

    @property
    def n_unregistered(self) -> int:
        return sum(r.register_status == UNREGISTERED for r in self.failing_rows)


@dataclass
class Discrepancy:
    source_table: str
    row_label: str
    column_label: str
    stated_value: float | None
    computed_value: float | None
    rule: str
    status: str
    note: str = ""
    source_ref: str | None = None

    @property
    def difference(self) -> float | None:
        if self.stated_value is None or self.computed_value is None:
            return None
        return self.stated_value - self.computed_value


@dataclass
class GateOutcome:
    run_id: str
    checked_at: datetime
    db_path: Path
    results: list[RuleOutcome]
    discrepancies: list[Discrepancy]

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def blocked(self) -> bool:
        return self.count(FAILED) > 0

    @property
    def counts(self) -> dict[str, int]:
        return {"passed": self.count(PASSED), "warned": self.count(WARNED), "failed": self.count(FAILED)}


# --------------------------------------------------------------------------------------------- evaluate


def evaluate_expectation(spec: ExpectationSpec, vr: ValidationResult, data: BatchData) -> ExpectationOutcome:
    observed, observed_value = describe_observed(spec, vr, data)
    outcome = ExpectationOutcome(
        spec=spec,
        success=vr.success,
        observed=observed,
        expected=spec.description,
        exception=vr.exception,
        observed_value=observed_value,
    )
    if vr.success or vr.exception or data.frame is None:
        return outcome
    indices = vr.result.get("unexpected_index_list")
    if isinstance(indices, list) and indices and not isinstance(indices[0], dict):
        outcome.failing_rows = rows_from_indices(spec, data, indices)
    elif "partial_missing_list" in vr.result or "partial_unexpected_list" in vr.result:
        outcome.failing_rows = set_rows(spec, vr.result, data)
    outcome.n_failing = int(vr.result.get("unexpected_count") or len(outcome.failing_rows))
    return outcome


def _match_register(
    rule: Rule, outcomes: list[ExpectationOutcome], register: tuple[RegisterEntry, ...]
) -> None:
    for eo in outcomes:
        if eo.spec.discrepancy is None:
            continue
        for row in eo.failing_rows:
            entry = next(
                (
                    e
                    for e in register
                    if e.matches(rule.id, row.row_label, row.column_label or "", row.stated, row.computed)
                ),
                None,
            )
            if entry is not None:
                row.register_status, row.note = KNOWN, entry.note
            else:
                row.register_status = UNREGISTERED
                near = next(
                    (
                        e
                        for e in register
                        if e.rule == rule.id
                        and e.row == row.row_label
                        and e.column == (row.column_label or "")
                    ),
                    None,
                )
                if near is not None:
                    row.note = (
                        f"the register has stated {fmt_value(near.stated)}, "
                        f"computed {fmt_value(near.computed)} "
                        f"for this cell: the numbers changed, so the entry does not cover it"
                    )


def evaluate_rule(
    rule: Rule, data: BatchData, validation: dict[str, ValidationResult], register: tuple[RegisterEntry, ...]
) -> RuleOutcome:
    outcomes = []
    for spec in rule.expectations:
        vr = validation.get(spec.key) or ValidationResult(
            spec, False, exception=data.error or "not validated"
        )
        outcomes.append(evaluate_expectation(spec, vr, data))
    _match_register(rule, outcomes, register)
    failing = [o for o in outcomes if not o.success]
    found = {
        (rule.id, r.row_label, r.column_label or "")
        for o in outcomes
        for r in o.failing_rows
        if r.register_status == KNOWN
    }
    stale = [e for e in register if e.rule == rule.id and (e.rule, e.row, e.column) not in found]
    if not failing:
        status = WARNED if stale else PASSED
    else:
        covered = all(
            o.spec.discrepancy is not None
            and o.exception is None
            and o.failing_rows
            and o.n_failing == len(o.failing_rows)
            and all(r.register_status == KNOWN for r in o.failing_rows)
            for o in failing
        )
        # a warn-only rule reports what it finds, unless it could not be evaluated at all
        reported = rule.warn_only and all(o.exception is None for o in failing)
        status = WARNED if covered or reported else FAILED
    return RuleOutcome(
        rule=rule,
        status=status,
        expectations=outcomes,
        rows_checked=data.rows,
        summary=_summary(rule, status, outcomes, stale, data),
        stale_entries=stale,
    )


def _summary(
    rule: Rule, status: str, outcomes: list[ExpectationOutcome], stale: list[RegisterEntry], data: BatchData
) -> str:
    """One line: what passed, or what failed and how much of it the register covers."""
    failing = [o for o in outcomes if not o.success]
    if data.error:
        return data.error
    if not failing:
        n = len(outcomes)
        text = f"{n} expectation{'s' if n > 1 else ''} met on {data.rows:,} rows"
    else:
        observed = "; ".join(dict.fromkeys(o.observed for o in failing))
        rows = [r for o in failing for r in o.failing_rows]
        known = sum(r.register_status == KNOWN for r in rows)
        if status == WARNED and rule.warn_only:
            text = f"reported (warn-only rule): {observed}"
        elif status == WARNED:
            text = f"{known} registered paper discrepanc{'y' if known == 1 else 'ies'}: {observed}"
        else:
            text = observed
            if len(outcomes) > 1:
                text = f"{len(failing)} of {len(outcomes)} expectations not met: {text}"
            if rows and rule.is_discrepancy_rule:
                text += f" ({known} of {len(rows)} failing rows registered as known paper discrepancies)"
    if stale:
        entries = ", ".join(f"{e.row} / {e.column}" for e in stale)
        text += f"; register entries no longer found: {entries}"
    return text


def evaluate(
    catalog: Catalog,
    data: dict[str, BatchData],
    validation: dict[str, ValidationResult],
    *,
    run_id: str,
    db_path: Path,
) -> GateOutcome:
    results = []
    for rule in sorted(catalog.rules.values(), key=lambda r: (r.suite, r.asset_path, r.id)):
        bd = data.get(rule.batch) or BatchData(catalog.batches[rule.batch], None, "batch not run")
        results.append(evaluate_rule(rule, bd, validation, catalog.register))
    discrepancies: list[Discrepancy] = []
    for ro in results:
        for eo in ro.expectations:
            if eo.spec.discrepancy is None:
                continue
            for row in eo.failing_rows:
                discrepancies.append(
                    Discrepancy(
                        source_table=row.source_table or eo.spec.discrepancy.source_table,
                        row_label=row.row_label,
                        column_label=row.column_label or "",
                        stated_value=row.stated,
                        computed_value=row.computed,
                        rule=ro.rule.id,
                        status=row.register_status or UNREGISTERED,
                        note=row.note,
                        source_ref=row.source_ref,
                    )
                )
        for e in ro.stale_entries:
            discrepancies.append(
                Discrepancy(
                    source_table=e.source_table,
                    row_label=e.row,
                    column_label=e.column,
                    stated_value=e.stated,
                    computed_value=e.computed,
                    rule=e.rule,
                    status=NOT_FOUND,
                    note="registered, but the checks no longer find it: " + e.note,
                )
            )
    order = {UNREGISTERED: 0, KNOWN: 1, NOT_FOUND: 2}
    discrepancies.sort(
        key=lambda d: (order.get(d.status, 9), d.source_table, d.rule, d.row_label, d.column_label)
    )
    return GateOutcome(
        run_id=run_id,
        checked_at=datetime.now(UTC),
        db_path=db_path,
        results=results,
        discrepancies=discrepancies,
    )


def run_gate(
    db_path: Path,
    *,
    run_id: str,
    catalog: Catalog | None = None,
    batches: set[str] | None = None,
    suite_results: list[Any] | None = None,
) -> GateOutcome:
    """Validate the marts in ``db_path`` (opened read-only). ``batches`` restricts to some batches;
    ``suite_results`` collects GX's own (suite, validation result) pairs, for its Data Docs."""
    catalog = catalog or load_catalog()
    if batches is not None:
        catalog = catalog.subset(batches)
    data = fetch_batches(db_path, catalog)
    validation = validate_frames(data, catalog, suite_results=suite_results)
    return evaluate(catalog, data, validation, run_id=run_id, db_path=db_path)
