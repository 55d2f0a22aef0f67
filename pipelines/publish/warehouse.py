"""Write-audit-publish: build files, the atomic publish, history and rollback, the build lock.

A build writes only to ``<warehouse>/.builds/build-<run_id>.duckdb``. Publishing checkpoints
and closes that file, hard-links the currently published file into ``history/`` and then
``os.replace``-s the build file onto ``kzkr.duckdb``: one atomic rename. A reader that has the
old file open keeps reading the old inode; a new reader sees the new build. The published file is
never opened for writing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.lib.hashing import hash_tree
from pipelines.lib.pause import pause_point
from pipelines.publish.comments import apply_comments, create_columns_view
from pipelines.publish.compat import ensure_storage_version, export_parquet, point_current, write_parquet

# the lock lives in pipelines/publish/lock.py; its names stay importable from here
from pipelines.publish.lock import BuildLockedError, build_lock, clean_stale_builds  # noqa: F401
from pipelines.settings import DBT_PROJECT_DIR, EXPECTATIONS_DIR, HISTORY_KEEP, PROJECT_ROOT, Settings

FINGERPRINT_TAG = "kzkr/fingerprint"

CODE_GLOBS = (
    (PROJECT_ROOT / "pipelines", "**/*.py"),
    (DBT_PROJECT_DIR / "models", "**/*"),
    (DBT_PROJECT_DIR / "macros", "**/*"),
    (DBT_PROJECT_DIR / "seeds", "**/*"),
    (DBT_PROJECT_DIR / "tests", "**/*"),
    (DBT_PROJECT_DIR, "*.yml"),
    (EXPECTATIONS_DIR, "**/*"),
    (PROJECT_ROOT, "requirements.lock"),
)


def fingerprint(settings: Settings) -> str:
    """A hash of everything a build depends on: raw files and the project's code and config."""
    digest = hashlib.sha256()
    hash_tree(digest, settings.raw_dir, "**/*", "raw")  # release files sit in folders (raw/bureau/)
    for root, pattern in CODE_GLOBS:
        if root.exists():
            hash_tree(digest, root, pattern, str(root.relative_to(PROJECT_ROOT)))
    return digest.hexdigest()


def published_info(path: Path) -> dict[str, object] | None:
    """The ``meta.build_info`` row of a published file, or None if there is none."""
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute(
                "select build_id, run_id, built_at, fingerprint from meta.build_info limit 1"
            ).fetchone()
    except duckdb.Error:
        return None
    if row is None:
        return None
    return {"build_id": row[0], "run_id": row[1], "built_at": row[2], "fingerprint": row[3]}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class PublishResult:
    build_id: str
    published: Path
    archived: Path | None


def stamp_build(build_db: Path, *, run_id: str, fp: str, extra: dict[str, object] | None = None) -> str:
    """Write ``meta.build_info`` into the build file and checkpoint it. Returns the build id."""
    built_at = datetime.now(UTC)
    build_id = built_at.strftime("%Y%m%dT%H%M%SZ") + "-" + run_id[:8]
    with duckdb.connect(str(build_db)) as con:
        con.execute("create schema if not exists meta")
        con.execute(
            "create or replace table meta.build_info (build_id varchar, run_id varchar, "
            "built_at timestamptz, fingerprint varchar, details json)"
        )
        con.execute(
            "insert into meta.build_info values (?, ?, ?, ?, ?)",
            [build_id, run_id, built_at, fp, json.dumps(extra or {}, default=str)],
        )
        apply_comments(con)  # dbt descriptions on the tables dbt does not write (quality.*, meta.*)
        create_columns_view(con)
        con.execute("checkpoint")
    return build_id


def publish(settings: Settings, build_db: Path) -> PublishResult:
    """Atomically make ``build_db`` the published warehouse, archiving the previous one."""
    wal = build_db.with_name(build_db.name + ".wal")
    if wal.exists():
        raise RuntimeError(f"{build_db} still has a write-ahead log; it was not closed cleanly")
    ensure_storage_version(build_db)  # readable by DuckDB 1.4+, not only by this 2.x
    info = published_info(build_db)
    if info is None:
        raise RuntimeError(f"{build_db} has no meta.build_info: refusing to publish an unstamped build")
    parquet_set = write_parquet(build_db, settings.warehouse_dir, str(info["build_id"]))
    with build_db.open("rb") as fh:
        os.fsync(fh.fileno())
    settings.history_dir.mkdir(parents=True, exist_ok=True)
    archived: Path | None = None
    current = published_info(settings.published)
    if settings.published.exists():
        old_id = str(current["build_id"]) if current else f"unknown-{int(time.time())}"
        archived = settings.history_dir / f"kzkr-{old_id}.duckdb"
        if not archived.exists():
            try:
                os.link(settings.published, archived)
            except OSError:
                shutil.copy2(settings.published, archived)
    pause_point("publish")
    os.replace(build_db, settings.published)
    _fsync_dir(settings.warehouse_dir)
    point_current(settings.warehouse_dir, parquet_set)
    prune_history(settings)
    return PublishResult(str(info["build_id"]), settings.published, archived)


def history(settings: Settings) -> list[Path]:
    """Archived builds, newest first."""
    if not settings.history_dir.exists():
        return []
    return sorted(settings.history_dir.glob("kzkr-*.duckdb"), key=lambda p: p.name, reverse=True)


def prune_history(settings: Settings, keep: int = HISTORY_KEEP) -> None:
    for old in history(settings)[keep:]:
        old.unlink(missing_ok=True)


def rollback(settings: Settings, to: str | None = None) -> tuple[str, str | None]:
    """Publish an archived build again. Returns (restored build id, replaced build id)."""
    entries = history(settings)
    current = published_info(settings.published)
    current_id = str(current["build_id"]) if current else None
    candidates = [p for p in entries if current_id is None or current_id not in p.name]
    if to is not None:
        candidates = [p for p in candidates if to in p.name]
    if not candidates:
        raise FileNotFoundError(
            "no archived build to roll back to"
            + (f" matching {to!r}" if to else "")
            + f" in {settings.history_dir}"
        )
    chosen = candidates[0]
    staging = settings.warehouse_dir / f".rollback-{os.getpid()}.duckdb"
    shutil.copy2(chosen, staging)
    restored = published_info(staging)
    if restored is None:
        staging.unlink(missing_ok=True)
        raise RuntimeError(f"{chosen} is not a readable warehouse build")
    if settings.published.exists() and current_id is not None:
        keep = settings.history_dir / f"kzkr-{current_id}.duckdb"
        if not keep.exists():
            os.link(settings.published, keep)
    os.replace(staging, settings.published)
    _fsync_dir(settings.warehouse_dir)
    export_parquet(settings.published, settings.warehouse_dir, str(restored["build_id"]))
    return str(restored["build_id"]), current_id
