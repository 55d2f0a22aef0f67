"""Materializing part of the warehouse, as the UI lets a user do (one asset, one group, the launchpad):
the run builds on a copy of the last published build, so its checks judge real data (green on the
good data); only a run of every asset publishes, and a partial publish refuses, saying why, with the
published file untouched. Runs go through the code location's own job ("Materialize all"'s job)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from conftest import BuiltWarehouse, sha256_file

from pipelines.definitions import load_defs
from pipelines.defs.publish import PUBLISHED_KEY

MART = dg.AssetKey(["migration", "ethnic_korean_arrivals_f4"])


def _run(built: BuiltWarehouse, warehouse: Path, selection: list[dg.AssetKey]) -> dg.ExecuteInProcessResult:
    config = {
        "raw_dir": str(built.raw_dir),
        "warehouse_dir": str(warehouse),
        "duckdb_memory_limit": "1GB",
        "dbt_log_to_file": True,
    }
    job = load_defs().resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        return job.execute_in_process(
            run_config={"resources": {"warehouse": {"config": config}}},
            instance=instance,
            asset_selection=selection,
            raise_on_error=False,
        )


@pytest.mark.e2e
def test_one_mart_builds_on_the_published_build_with_green_checks(
    built_warehouse: BuiltWarehouse, warehouse_copy: Path
) -> None:
    published = warehouse_copy / "kzkr.duckdb"
    before = sha256_file(published)
    result = _run(built_warehouse, warehouse_copy, [MART])
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]
    evaluations = [e for e in result.get_asset_check_evaluations() if e.asset_key == MART]
    names = {e.check_name for e in evaluations}
    assert any(n.startswith("t4_") for n in names), names  # the quality gate's rules on this mart
    assert any(n.startswith("not_null_") for n in names), names  # and its dbt tests
    assert all(e.passed for e in evaluations), [e for e in evaluations if not e.passed]
    assert sha256_file(published) == before


@pytest.mark.e2e
def test_publishing_part_of_the_warehouse_refuses_and_leaves_it_untouched(
    built_warehouse: BuiltWarehouse, warehouse_copy: Path
) -> None:
    published = warehouse_copy / "kzkr.duckdb"
    before = sha256_file(published)
    result = _run(built_warehouse, warehouse_copy, [PUBLISHED_KEY])
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = failure.step_failure_data.user_failure_data.description
    assert "only part of the warehouse" in message and "Materialize all" in message, message
    assert sha256_file(published) == before
