"""Where things live. Every path a build writes is under the warehouse directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
PUBLISHED_NAME = "kzkr.duckdb"
HISTORY_KEEP = 5


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    warehouse_dir: Path

    @classmethod
    def from_env(cls) -> Settings:
        raw = Path(os.environ.get("KZKR_RAW_DIR", PROJECT_ROOT / "raw"))
        wh = Path(os.environ.get("KZKR_WAREHOUSE_DIR", PROJECT_ROOT / "warehouse"))
        return cls(raw_dir=raw.absolute(), warehouse_dir=wh.absolute())

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

    def build_db(self, run_id: str) -> Path:
        return self.builds_dir / f"build-{run_id}.duckdb"
