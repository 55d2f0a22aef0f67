"""The quality gate on the real build: exactly the registered paper discrepancies warn, nothing fails;
the register covers a failure only with the same numbers; Great Expectations really computes; results,
reports and `kzkr report` output."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from conftest import BuiltWarehouse

from pipelines.audit.quality.engine import BatchData, fetch_batches, validate_frames
from pipelines.audit.quality.gate import (
    FAILED,
    KNOWN,
    NOT_FOUND,
    PASSED,
    UNREGISTERED,
    WARNED,
    run_gate,
    write_results,
)
from pipelines.audit.quality.report import print_quality_report, render_html, render_markdown, write_reports
from pipelines.audit.quality.spec import Batch, Catalog, load_catalog
from pipelines.settings import EXPECTATIONS_DIR, Settings

T3 = "migration.kazakhstani_citizens_in_korea"
INTERFACE_CHECK_COLUMNS = ["run_id", "check_name", "asset", "severity", "passed", "observed", "expected"]
INTERFACE_DISCREPANCY_COLUMNS = [
    "source_table",
    "row_label",
    "column_label",
    "stated_value",
    "computed_value",
    "rule",
    "status",
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def marts_db(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("quality_gate") / "marts.duckdb"
    shutil.copy2(built_warehouse.published, dest)
    return dest


def _copy(src: Path, tmp_path: Path, *statements: str) -> Path:
    db = tmp_path / "db.duckdb"
    shutil.copy2(src, db)
    if statements:
        with duckdb.connect(str(db)) as con:
            for s in statements:
                con.execute(s)
    return db


def _expected_warnings(db: Path, catalog: Catalog) -> set[str]:
    """The rules that warn on good data: those with registered paper discrepancies, and the warn-only
    rules (the registered source gaps) when the build has cells a registered gap covers."""
    with duckdb.connect(str(db), read_only=True) as con:
        (n_gap_cells,) = con.execute(
            "select count(*) from trade.source_reconciliation where status = 'known_gap'"
        ).fetchone()
    warn_only = {r.id for r in catalog.rules.values() if r.warn_only} if n_gap_cells else set()
    return {e.rule for e in catalog.register} | warn_only


def _register_keys(catalog: Catalog) -> set[tuple[str, str, str, float, float]]:
    return {(e.rule, e.row, e.column, e.stated, e.computed) for e in catalog.register}


@pytest.mark.e2e
def test_real_data_warns_exactly_the_registered_discrepancies(marts_db: Path, catalog: Catalog) -> None:
    outcome = run_gate(marts_db, run_id="real", catalog=catalog)
    failed = [r.rule.id for r in outcome.results if r.status == FAILED]
    assert failed == [], [r.summary for r in outcome.results if r.status == FAILED]
    warned = {r.rule.id for r in outcome.results if r.status == WARNED}
    assert warned == _expected_warnings(marts_db, catalog)
    for r in outcome.results:
        if r.status == WARNED:
            assert r.severity == "WARN" and not r.stale_entries and r.n_unregistered == 0
    found = {
        (d.rule, d.row_label, d.column_label, d.stated_value, d.computed_value)
        for d in outcome.discrepancies
        if d.status == KNOWN
    }
    assert found == _register_keys(catalog)
    assert all(d.status == KNOWN for d in outcome.discrepancies)
    assert outcome.count(PASSED) == len(catalog.rules) - len(warned)
    assert not outcome.blocked


@pytest.mark.e2e
def test_published_build_carries_the_quality_results(
    built_warehouse: BuiltWarehouse, catalog: Catalog
) -> None:
    with duckdb.connect(str(built_warehouse.published), read_only=True) as con:
        cols = [r[0] for r in con.execute("describe quality.check_results").fetchall()]
        assert cols[: len(INTERFACE_CHECK_COLUMNS)] == INTERFACE_CHECK_COLUMNS
        rows = con.execute(
            "select check_name, status, severity, passed from quality.check_results"
        ).fetchall()
        dcols = [r[0] for r in con.execute("describe quality.paper_discrepancies").fetchall()]
        assert dcols[: len(INTERFACE_DISCREPANCY_COLUMNS)] == INTERFACE_DISCREPANCY_COLUMNS
        disc = con.execute(
            "select rule, row_label, column_label, stated_value, computed_value, status "
            "from quality.paper_discrepancies where rule <> 'text'"  # text contradictions: test_claims.py
        ).fetchall()
        run_id = con.execute("select run_id from meta.build_info").fetchone()
        check_run = con.execute("select distinct run_id from quality.check_results").fetchall()
    assert {r[0] for r in rows} == set(catalog.rules)
    assert not [r for r in rows if r[1] == FAILED]
    assert all(r[2] == "WARN" for r in rows if r[1] == WARNED)
    assert all(r[2] is None and r[3] for r in rows if r[1] == PASSED)
    assert {(d[0], d[1], d[2], d[3], d[4]) for d in disc} == _register_keys(catalog)
    assert {d[5] for d in disc} == {KNOWN}
    assert run_id is not None and check_run == [(run_id[0],)]


@pytest.mark.e2e
def test_register_entry_with_other_numbers_does_not_cover(marts_db: Path, tmp_path: Path) -> None:
    root = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, root)
    reg = root / "known_discrepancies.yml"
    doc = yaml.safe_load(reg.read_text(encoding="utf-8"))
    entry = next(
        e for e in doc["discrepancies"] if e["row"] == "2016" and e["rule"] == "t3_sex_sum_equals_total"
    )
    entry["stated"] = 35081  # the paper prints 35,080
    reg.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    outcome = run_gate(marts_db, run_id="reg", catalog=load_catalog(root), batches={"t3_sex_sums"})
    rule = next(r for r in outcome.results if r.rule.id == "t3_sex_sum_equals_total")
    assert rule.status == FAILED and rule.severity == "ERROR"
    assert rule.n_unregistered == 1 and rule.n_known == 4
    d2016 = [d for d in outcome.discrepancies if d.row_label == "2016"]
    assert {(d.status, d.stated_value) for d in d2016} == {(UNREGISTERED, 35080.0), (NOT_FOUND, 35081.0)}
    assert "does not cover" in next(d.note for d in d2016 if d.status == UNREGISTERED)


@pytest.mark.e2e
def test_a_changed_number_in_the_data_is_an_error(marts_db: Path, tmp_path: Path, catalog: Catalog) -> None:
    db = _copy(
        marts_db,
        tmp_path,
        f"update {T3} set count = 35090 where year = 2016 and category = 'arriving_citizens' and sex = 'total'",
    )
    outcome = run_gate(db, run_id="changed", catalog=catalog, batches={"t3_sex_sums"})
    rule = next(r for r in outcome.results if r.rule.id == "t3_sex_sum_equals_total")
    assert rule.status == FAILED
    bad = [d for d in outcome.discrepancies if d.status == UNREGISTERED]
    assert [(d.row_label, d.stated_value, d.computed_value) for d in bad] == [("2016", 35090.0, 33086.0)]
    assert bad[0].source_ref and "Table 3, row 2016" in bad[0].source_ref


@pytest.mark.e2e
def test_a_new_paper_discrepancy_is_an_error(marts_db: Path, tmp_path: Path, catalog: Catalog) -> None:
    db = _copy(
        marts_db,
        tmp_path,
        "update education.k_university_exchange_totals set students_stated = 31 "
        "where period = '2019 fall semester'",
    )
    outcome = run_gate(db, run_id="new", catalog=catalog, batches={"t7_totals"})
    rule = next(r for r in outcome.results if r.rule.id == "t7_total_row_equals_sum")
    assert rule.status == FAILED
    (d,) = outcome.discrepancies
    assert (d.source_table, d.row_label, d.column_label, d.stated_value, d.computed_value, d.status) == (
        "Table 7",
        "Total",
        "2019 fall semester",
        31.0,
        32.0,
        UNREGISTERED,
    )


@pytest.mark.e2e
def test_register_entry_no_longer_found_warns(marts_db: Path, tmp_path: Path) -> None:
    root = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, root)
    reg = root / "known_discrepancies.yml"
    doc = yaml.safe_load(reg.read_text(encoding="utf-8"))
    doc["discrepancies"].append(
        {
            "rule": "t7_total_row_equals_sum",
            "source_table": "Table 7",
            "row": "Total",
            "column": "2017 spring semester",
            "stated": 25,
            "computed": 26,
            "note": "stale",
            "confirmed": "-",
        }
    )
    reg.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    outcome = run_gate(marts_db, run_id="stale", catalog=load_catalog(root), batches={"t7_totals"})
    rule = next(r for r in outcome.results if r.rule.id == "t7_total_row_equals_sum")
    assert rule.status == WARNED and rule.severity == "WARN"
    assert [e.column for e in rule.stale_entries] == ["2017 spring semester"]
    assert [d.status for d in outcome.discrepancies] == [NOT_FOUND]
    assert not outcome.blocked


@pytest.mark.e2e
def test_great_expectations_really_computes(marts_db: Path, tmp_path: Path, catalog: Catalog) -> None:
    """Deliberately wrong data fails with observed values filled in by GX (not vacuously, not by SQL)."""
    db = _copy(
        marts_db,
        tmp_path,
        "update education.h_university_exchange_totals set students_stated = 99 "
        "where direction = 'inbound' and year = 2016",
    )
    sub = catalog.subset({"t6_totals", "t2_diaspora"})
    data = fetch_batches(db, sub)
    validation = validate_frames(data, sub)
    pair = validation["t6_total_row_equals_sum#0"]
    assert pair.success is False and pair.exception is None
    assert pair.result["element_count"] == 10
    assert pair.result["unexpected_count"] == 2
    assert sorted(map(tuple, pair.result["unexpected_list"])) == [(2, 7), (99, 25)]
    assert sorted(pair.result["unexpected_index_list"]) == sorted(
        data["t6_totals"].frame.index[data["t6_totals"].frame["students_stated"].isin([2, 99])].tolist()
    )
    count = validation["t2_years_complete#1"]
    assert count.success is True and count.result["observed_value"] == 11
    types = validation["t2_types#0"]
    assert types.result["observed_value"] in ("int32", "int64")


def test_an_expectation_that_errors_fails(catalog: Catalog) -> None:
    """An exception inside GX (here: a missing column) is a failure, never a pass."""
    sub = catalog.subset({"t4_sex_sums"})
    batch: Batch = sub.batches["t4_sex_sums"]
    frame = pd.DataFrame({"row_label": ["2010"], "source_ref": ["x"], "total_stated": [1]})
    validation = validate_frames({"t4_sex_sums": BatchData(batch, frame)}, sub)
    for key in ("t4_sex_sum_equals_total#0", "t4_sex_split_in_pairs#0"):
        assert validation[key].success is False
        assert validation[key].exception


@pytest.mark.e2e
def test_a_broken_batch_query_fails_its_rules(marts_db: Path, tmp_path: Path, catalog: Catalog) -> None:
    db = _copy(marts_db, tmp_path, "drop table education.turkic_studies_departments")
    outcome = run_gate(db, run_id="broken", catalog=catalog, batches={"t5_departments"})
    assert outcome.results and all(r.status == FAILED for r in outcome.results)
    assert all("batch query failed" in r.summary for r in outcome.results)


@pytest.mark.e2e
def test_results_tables_and_report_files(marts_db: Path, tmp_path: Path, catalog: Catalog) -> None:
    db = _copy(
        marts_db,
        tmp_path,
        f"update {T3} set count = -3 where year = 2013 and sex = 'male' and category = 'married_immigrants'",
    )
    outcome = run_gate(db, run_id="run-1234", catalog=catalog)
    assert outcome.blocked
    write_results(db, outcome)
    with duckdb.connect(str(db), read_only=True) as con:
        n = con.execute("select count(*) from quality.check_results where run_id = 'run-1234'").fetchone()
        failed = con.execute(
            "select check_name, severity, passed, failing_rows from quality.check_results where status = 'failed'"
        ).fetchall()
    assert n == (len(catalog.rules),)
    names = {f[0] for f in failed}
    assert "t3_ranges" in names
    t3 = next(f for f in failed if f[0] == "t3_ranges")
    assert t3[1] == "ERROR" and t3[2] is False
    rows = json.loads(t3[3])
    assert rows[0]["row_label"] == "2013, married_immigrants, male"
    assert "Table 3, row 2013" in rows[0]["source_ref"] and rows[0]["count"] == -3

    paths = write_reports(tmp_path / "reports", outcome)
    for p in (paths.markdown, paths.html, paths.latest_markdown, paths.latest_html):
        assert p.exists() and p.stat().st_size > 1000
    md = paths.latest_markdown.read_text(encoding="utf-8")
    assert "BLOCKED" in md and "t3_ranges" in md and "35,080" in md and "2013, married_immigrants, male" in md
    assert paths.markdown.name == "quality-run-1234.md"
    assert render_html(outcome).startswith("<!doctype html>")
    assert "<script" not in render_html(outcome)
    assert render_markdown(outcome).count("\n## ") >= 5


@pytest.mark.e2e
def test_kzkr_report_prints_checks_and_discrepancies(
    built_warehouse: BuiltWarehouse, catalog: Catalog
) -> None:
    settings = Settings(raw_dir=built_warehouse.raw_dir, warehouse_dir=built_warehouse.warehouse_dir)
    buf = io.StringIO()
    assert print_quality_report(settings, out=buf, width=160) == 0
    text = buf.getvalue()
    n_warn = len(_expected_warnings(built_warehouse.published, catalog))
    assert f"GX rules: {len(catalog.rules) - n_warn} passed, {n_warn} warned, 0 failed" in text
    assert "WARN    t3_sex_sum_equals_total" in text
    assert f"paper discrepancies: {len(catalog.register)} ({len(catalog.register)} known" in text
    assert "35,080" in text and "33,086" in text and "Inbound: Total" in text


def test_kzkr_report_without_a_warehouse(tmp_path: Path) -> None:
    buf = io.StringIO()
    assert print_quality_report(Settings(raw_dir=tmp_path, warehouse_dir=tmp_path), out=buf) == 1
    assert "does not exist" in buf.getvalue()
