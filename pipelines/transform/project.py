"""The dbt project as Dagster sees it: one cached DbtProject, a manifest kept fresh (parsed only
when the project's files changed, and only when asked for: never at import), the mart schemas as
the manifest says, the translator."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from pipelines.lib.hashing import hash_tree
from pipelines.settings import DBT_PROJECT_DIR

# dbt opens the build file under this one path in every build (a hard link made for the dbt step),
# because dbt hashes the profile, path included, into its partial-parse state: with the per-run
# build file's own path, every build re-parsed the whole project (4–7 s).
DBT_STABLE_DB = DBT_PROJECT_DIR / "target" / "kzkr_build" / "dbt.duckdb"
_STAMP = "manifest.sha256"
PARTIAL_PARSE = "partial_parse.msgpack"
# The dbt of this interpreter's environment (the venv), whether or not it is on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


@cache
def dbt_project() -> DbtProject:
    """The project handle. No ``prepare_if_dev()``: :func:`ensure_manifest` parses when needed,
    with the venv's dbt (``prepare_if_dev`` runs whichever ``dbt`` is on PATH, under `dg dev`)."""
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for sub in ("models", "macros", "seeds", "tests"):
        hash_tree(digest, DBT_PROJECT_DIR / sub, "**/*", sub)
    hash_tree(digest, DBT_PROJECT_DIR, "*.yml", ".")
    # the profile's database path is part of dbt's partial-parse state (see DBT_STABLE_DB)
    digest.update(b"profile-path\0" + str(DBT_STABLE_DB).encode())
    return digest.hexdigest()


def ensure_manifest() -> Path:
    """Parse the dbt project only when its files changed since the last parse.

    Several processes may ask at once (the UI's code server, a run worker, `kzkr build`): one
    parses, under ``target/.parse.lock``, into a directory of its own, and then moves the manifest
    and dbt's partial-parse state into ``target/`` with ``os.replace``, so that no run ever reads a
    half-written manifest or a partial-parse file made with another profile. Every parse uses the
    profile the builds use (:data:`DBT_STABLE_DB`), so the state it leaves is the one they reuse."""
    project = dbt_project()
    target = project.manifest_path.parent
    stamp = project.manifest_path.with_name(_STAMP)
    digest = _sources_digest()

    def fresh() -> bool:
        return project.manifest_path.exists() and stamp.exists() and stamp.read_text() == digest

    if fresh():
        return project.manifest_path
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".parse.lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if fresh():  # another process parsed while this one waited
            return project.manifest_path
        work = target / f".parse-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        try:
            if (target / PARTIAL_PARSE).exists():
                shutil.copy2(target / PARTIAL_PARSE, work / PARTIAL_PARSE)
            _dbt_parse(work)
            for name in (PARTIAL_PARSE, project.manifest_path.name):
                if (work / name).exists():
                    os.replace(work / name, target / name)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        tmp = stamp.with_name(stamp.name + f".{os.getpid()}")
        tmp.write_text(digest)
        os.replace(tmp, stamp)
    return project.manifest_path


def _dbt_parse(target_path: Path) -> None:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "KZKR_BUILD_DB": str(DBT_STABLE_DB)}
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
            str(target_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0 or not (target_path / "manifest.json").exists():
        raise RuntimeError(f"dbt parse failed:\n{proc.stdout}\n{proc.stderr}")


@cache
def load_manifest() -> dict[str, Any]:
    """The parsed manifest of dbt_project/ (parsing first if the project changed)."""
    return dict(json.loads(ensure_manifest().read_text(encoding="utf-8")))


def _mart_nodes(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The models under models/marts/: what is published and gated."""
    nodes = manifest["nodes"].values()
    return [n for n in nodes if n["resource_type"] == "model" and list(n["fqn"][1:2]) == ["marts"]]


def mart_schemas(manifest: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The published schemas of the marts, as dbt_project.yml configures them."""
    nodes = _mart_nodes(load_manifest() if manifest is None else manifest)
    return tuple(sorted({n["config"]["schema"] for n in nodes}))


def mart_keys(manifest: Mapping[str, Any] | None = None) -> list[AssetKey]:
    """The Dagster asset keys of the marts (``[schema, model]``), sorted."""
    nodes = _mart_nodes(load_manifest() if manifest is None else manifest)
    translator = KzkrTranslator()
    return sorted((translator.get_asset_key(n) for n in nodes), key=lambda k: k.to_user_string())


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


RUN_TARGETS_KEEP = 3


RUN_TARGET_MIN_AGE_SECONDS = 3600.0


def prune_run_targets(
    target: Path = DBT_PROJECT_DIR / "target",
    keep: int = RUN_TARGETS_KEEP,
    min_age: float = RUN_TARGET_MIN_AGE_SECONDS,
) -> list[Path]:
    """dagster-dbt gives each run its own dbt target directory (``target/<asset op>-<run>-…``,
    ~7 MB: manifest, compiled SQL, run_results). Keep the newest ``keep`` for debugging and
    remove the rest, so that scheduled builds do not fill the disk — but never one touched in the
    last ``min_age`` seconds: it may belong to a run still going (builds of other warehouse
    directories of this checkout share ``target/``)."""
    runs = [p for p in target.glob("kzkr_dbt-*") if p.is_dir()] if target.exists() else []
    runs.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    cutoff = time.time() - min_age
    old = [p for p in runs[keep:] if p.stat().st_mtime < cutoff]
    for p in old:
        shutil.rmtree(p, ignore_errors=True)
    return old


@contextlib.contextmanager
def dbt_database_path(build_db: Path) -> Iterator[Path]:
    """The path dbt should open the build file under: :data:`DBT_STABLE_DB`, a hard link to
    ``build_db`` for the duration of the dbt step (so dbt's partial parse is reused), or
    ``build_db`` itself when the link cannot be made (another file system): dbt then parses the
    whole project, as before. A symlink would not do: DuckDB resolves it and names the catalog
    after its target, so the profile would differ anyway."""
    wal = DBT_STABLE_DB.with_name(DBT_STABLE_DB.name + ".wal")
    DBT_STABLE_DB.parent.mkdir(parents=True, exist_ok=True)
    with (DBT_STABLE_DB.parent / ".lock").open("a") as lock:
        # The name is shared by every build of this checkout (builds into other warehouse
        # directories, e.g. tests, included): only one may use it at a time; the others use
        # their own file's path and parse in full.
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield build_db
            return
        for leftover in (DBT_STABLE_DB, wal):  # of a killed build; a name only, the data is elsewhere
            leftover.unlink(missing_ok=True)
        try:
            os.link(build_db, DBT_STABLE_DB)
        except OSError:
            yield build_db
            return
        try:
            yield DBT_STABLE_DB
        finally:
            if wal.exists():  # dbt did not close cleanly: replay its log into the shared file first
                with contextlib.suppress(Exception), duckdb.connect(str(DBT_STABLE_DB)) as con:
                    con.execute("checkpoint")
            for name in (DBT_STABLE_DB, wal):
                name.unlink(missing_ok=True)
