"""A warehouse file every DuckDB tool opens, and a Parquet copy of every published table.

The ``duckdb`` Python package (2.x) writes its own storage format by default, which DuckDB 1.x (the
CLI package, BI tools bundling a 1.x driver) refuses to open. Build files are therefore created with
``storage_compatibility_version = 'v1.4.0'`` (:data:`CONNECT_CONFIG`, used by the ingest's
connections); a file keeps the version it was created with, whoever writes to it later (dbt, the
quality gate, the stamp). Before publishing, :func:`ensure_storage_version` verifies that and, if a
build file was created otherwise, rewrites it into a file attached with ``STORAGE_VERSION`` (the same
data, comments and views), so what is published always opens in DuckDB 1.4 and later.

:func:`export_parquet` writes every published table as ``<warehouse>/parquet/builds/<build id>/
<schema>/<table>.parquet`` (plus ``_build.json``) into a hidden directory first, renames it into
place when complete and then points the symlink ``<warehouse>/parquet/current`` at it with one
atomic rename: a reader of ``parquet/current`` sees one build's complete set, never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb

STORAGE_VERSION = "v1.4.0"
CONNECT_CONFIG = {"storage_compatibility_version": STORAGE_VERSION}
# Schemas of the build file that are not published as tables: the ingest's raw tables and dbt's views.
UNPUBLISHED_SCHEMAS = ("raw", "staging", "intermediate", "information_schema", "pg_catalog")
PARQUET_KEEP = 5


def storage_version(con: duckdb.DuckDBPyConnection) -> str:
    """The storage version of the connection's default database, e.g. ``v1.4.0+``."""
    row = con.execute(
        "select tags['storage_version'] from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return str(row[0]) if row and row[0] else ""


def _is_pinned(version: str) -> bool:
    return version.removesuffix("+") == STORAGE_VERSION


def ensure_storage_version(build_db: Path) -> bool:
    """Make ``build_db`` readable by DuckDB 1.4+. Returns True if it had to be rewritten."""
    with duckdb.connect(str(build_db), read_only=True) as con:
        if _is_pinned(storage_version(con)):
            return False
    compat = build_db.with_name(build_db.name + ".compat")
    compat.unlink(missing_ok=True)
    with duckdb.connect() as con:
        con.execute(f"attach '{_sql_str(build_db)}' as src (read_only)")
        con.execute(f"attach '{_sql_str(compat)}' as dst (storage_version '{STORAGE_VERSION}')")
        con.execute("copy from database src to dst")
        con.execute("detach dst")
    os.replace(compat, build_db)
    return True


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


def published_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, table) of every published base table of the connection's database."""
    marks = ", ".join("?" for _ in UNPUBLISHED_SCHEMAS)
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        f"where database_name = current_database() and not internal and schema_name not in ({marks}) "
        "order by 1, 2",
        list(UNPUBLISHED_SCHEMAS),
    ).fetchall()
    return [(str(s), str(t)) for s, t in rows]


def parquet_root(warehouse_dir: Path) -> Path:
    return warehouse_dir / "parquet"


def write_parquet(db: Path, warehouse_dir: Path, build_id: str) -> Path:
    """Write the Parquet set of ``db`` (build ``build_id``) into ``parquet/builds/<build_id>/``: into a
    hidden directory first, renamed into place when complete. Returns the set's directory."""
    builds = parquet_root(warehouse_dir) / "builds"
    final = builds / build_id
    if final.is_dir():
        return final
    tmp = builds / f".{build_id}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tables: dict[str, int] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for schema, table in published_tables(con):
            (tmp / schema).mkdir(exist_ok=True)
            out = tmp / schema / f"{table}.parquet"
            con.execute(
                f'copy "{schema}"."{table}" to \'{_sql_str(out)}\' '
                f"(format parquet, kv_metadata {{build_id: '{build_id}'}})"
            )
            row = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
            tables[f"{schema}.{table}"] = int(row[0]) if row else 0
    (tmp / "_build.json").write_text(json.dumps({"build_id": build_id, "tables": tables}, indent=2) + "\n")
    os.replace(tmp, final)
    return final


def point_current(warehouse_dir: Path, parquet_set: Path) -> Path:
    """Make ``parquet/current`` the given set (one atomic rename of a symlink); prune old sets."""
    root = parquet_root(warehouse_dir)
    _point_current(root, parquet_set)
    _prune(root / "builds", keep=parquet_set)
    return root / "current"


def export_parquet(db: Path, warehouse_dir: Path, build_id: str) -> Path:
    """:func:`write_parquet` then :func:`point_current`."""
    return point_current(warehouse_dir, write_parquet(db, warehouse_dir, build_id))


def _point_current(root: Path, target: Path) -> None:
    link = root / "current"
    tmp = root / f".current-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.relative_to(root))
    os.replace(tmp, link)


def _prune(builds: Path, keep: Path, n: int = PARQUET_KEEP) -> None:
    sets = sorted((p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)
    for old in [p for p in sets if p != keep][n - 1 :]:
        shutil.rmtree(old, ignore_errors=True)
    for partial in builds.glob(".*.partial"):
        if partial.name != f".{keep.name}.partial":
            shutil.rmtree(partial, ignore_errors=True)
