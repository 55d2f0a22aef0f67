"""The freshness check of ``warehouse/published`` and its sensor, on a copy of the reference build.

The check runs through its own job (``freshness_check_job``), as the sensor starts it; it passes
on a fresh build and WARNs once the build is older than ``KZKR_FRESHNESS_HOURS``. The sensor runs
it only when freshness turns stale, and records one alert per stale build.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
from conftest import BuiltWarehouse, copy_warehouse

from pipelines.defs.automation import FRESHNESS_CHECK, FRESHNESS_JOB, published_freshness

pytestmark = pytest.mark.e2e  # needs the session's reference build


@pytest.fixture
def wh(built_warehouse: BuiltWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = copy_warehouse(built_warehouse, tmp_path / "warehouse")
    monkeypatch.setenv("KZKR_WAREHOUSE_DIR", str(path))
    monkeypatch.setenv("KZKR_RAW_DIR", str(built_warehouse.raw_dir))
    monkeypatch.delenv("KZKR_ALERT_WEBHOOK", raising=False)
    return path


def _evaluate() -> dg.AssetCheckEvaluation:
    from pipelines.definitions import load_defs

    result = (
        load_defs().resolve_job_def(FRESHNESS_JOB).execute_in_process(instance=dg.DagsterInstance.ephemeral())
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == FRESHNESS_CHECK
    assert evaluation.asset_key == dg.AssetKey(["warehouse", "published"])
    return evaluation


def test_freshness_check_passes_on_a_fresh_build_and_warns_on_a_stale_one(
    wh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = _evaluate()
    assert fresh.passed, fresh.description
    monkeypatch.setenv("KZKR_FRESHNESS_HOURS", "0.0001")  # 0.36 s: the reference build is older
    stale = _evaluate()
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
    assert stale.description and "WARN" in stale.description and "0.0001 h" in stale.description


def test_freshness_sensor_runs_the_check_and_alerts_once_per_stale_build(
    wh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sensor = published_freshness()
    ok = sensor(dg.build_sensor_context())
    assert not ok.run_requests
    monkeypatch.setenv("KZKR_FRESHNESS_HOURS", "0.0001")
    stale = sensor(dg.build_sensor_context(cursor=ok.cursor))
    assert len(stale.run_requests or []) == 1
    again = sensor(dg.build_sensor_context(cursor=stale.cursor))
    assert not again.run_requests
    alerts = [json.loads(x) for x in (wh / "alerts" / "alerts.jsonl").read_text().splitlines()]
    assert [a["what"] for a in alerts] == ["published build is stale"]
    assert alerts[0]["job"] == FRESHNESS_JOB and "WARN" in alerts[0]["error"]
    # the same stale build seen by a sensor with a lost cursor: still one alert
    sensor(dg.build_sensor_context())
    assert len((wh / "alerts" / "alerts.jsonl").read_text().splitlines()) == 1
