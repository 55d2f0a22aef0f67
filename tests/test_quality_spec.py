"""The quality gate's definitions under expectations/: well-formed, GX-loadable, registered discrepancies
confirmed by the paper text; and Great Expectations is never imported when the definitions load."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipelines.audit.quality.spec import QualitySpecError, load_catalog
from pipelines.settings import EXPECTATIONS_DIR, PROJECT_ROOT
from pipelines.transform.project import mart_schemas

PAPER = PROJECT_ROOT.parent / "shared" / "paper" / "000_277e2761ebdb236e.txt"
DOMAINS = {"demography", "migration", "education", "trade"}


def test_one_suite_and_one_batch_file_per_domain() -> None:
    assert {p.stem for p in (EXPECTATIONS_DIR / "suites").glob("*.json")} == DOMAINS
    assert {p.stem for p in (EXPECTATIONS_DIR / "batches").glob("*.yml")} == DOMAINS


def test_catalog_loads_and_every_rule_targets_a_mart() -> None:
    catalog = load_catalog()
    assert len(catalog.rules) >= 60
    for rule in catalog.rules.values():
        assert rule.asset[0] in mart_schemas(), rule.id
        assert rule.expectations, rule.id
        assert rule.description and rule.paper_table, rule.id
        assert catalog.batches[rule.batch].suite == rule.suite
    assert {r.suite for r in catalog.rules.values()} == DOMAINS


def test_every_expectation_meta_names_batch_rule_table_and_description() -> None:
    for path in sorted((EXPECTATIONS_DIR / "suites").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["expectations"], path.name
        for exp in doc["expectations"]:
            meta = exp["meta"]
            for key in ("rule", "batch", "paper_table", "description"):
                assert meta.get(key), f"{path.name}: {exp['type']} lacks meta.{key}"
            assert meta["rule"] in doc["meta"]["rules"]


def test_suites_are_native_great_expectations_suites() -> None:
    from great_expectations.core.expectation_suite import ExpectationSuite

    for path in sorted((EXPECTATIONS_DIR / "suites").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        suite = ExpectationSuite(**doc)
        assert suite.name == path.stem
        assert len(suite.expectations) == len(doc["expectations"])
        assert {e.expectation_type for e in suite.expectations} <= {e["type"] for e in doc["expectations"]}


def test_required_rule_families_are_covered() -> None:
    rules = load_catalog().rules
    for rid in (
        "t3_sex_sum_equals_total",
        "t4_sex_sum_equals_total",
        "t6_total_row_equals_sum",
        "t7_total_row_equals_sum",
        "t2_korean_pct_rounded_as_printed",
        "t1_korean_row_matches_t2",
        "trade_turnover_equals_exports_plus_imports",
        "trade_shares_match_values",
        "trade_countries_sum_to_total",
        "t3_cells_complete",
        "t3_grain_unique",
        "t3_types",
        "t3_ranges",
    ):
        assert rid in rules, rid


def test_batches_return_row_label_and_source_ref() -> None:
    for batch in load_catalog().batches.values():
        sql = batch.sql.lower()
        assert "row_label" in sql and "source_ref" in sql, batch.name
        assert not re.search(r"\b(insert|update|delete|drop|create)\b", sql), batch.name


def _paper_number(value: float) -> str:
    return f"{int(value):,}" if value >= 1000 else str(int(value))


def test_register_entries_are_confirmed_by_the_paper_text() -> None:
    catalog = load_catalog()
    assert len(catalog.register) >= 6
    paper = PAPER.read_text(encoding="utf-8") if PAPER.exists() else None
    for entry in catalog.register:
        assert entry.note and entry.confirmed, entry
        assert catalog.rules[entry.rule].is_discrepancy_rule
        assert entry.stated != entry.computed
        if paper is not None:
            assert _paper_number(entry.stated) in paper, f"printed {entry.stated} not in the paper text"
            assert _paper_number(entry.stated) in entry.confirmed or str(int(entry.stated)) in entry.confirmed


def test_malformed_suite_is_rejected(tmp_path: Path) -> None:
    root = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, root)
    path = root / "suites" / "migration.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    del doc["expectations"][0]["meta"]["paper_table"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(QualitySpecError, match="paper_table"):
        load_catalog(root)


def test_register_entry_for_unknown_rule_is_rejected(tmp_path: Path) -> None:
    root = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, root)
    reg = root / "known_discrepancies.yml"
    doc = yaml.safe_load(reg.read_text(encoding="utf-8"))
    doc["discrepancies"][0]["rule"] = "t3_types"
    reg.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(QualitySpecError, match="t3_types"):
        load_catalog(root)


@pytest.mark.parametrize(
    "module", ["pipelines.definitions", "pipelines.defs.audit", "pipelines.audit.quality.report"]
)
def test_loading_definitions_does_not_import_great_expectations(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "print('great_expectations' in sys.modules, any(m.startswith('great_expectations') for m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "False False", proc.stdout
