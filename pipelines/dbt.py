"""The dbt project as Dagster sees it: one cached DbtProject, a manifest kept fresh, the translator."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from pipelines.settings import DBT_PROJECT_DIR

MART_SCHEMAS = ("demography", "migration", "education", "trade", "analytics")
_STAMP = "manifest.sha256"
# The dbt of this interpreter's environment (the venv), whether or not it is on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


@cache
def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()
    return project


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for sub in ("models", "macros", "seeds", "tests"):
        root = DBT_PROJECT_DIR / sub
        for p in sorted(root.rglob("*")) if root.exists() else []:
            if p.is_file():
                digest.update(str(p.relative_to(DBT_PROJECT_DIR)).encode() + b"\0" + p.read_bytes())
    for p in sorted(DBT_PROJECT_DIR.glob("*.yml")):
        digest.update(p.name.encode() + b"\0" + p.read_bytes())
    return digest.hexdigest()


def ensure_manifest() -> Path:
    """Parse the dbt project only when its files changed since the last parse."""
    project = dbt_project()
    stamp = project.manifest_path.with_name(_STAMP)
    digest = _sources_digest()
    if project.manifest_path.exists() and stamp.exists() and stamp.read_text() == digest:
        return project.manifest_path
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run(
        [
            DBT_EXECUTABLE,
            "parse",
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(project.manifest_path.parent),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0 or not project.manifest_path.exists():
        raise RuntimeError(f"dbt parse failed:\n{proc.stdout}\n{proc.stderr}")
    stamp.write_text(digest)
    return project.manifest_path


class KzkrTranslator(DagsterDbtTranslator):
    """Asset keys ``[schema, name]`` (e.g. ``migration/ethnic_korean_arrivals_f4``), grouped by schema."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        rtype = dbt_resource_props["resource_type"]
        if rtype in ("model", "seed", "snapshot"):
            schema = dbt_resource_props.get("config", {}).get("schema") or (
                "seeds" if rtype == "seed" else "models"
            )
            return AssetKey([schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        rtype = dbt_resource_props["resource_type"]
        if rtype == "seed":
            return "seeds"
        if rtype in ("model", "snapshot"):
            return dbt_resource_props.get("config", {}).get("schema") or "models"
        return super().get_group_name(dbt_resource_props)
