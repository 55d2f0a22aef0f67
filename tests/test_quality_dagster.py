"""The quality gate as Dagster asset checks: one multi-asset check with a blocking spec per rule on the
mart assets; registered discrepancies WARN and publishing goes ahead; any ERROR stops the run before
the publish asset; results are written into the build file and the report directory first."""

# No `from __future__ import annotations`: Dagster inspects the `context` annotation at runtime.

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import BuiltWarehouse

from pipelines.audit.quality.spec import load_catalog
from pipelines.defs.audit import quality_checks
from pipelines.resources import WarehouseResource
from pipelines.settings import Settings

PUBLISHED = dg.AssetKey(["warehouse", "published"])


KEPT = "published-build.duckdb"


def _run(source_db: Path, warehouse_dir: Path) -> dg.ExecuteInProcessResult:
    keys = sorted({r.asset for r in load_catalog().rules.values()})

    @dg.multi_asset(
        specs=[dg.AssetSpec(dg.AssetKey(list(k))) for k in keys], required_resource_keys={"warehouse"}
    )
    def marts(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        dest = context.resources.warehouse.settings().build_db(context.run.run_id)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source_db, dest)
        for k in keys:
            yield dg.MaterializeResult(asset_key=dg.AssetKey(list(k)))

    @dg.asset(key=PUBLISHED, deps=[dg.AssetKey(list(k)) for k in keys], required_resource_keys={"warehouse"})
    def published(context: dg.AssetExecutionContext) -> None:
        # stands in for the publish step: keeps the audited build file, which the run discards at its end
        shutil.copy2(
            context.resources.warehouse.settings().build_db(context.run.run_id), warehouse_dir / KEPT
        )

    job = dg.define_asset_job("j", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor)
    defs = dg.Definitions(
        assets=[marts, published],
        asset_checks=quality_checks(),
        jobs=[job],
        resources={
            "warehouse": WarehouseResource(
                raw_dir=str(warehouse_dir / "raw"), warehouse_dir=str(warehouse_dir)
            )
        },
    )
    return defs.resolve_job_def("j").execute_in_process(raise_on_error=False)


def _evaluations(result: dg.ExecuteInProcessResult) -> list[dg.AssetCheckEvaluation]:
    return [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]


def _published(result: dg.ExecuteInProcessResult) -> bool:
    return any(
        e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key == PUBLISHED for e in result.all_events
    )


@pytest.fixture(scope="module")
def marts_db(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("quality_dagster") / "marts.duckdb"
    shutil.copy2(built_warehouse.published, dest)
    return dest


def test_one_multi_asset_check_with_a_blocking_spec_per_rule() -> None:
    catalog = load_catalog()
    (checks,) = quality_checks()
    specs = list(checks.check_specs)
    assert {s.name for s in specs} == set(catalog.rules)
    assert all(s.blocking for s in specs)
    for s in specs:
        assert s.asset_key == dg.AssetKey(list(catalog.rules[s.name].asset))


def test_checks_target_the_mart_assets_that_publish_depends_on() -> None:
    from pipelines.definitions import load_defs

    graph = load_defs().resolve_asset_graph()
    parents = graph.get(PUBLISHED).parent_keys
    for spec in quality_checks()[0].check_specs:
        assert spec.asset_key in graph.get_all_asset_keys(), spec.asset_key
        assert spec.asset_key in parents, f"{spec.asset_key} is not upstream of the publish asset"
    assert set(graph.asset_check_keys) >= {s.key for s in quality_checks()[0].check_specs}


@pytest.mark.e2e
def test_real_marts_warn_and_publish(marts_db: Path, tmp_path: Path) -> None:
    result = _run(marts_db, tmp_path / "wh")
    assert result.success
    evaluations = _evaluations(result)
    catalog = load_catalog()
    assert len({e.check_name for e in evaluations}) == len(catalog.rules)
    # warned rules (registered paper discrepancies only) are findings: passed, severity WARN, "warned: …"
    assert all(e.passed for e in evaluations)
    warned = {e.check_name for e in evaluations if e.metadata["status"].value == "warned"}
    # the rules that warn on the real data: the registered paper discrepancies' and the warn-only rules
    # (the register of known source gaps reports its cells)
    warn_only = {r.id for r in catalog.rules.values() if r.warn_only}
    assert warned == {e.rule for e in catalog.register} | warn_only
    for e in evaluations:
        is_warned = e.check_name in warned
        assert (e.severity == dg.AssetCheckSeverity.WARN) == is_warned
        assert (e.description or "").startswith("warned: ") == is_warned
    assert _published(result)

    t3 = next(e for e in evaluations if e.check_name == "t3_sex_sum_equals_total")
    md = t3.metadata["failing_rows"].value
    assert "35080" in md and "33086" in md and 'Table 3, row 2016, column "Arriving citizens", Total' in md
    assert t3.metadata["rows_checked"].value == 40
    assert t3.metadata["known_discrepancies"].value == 5
    assert "vs" in t3.metadata["observed"].value
    report = Path(t3.metadata["report"].value)
    assert report.exists() and report.parent == tmp_path / "wh" / "reports"
    assert (tmp_path / "wh" / "reports" / "latest.html").exists()

    with duckdb.connect(str(tmp_path / "wh" / KEPT), read_only=True) as con:
        n = con.execute(
            "select count(*) from quality.check_results where run_id = ?", [result.run_id]
        ).fetchone()
        d = con.execute(
            "select count(*) from quality.paper_discrepancies where status = 'known' and rule <> 'text'"
        ).fetchone()
    assert n == (len(catalog.rules),) and d == (len(catalog.register),)


@pytest.mark.e2e
def test_an_error_blocks_publishing(marts_db: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.duckdb"
    shutil.copy2(marts_db, broken)
    with duckdb.connect(str(broken)) as con:
        con.execute(
            "update migration.ethnic_korean_arrivals_f4 set count = count + 100 where year = 2016 and sex = 'male'"
        )
    result = _run(broken, tmp_path / "wh")
    assert not result.success
    assert not _published(result)
    evaluations = _evaluations(result)
    failed = [e for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert [e.check_name for e in failed] == ["t4_sex_sum_equals_total"]
    failing = failed[0].metadata["failing_rows"].value
    assert "unregistered" in failing
    # the run's build file is discarded with the failed run (nothing unpublished is kept): the cell is
    # in the check's failing rows, stated and computed
    row = next(line for line in failing.splitlines() if line.startswith("| 2016 "))
    assert "1852" in row and "1952" in row and "unregistered" in row, row
    assert not Settings(raw_dir=tmp_path, warehouse_dir=tmp_path / "wh").build_db(result.run_id).exists()
    latest = (tmp_path / "wh" / "reports" / "latest.md").read_text(encoding="utf-8")
    assert "BLOCKED" in latest and "t4_sex_sum_equals_total" in latest
