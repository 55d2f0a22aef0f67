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
