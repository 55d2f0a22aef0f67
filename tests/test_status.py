"""`kzkr status` pieces: freshness, open alerts, who started a run, and the printed lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipelines.publish.status import (
    MISSING,
    OK,
    WARN,
    RunSummary,
    Status,
    format_status,
    freshness,
    last_run_by_kind,
    open_alerts,
    run_kind,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_freshness_warns_after_the_limit() -> None:
    assert freshness(NOW - timedelta(hours=35, minutes=59), NOW, 36).status == OK
    assert freshness(NOW - timedelta(hours=36, minutes=1), NOW, 36).status == WARN
    assert freshness(NOW - timedelta(hours=2), NOW, 1.5).status == WARN
    assert freshness(None, NOW, 36).status == MISSING
    stale = freshness(NOW - timedelta(hours=40), NOW, 36)
    assert stale.age_hours is not None and round(stale.age_hours) == 40
    assert "40.0 h" in stale.describe() and "36 h" in stale.describe()
    # a naive timestamp is UTC
    assert freshness(datetime(2026, 12, 1, 11, 0), NOW, 36).status == OK


def test_run_kind_from_tags() -> None:
    assert run_kind({"dagster/schedule_name": "daily_warehouse_build"}) == "schedule"
    assert run_kind({"dagster/sensor_name": "raw_files_changed"}) == "sensor"
    assert run_kind({"kzkr/trigger": "cli"}) == "cli"
    assert run_kind({"dagster/from_ui": "true"}) == "ui"
    assert run_kind({"dagster/backfill": "abc"}) == "ui"
    assert run_kind({}) == "other"


def test_alerts_are_open_until_a_later_publish() -> None:
    alerts = [
        {"at": (NOW - timedelta(hours=3)).isoformat(), "run_id": "old"},
        {"at": (NOW - timedelta(minutes=5)).isoformat(), "run_id": "new"},
    ]
    assert [a["run_id"] for a in open_alerts(alerts, NOW - timedelta(hours=1))] == ["new"]
    assert [a["run_id"] for a in open_alerts(alerts, None)] == ["old", "new"]
    assert open_alerts(alerts, NOW) == []


def _run(kind: str, run_id: str, status: str = "SUCCESS") -> RunSummary:
    return RunSummary(run_id, "warehouse_job", kind, status, NOW - timedelta(minutes=1))


def test_last_run_of_each_kind_is_the_newest() -> None:
    runs = [_run("sensor", "s2", "FAILURE"), _run("cli", "c2"), _run("sensor", "s1"), _run("other", "o")]
    last = last_run_by_kind(runs)
    assert list(last) == ["cli", "schedule", "sensor", "ui"]
    assert last["sensor"] is not None and last["sensor"].run_id == "s2"
    assert last["cli"] is not None and last["cli"].run_id == "c2"
    assert last["schedule"] is None and last["ui"] is None


def test_format_names_the_build_its_age_every_kind_and_the_open_alerts(tmp_path: Path) -> None:
    built = NOW - timedelta(hours=2)
    status = Status(
        published=tmp_path / "kzkr.duckdb",
        build_id="20261201T100000Z-abcdef12",
        built_at=built,
        fresh=freshness(built, NOW, 36),
        last_runs=last_run_by_kind([_run("sensor", "sensor-run-1", "FAILURE")]),
        open_alerts=[
            {"at": NOW.isoformat(), "trigger": "sensor", "run_id": "sensor-run-1", "what": "run failed"}
        ],
        alerts_path=tmp_path / "alerts" / "alerts.jsonl",
    )
    text = format_status(status, NOW)
    assert "build 20261201T100000Z-abcdef12" in text and "(2.0 h ago)" in text
    assert "freshness  OK" in text
    for kind in ("cli", "schedule", "ui"):
        assert f"  {kind:<9} none" in text
    assert "sensor" in text and "FAILURE" in text and "sensor-r" in text
    assert "alerts     1 open" in text and "run failed" in text
    assert not status.healthy
