"""The quality gate's definitions, as reviewed in git under ``expectations/``.

- ``expectations/suites/<domain>.json``: one serialized Great Expectations ``ExpectationSuite`` per
  mart domain. Every expectation's ``meta`` names its ``rule`` (the Dagster check), its ``batch``,
  the ``paper_table`` and a human ``description``; expectations that compare a printed (stated)
  number with one computed from other printed numbers carry a ``discrepancy`` block naming the
  columns that hold the stated and computed values. The suite's ``meta.rules`` describes each rule
  (asset it checks, batch, paper table, description).
- ``expectations/batches/<domain>.yml``: the batch queries (name -> SQL over the mart tables).
- ``expectations/known_discrepancies.yml``: the register of places where the paper disagrees with
  itself, reviewed against the paper text.

This module only reads those files (JSON and YAML); it never imports Great Expectations.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines.settings import EXPECTATIONS_DIR

RULE_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
BATCH_REQUIRED_COLUMNS = ("row_label", "source_ref")


class QualitySpecError(ValueError):
    """A suite, batch file or register entry is malformed."""


@dataclass(frozen=True)
class DiscrepancySpec:
    """How to read a stated-vs-computed comparison off a batch row."""

    source_table: str
    stated_column: str
    computed_column: str
    row_label_column: str = "row_label"
    column_label: str | None = None
    column_label_column: str | None = None
    source_ref_column: str = "source_ref"

    @classmethod
    def from_meta(cls, meta: dict[str, Any], where: str) -> DiscrepancySpec:
        try:
            spec = cls(
                source_table=str(meta["source_table"]),
                stated_column=str(meta["stated_column"]),
                computed_column=str(meta["computed_column"]),
                row_label_column=str(meta.get("row_label_column", "row_label")),
                column_label=meta.get("column_label"),
                column_label_column=meta.get("column_label_column"),
                source_ref_column=str(meta.get("source_ref_column", "source_ref")),
            )
        except KeyError as exc:
            raise QualitySpecError(f"{where}: discrepancy meta lacks {exc.args[0]!r}") from None
        if (spec.column_label is None) == (spec.column_label_column is None):
            raise QualitySpecError(f"{where}: give exactly one of column_label / column_label_column")
        return spec


@dataclass(frozen=True)
class ExpectationSpec:
    """One Great Expectations expectation of a rule, as serialized in the suite file."""

    rule: str
    index: int
    type: str
    kwargs: dict[str, Any]
    description: str
    discrepancy: DiscrepancySpec | None
    config: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.rule}#{self.index}"

    @property
    def columns(self) -> list[str]:
        """The batch columns the expectation looks at, in order."""
        kw = self.kwargs
        cols = [kw[k] for k in ("column", "column_A", "column_B") if k in kw]
        cols += list(kw.get("column_list", []))
        return [str(c) for c in cols]


@dataclass(frozen=True)
class Rule:
    """A rule is one Dagster asset check: one or more expectations on one batch."""

    id: str
    suite: str
    batch: str
    asset: tuple[str, ...]
    paper_table: str
    description: str
    expectations: tuple[ExpectationSpec, ...]
    # "warn": the rule reports (e.g. the registered source gaps) but never blocks publishing
    severity: str = "error"

    @property
    def warn_only(self) -> bool:
        return self.severity == "warn"

    @property
    def asset_path(self) -> str:
        return "/".join(self.asset)

    @property
    def is_discrepancy_rule(self) -> bool:
        return any(e.discrepancy is not None for e in self.expectations)


@dataclass(frozen=True)
class Batch:
    name: str
    suite: str
    asset: tuple[str, ...]
    description: str
    sql: str
    setup: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegisterEntry:
    """A reviewed place where the paper disagrees with itself."""

    rule: str
    source_table: str
    row: str
    column: str
    stated: float
    computed: float
    note: str
    confirmed: str = ""

    def matches(self, rule: str, row: str, column: str, stated: float | None, computed: float | None) -> bool:
        return (
            self.rule == rule
            and self.row == row
            and self.column == column
            and same_number(self.stated, stated)
            and same_number(self.computed, computed)
        )


@dataclass(frozen=True)
class Catalog:
    rules: dict[str, Rule]
    batches: dict[str, Batch]
    register: tuple[RegisterEntry, ...]
    suites: dict[str, dict[str, Any]] = field(default_factory=dict)
    root: Path = EXPECTATIONS_DIR

    def rules_of_batch(self, batch: str) -> list[Rule]:
        return [r for r in self.rules.values() if r.batch == batch]

    def subset(self, batches: set[str]) -> Catalog:
        """The same catalog restricted to some batches (and their rules)."""
        return Catalog(
            rules={k: r for k, r in self.rules.items() if r.batch in batches},
            batches={k: b for k, b in self.batches.items() if k in batches},
            register=self.register,
            suites=self.suites,
            root=self.root,
        )


def same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))


def _asset(path: str, where: str) -> tuple[str, ...]:
    parts = tuple(p for p in str(path).split("/") if p)
    if len(parts) != 2:
        raise QualitySpecError(f"{where}: asset must be 'schema/table', got {path!r}")
    return parts


def load_batches(root: Path) -> dict[str, Batch]:
    batches: dict[str, Batch] = {}
    for path in sorted((root / "batches").glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        suite = path.stem
        setup = tuple(str(s) for s in doc.get("setup") or ())
        for name, body in (doc.get("batches") or {}).items():
            where = f"{path.name}: batch {name}"
            if name in batches:
                raise QualitySpecError(f"{where}: defined twice")
            if not isinstance(body, dict) or "sql" not in body or "asset" not in body:
                raise QualitySpecError(f"{where}: needs 'asset' and 'sql'")
            batches[name] = Batch(
                name=name,
                suite=suite,
                asset=_asset(body["asset"], where),
                description=" ".join(str(body.get("description", "")).split()),
                sql=str(body["sql"]),
                setup=setup,
            )
    return batches


def load_suites(root: Path, batches: dict[str, Batch]) -> tuple[dict[str, Rule], dict[str, dict[str, Any]]]:
    rules: dict[str, Rule] = {}
    suites: dict[str, dict[str, Any]] = {}
    for path in sorted((root / "suites").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        suite = str(doc.get("name") or path.stem)
        if suite != path.stem:
            raise QualitySpecError(f"{path.name}: suite name {suite!r} differs from the file name")
        suites[suite] = doc
        catalogue = (doc.get("meta") or {}).get("rules") or {}
        exps: dict[str, list[ExpectationSpec]] = {rid: [] for rid in catalogue}
        for n, exp in enumerate(doc.get("expectations") or []):
            meta = exp.get("meta") or {}
            where = f"{path.name}: expectation {n} ({exp.get('type')})"
            rid = meta.get("rule")
            if rid not in catalogue:
                raise QualitySpecError(f"{where}: meta.rule {rid!r} is not in the suite's meta.rules")
            for key in ("batch", "paper_table", "description"):
                if not meta.get(key):
                    raise QualitySpecError(f"{where}: meta.{key} is missing")
            if meta["batch"] != catalogue[rid]["batch"]:
                raise QualitySpecError(f"{where}: meta.batch differs from rule {rid}'s batch")
            disc = meta.get("discrepancy")
            exps[rid].append(
                ExpectationSpec(
                    rule=rid,
                    index=len(exps[rid]),
                    type=str(exp["type"]),
                    kwargs=dict(exp.get("kwargs") or {}),
                    description=str(meta["description"]),
                    discrepancy=DiscrepancySpec.from_meta(disc, where) if disc else None,
                    config=exp,
                )
            )
        for rid, info in catalogue.items():
            where = f"{path.name}: rule {rid}"
            if not RULE_ID_RE.match(rid):
                raise QualitySpecError(f"{where}: rule ids are lower_snake_case")
            if rid in rules:
                raise QualitySpecError(f"{where}: defined in two suites")
            if info.get("batch") not in batches:
                raise QualitySpecError(f"{where}: unknown batch {info.get('batch')!r}")
            if not exps[rid]:
                raise QualitySpecError(f"{where}: has no expectations")
            if info.get("severity", "error") not in ("error", "warn"):
                raise QualitySpecError(f"{where}: severity is 'error' (default) or 'warn'")
            rules[rid] = Rule(
                id=rid,
                suite=suite,
                batch=str(info["batch"]),
                asset=_asset(info.get("asset", ""), where),
                paper_table=str(info.get("paper_table", "")),
                description=str(info.get("description", "")),
                expectations=tuple(exps[rid]),
                severity=str(info.get("severity", "error")),
            )
    return rules, suites


def load_register(path: Path) -> tuple[RegisterEntry, ...]:
    if not path.exists():
        return ()
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = []
    for n, item in enumerate(doc.get("discrepancies") or []):
        where = f"{path.name}: entry {n + 1}"
        try:
            entries.append(
                RegisterEntry(
                    rule=str(item["rule"]),
                    source_table=str(item["source_table"]),
                    row=str(item["row"]),
                    column=str(item["column"]),
                    stated=float(item["stated"]),
                    computed=float(item["computed"]),
                    note=" ".join(str(item.get("note", "")).split()),
                    confirmed=" ".join(str(item.get("confirmed", "")).split()),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise QualitySpecError(
                f"{where}: needs rule, source_table, row, column, stated, computed ({exc})"
            ) from None
    keys = [(e.rule, e.row, e.column) for e in entries]
    if len(set(keys)) != len(keys):
        raise QualitySpecError(f"{path.name}: an entry (rule, row, column) is registered twice")
    return tuple(entries)


def load_catalog(root: Path | None = None) -> Catalog:
    """Read and cross-check everything under ``expectations/``."""
    root = root or EXPECTATIONS_DIR
    batches = load_batches(root)
    rules, suites = load_suites(root, batches)
    for rule in rules.values():
        batch = batches[rule.batch]
        if batch.suite != rule.suite:
            raise QualitySpecError(f"rule {rule.id}: batch {batch.name} belongs to suite {batch.suite}")
    register = load_register(root / "known_discrepancies.yml")
    for entry in register:
        rule = rules.get(entry.rule)
        if rule is None or not rule.is_discrepancy_rule:
            raise QualitySpecError(
                f"known_discrepancies.yml: rule {entry.rule!r} is not a stated-vs-computed rule of a suite"
            )
    return Catalog(rules=rules, batches=batches, register=register, suites=suites, root=root)
