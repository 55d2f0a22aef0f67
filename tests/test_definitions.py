"""The Dagster code location loads with its job, schedule, sensor and the asset graph wired up."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import CONCURRENCY_TAG, JOB_NAME, defs, raw_files_changed
from pipelines.ingest.specs import RAW_FILES

ROOT = Path(__file__).resolve().parents[1]


def test_job_schedule_and_sensor_load() -> None:
    job = defs.resolve_job_def(JOB_NAME)
    assert job.tags.get(CONCURRENCY_TAG) == "build"
    schedule = defs.resolve_schedule_def("daily_warehouse_build")
    assert schedule.cron_schedule == "0 3 * * *" and schedule.job_name == JOB_NAME
    sensor = defs.resolve_sensor_def("raw_files_changed")
    assert sensor.job_name == JOB_NAME


def test_asset_graph_links_raw_files_to_dbt_and_publish() -> None:
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    for spec in RAW_FILES:
        assert dg.AssetKey(["raw", spec.name]) in keys
    # The dbt sources point at the ingest assets (meta: dagster: asset_key), so the ingest asset is
    # an upstream of its staging model rather than a separate, unconnected node.
    stg = dg.AssetKey(["staging", "stg_paper__kazakhstani_citizens_in_korea"])
    assert dg.AssetKey(["raw", "paper_table3_kazakhstani_citizens_in_korea"]) in graph.get(stg).parent_keys
    published = graph.get(dg.AssetKey(["warehouse", "published"]))
    for mart in (
        ["demography", "population_by_ethnicity"],
        ["migration", "kazakhstani_citizens_in_korea"],
        ["education", "h_university_exchange"],
        ["trade", "kazakhstan_trade_by_partner"],
        ["analytics", "yearly_overview"],
    ):
        assert dg.AssetKey(mart) in published.parent_keys


def test_dbt_tests_become_asset_checks() -> None:
    graph = defs.resolve_asset_graph()
    checks = graph.get(dg.AssetKey(["migration", "kazakhstani_citizens_in_korea"])).check_keys
    assert any("not_null" in c.name for c in checks)


def test_sensor_requests_a_run_only_when_raw_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    monkeypatch.setenv("KZKR_RAW_DIR", str(raw))
    first = raw_files_changed(dg.build_sensor_context())
    assert isinstance(first, dg.SensorResult) and not first.run_requests and first.cursor
    same = raw_files_changed(dg.build_sensor_context(cursor=first.cursor))
    assert isinstance(same, dg.SkipReason)
    target = raw / "paper_table4_ethnic_korean_arrivals_f4.csv"
    target.write_text(target.read_text(encoding="utf-8").replace("368", "369"), encoding="utf-8")
    changed = raw_files_changed(dg.build_sensor_context(cursor=first.cursor))
    assert isinstance(changed, dg.SensorResult)
    assert len(changed.run_requests or []) == 1 and changed.cursor != first.cursor
