"""One status everywhere: `kzkr build`, `kzkr report`, the Markdown and HTML reports and the Dagster UI
(metadata of `warehouse/published`) show the same status line, counted from the build's own tables.

Expected counts are recomputed here with SQL from the published tables (and, for dbt tests, from the
dbt manifest: every data test and unit test of the project has a recorded outcome).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import REPO, BuiltWarehouse, run_kzkr


def _counts(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in con.execute(sql).fetchall()}


@pytest.fixture(scope="module")
def expected_line(built_warehouse: BuiltWarehouse) -> str:
    return status_line_from_tables(built_warehouse.published)


def status_line_from_tables(db: Path) -> str:
    """The status line the surfaces must show, recomputed here with SQL from the file's tables."""
    with duckdb.connect(str(db), read_only=True) as con:
        dbt = _counts(
            con,
            "select case when status in ('pass', 'success') then 'passed' when status = 'warn' then 'warned' "
            "else 'failed' end, count(*) from quality.dbt_test_results group by 1",
        )
        gx = _counts(con, "select status, count(*) from quality.check_results group by 1")
        claims = _counts(con, "select verdict, count(*) from quality.claims group by 1")
        columns = {
            r[0]
            for r in con.execute(
                "select column_name from duckdb_columns() where table_name = 'claims'"
            ).fetchall()
        }
        coverage = (
            _counts(con, "select coverage, count(*) from quality.claims group by 1")
            if "coverage" in columns
            else {}
        )
    line = (
        f"dbt tests: {dbt.get('passed', 0)} passed, {dbt.get('warned', 0)} warned, {dbt.get('failed', 0)} failed · "
        f"GX rules: {gx.get('passed', 0)} passed, {gx.get('warned', 0)} warned, {gx.get('failed', 0)} failed · "
        f"claims: {sum(claims.values())} — {claims.get('supported', 0)} supported, "
        f"{claims.get('contradicted', 0)} contradicted, {claims.get('not_checkable', 0)} not checkable"
    )
    if coverage:
        line += (
            " (coverage: "
            + ", ".join(f"{coverage.get(k, 0)} {k}" for k in ("full", "partial", "proxy", "none"))
            + ")"
        )
    return line


def test_every_dbt_test_of_the_project_has_its_outcome_in_the_file(built_warehouse: BuiltWarehouse) -> None:
    manifest = json.loads((REPO / "dbt_project" / "target" / "manifest.json").read_text())
    tests = {k for k, n in manifest["nodes"].items() if n["resource_type"] == "test"}
    tests |= set(manifest.get("unit_tests", {}))
    with duckdb.connect(str(built_warehouse.published), read_only=True) as con:
        recorded = {r[0] for r in con.execute("select test_id from quality.dbt_test_results").fetchall()}
    assert recorded == tests


def test_the_cli_summary_shows_the_status_line(built_warehouse: BuiltWarehouse, expected_line: str) -> None:
    assert f"status: {expected_line}\n" in built_warehouse.stdout, built_warehouse.stdout[-2000:]


def test_kzkr_report_shows_the_same_status_line(built_warehouse: BuiltWarehouse, expected_line: str) -> None:
    proc = run_kzkr("report", raw_dir=built_warehouse.raw_dir, warehouse_dir=built_warehouse.warehouse_dir)
    assert proc.returncode == 0, proc.stderr
    assert f"status: {expected_line}\n" in proc.stdout


def test_the_report_files_show_the_same_status_line(
    built_warehouse: BuiltWarehouse, expected_line: str
) -> None:
    reports = built_warehouse.warehouse_dir / "reports"
    md = (reports / "latest.md").read_text(encoding="utf-8")
    assert f"`{expected_line}`" in md
    assert html.escape(expected_line) in (reports / "latest.html").read_text(encoding="utf-8")
    assert "[gx/index.html](gx/index.html)" in md  # GX's own Data Docs, linked from the report
    assert (reports / "gx" / "index.html").exists()


def test_the_ui_shows_the_same_status_on_the_publish_asset(
    built_warehouse: BuiltWarehouse, expected_line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the UI shows on `warehouse/published`: the metadata of its latest materialization."""
    monkeypatch.setenv("DAGSTER_HOME", str(built_warehouse.warehouse_dir / ".dagster"))
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["warehouse", "published"]))
    assert event is not None and event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    assert metadata["status"].value == expected_line
    summary = metadata["summary"]
    assert isinstance(summary, dg.MarkdownMetadataValue) and f"`{expected_line}`" in str(summary.value)


def test_gx_data_docs_of_the_build(built_warehouse: BuiltWarehouse) -> None:
    """Each suite's validation has its page in GX's own Data Docs, and the checks link to the site."""
    site = built_warehouse.warehouse_dir / "reports" / "gx"
    suites = {p.stem for p in (REPO / "expectations" / "suites").glob("*.json")}
    pages = {p.relative_to(site / "validations").parts[0] for p in (site / "validations").rglob("*.html")}
    assert suites <= pages, (suites, pages)
    assert not [p for p in site.parent.iterdir() if p.name.startswith(".gx")]


def test_the_checks_link_to_the_gx_data_docs(
    built_warehouse: BuiltWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(built_warehouse.warehouse_dir / ".dagster"))
    with duckdb.connect(str(built_warehouse.published), read_only=True) as con:
        run_id = str(con.execute("select run_id from meta.build_info").fetchone()[0])
        rules = {r[0] for r in con.execute("select check_name from quality.check_results").fetchall()}
    with dg.DagsterInstance.get() as instance:
        records = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=10000
        ).records
    links = {}
    for record in records:
        data = record.event_log_entry.dagster_event.event_specific_data
        if data.check_name in rules:
            links[data.check_name] = data.metadata.get("gx_data_docs")
    assert set(links) == rules
    index = built_warehouse.warehouse_dir / "reports" / "gx" / "index.html"
    assert {str(v.value) if v else None for v in links.values()} == {str(index)}
