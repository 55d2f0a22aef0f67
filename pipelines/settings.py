"""Where things live and how a build is tuned: the one module that reads ``KZKR_*`` variables.

Every path a build writes is under the warehouse directory. The Dagster resources
(:mod:`pipelines.resources`) take their configuration from here; :func:`resource_value` shows a
variable that is set as ``EnvVar`` in the UI's resource config.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
PUBLISHED_NAME = "kzkr.duckdb"
HISTORY_KEEP = 5
DEFAULT_MEMORY_LIMIT = "1GB"

RAW_DIR_ENV = "KZKR_RAW_DIR"
WAREHOUSE_DIR_ENV = "KZKR_WAREHOUSE_DIR"
MEMORY_LIMIT_ENV = "KZKR_DUCKDB_MEMORY_LIMIT"
# The variable dbt's profile (dbt_project/profiles.yml) reads the build file's path from; the
# dbt session (pipelines.resources) sets it for dbt's subprocess, nothing in Python reads it.
BUILD_DB_ENV = "KZKR_BUILD_DB"
TEST_PAUSE_ENV = "KZKR_TEST_PAUSE_AT"
TEST_PAUSE_SECONDS_ENV = "KZKR_TEST_PAUSE_SECONDS"

DEFAULTS: dict[str, str] = {
    RAW_DIR_ENV: str(PROJECT_ROOT / "raw"),
    WAREHOUSE_DIR_ENV: str(PROJECT_ROOT / "warehouse"),
    MEMORY_LIMIT_ENV: DEFAULT_MEMORY_LIMIT,
}


def env(name: str, default: str | None = None) -> str | None:
    """The value of ``name`` (a ``KZKR_*`` variable), else its default."""
    value = os.environ.get(name)
    if value:
        return value
    return default if default is not None else DEFAULTS.get(name)


def resource_value(name: str) -> Any:
    """Resource config for the variable ``name``: ``dg.EnvVar(name)`` when it is set (the UI then
    shows where the value comes from), else its default as a plain value."""
    if os.environ.get(name):
        import dagster as dg

        return dg.EnvVar(name)
    return DEFAULTS[name]


def export_defaults() -> None:
    """Set the path variables to their (absolute) values, so that processes started from here
    (the Dagster UI, its daemon and run workers) see them, and the UI shows them as ``EnvVar``."""
    settings = Settings.from_env()
    os.environ[RAW_DIR_ENV] = str(settings.raw_dir)
    os.environ[WAREHOUSE_DIR_ENV] = str(settings.warehouse_dir)


def test_pause() -> tuple[str | None, float]:
    """The test hook of :func:`pipelines.publish.warehouse.pause_point`: (step, seconds)."""
    return os.environ.get(TEST_PAUSE_ENV), float(os.environ.get(TEST_PAUSE_SECONDS_ENV) or "600")


def ui_address(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Where `make ui` listens: 127.0.0.1:3000 unless ``KZKR_UI_HOST`` / ``KZKR_UI_PORT`` say otherwise."""
    environ = os.environ if environ is None else environ
    return environ.get("KZKR_UI_HOST") or "127.0.0.1", environ.get("KZKR_UI_PORT") or "3000"


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    warehouse_dir: Path
    memory_limit: str = DEFAULT_MEMORY_LIMIT

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            raw_dir=Path(str(env(RAW_DIR_ENV))).absolute(),
            warehouse_dir=Path(str(env(WAREHOUSE_DIR_ENV))).absolute(),
            memory_limit=str(env(MEMORY_LIMIT_ENV)),
        )

    @property
    def published(self) -> Path:
        return self.warehouse_dir / PUBLISHED_NAME

    @property
    def builds_dir(self) -> Path:
        return self.warehouse_dir / ".builds"

    @property
    def history_dir(self) -> Path:
        return self.warehouse_dir / "history"

    @property
    def lock_file(self) -> Path:
        return self.warehouse_dir / ".build.lock"

    @property
    def dagster_home(self) -> Path:
        return self.warehouse_dir / ".dagster"

    @property
    def reports_dir(self) -> Path:
        return self.warehouse_dir / "reports"

    @property
    def logs_dir(self) -> Path:
        return self.warehouse_dir / "logs"

    def build_db(self, run_id: str) -> Path:
        return self.builds_dir / f"build-{run_id}.duckdb"


# --------------------------------------------------------------------------- unattended runs
# The schedule, the sensors, the lock wait of a run, alerts and freshness (pipelines/defs/automation.py,
# pipelines/publish/lock.py, pipelines/publish/alerts.py, `kzkr status`).
SCHEDULE_CRON_ENV = "KZKR_SCHEDULE_CRON"
SENSOR_INTERVAL_ENV = "KZKR_SENSOR_INTERVAL_SECONDS"
SENSOR_QUIET_ENV = "KZKR_SENSOR_QUIET_SECONDS"
FRESHNESS_HOURS_ENV = "KZKR_FRESHNESS_HOURS"
LOCK_WAIT_ENV = "KZKR_LOCK_WAIT_SECONDS"
ALERT_WEBHOOK_ENV = "KZKR_ALERT_WEBHOOK"


def _number(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number") from None
    if value < 0:
        raise ValueError(f"{name}={text!r} must not be negative")
    return value


@dataclass(frozen=True)
class Automation:
    """How unattended runs behave; every value has an environment variable (README, "Unattended runs")."""

    schedule_cron: str = "0 3 * * *"  # the daily rebuild, UTC
    sensor_interval_seconds: int = 30  # how often the sensors evaluate
    sensor_quiet_seconds: float = 60.0  # raw/ must be unchanged this long before the sensor builds
    freshness_hours: float = 36.0  # the published build is stale (WARN) after this
    lock_wait_seconds: float = 3600.0  # how long a run waits for another build's warehouse lock
    alert_webhook: str | None = None  # where alerts are POSTed, besides alerts/alerts.jsonl

    @classmethod
    def from_env(cls) -> Automation:
        d = cls()
        return cls(
            schedule_cron=os.environ.get(SCHEDULE_CRON_ENV) or d.schedule_cron,
            sensor_interval_seconds=max(1, int(_number(SENSOR_INTERVAL_ENV, d.sensor_interval_seconds))),
            sensor_quiet_seconds=_number(SENSOR_QUIET_ENV, d.sensor_quiet_seconds),
            freshness_hours=_number(FRESHNESS_HOURS_ENV, d.freshness_hours),
            lock_wait_seconds=_number(LOCK_WAIT_ENV, d.lock_wait_seconds),
            alert_webhook=os.environ.get(ALERT_WEBHOOK_ENV) or None,
        )
