"""A release file that has not changed since the published build is copied from it, not read again.

A per-release table (the bureau's releases: one file each) is the warehouse's large input, and a new
release adds one file. Every build records, in its own file, which raw files it loaded: the table
``meta.raw_loads`` (table, file, sha256, rows, and the *ingest version*: a hash of the ingest's code,
the partner seeds it checks labels against and the locked packages). The next build reads the
published file's record, read-only: a release file whose bytes (sha256) and ingest version are the
same was validated by this very ingest and published, so its rows are copied from the published
table as they are; every other file is validated and loaded as usual. Its sidecar is checked either
way. Write-audit-publish is unchanged: rows are copied *into the run's build file*; the published
file is only ever read.

``kzkr build --full-refresh`` (the run tag :data:`FULL_REFRESH_TAG`) reads every file again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from pipelines.lib.hashing import hash_tree
from pipelines.settings import DBT_PROJECT_DIR, PROJECT_ROOT

FULL_REFRESH_TAG = "kzkr/full_refresh"
TABLE = "meta.raw_loads"
ALIAS = "_published"


@cache
def ingest_version() -> str:
    """What decides how a raw file is validated and loaded: a file loaded under another version is
    read again."""
    digest = hashlib.sha256()
    hash_tree(digest, PROJECT_ROOT / "pipelines" / "ingest", "**/*.py", "ingest")
    hash_tree(digest, PROJECT_ROOT / "pipelines" / "lib", "**/*.py", "lib")
    for seed in ("partner_names.csv", "partner_wits_codes.csv"):
        hash_tree(digest, DBT_PROJECT_DIR / "seeds", seed, "seeds")
    hash_tree(digest, PROJECT_ROOT, "requirements.lock", "")
    return digest.hexdigest()


@dataclass(frozen=True)
class PublishedLoad:
    sha256: str
    rows: int


def published_loads(con: duckdb.DuckDBPyConnection, published: Path, table: str) -> dict[str, PublishedLoad]:
    """The files of ``raw.<table>`` the published build loaded under this ingest version, by label;
    attaches the published file read-only as :data:`ALIAS` when it has any. Empty when there is no
    published build, or it has no record (older builds), or the record is of another version."""
    if not published.exists():
        return {}
    if not _attached(con):
        try:
            con.execute(f"attach ? as {ALIAS} (read_only)", [str(published)])
        except duckdb.Error:
            return {}  # unreadable: read every file (the build says nothing; the publish step replaces it)
    has = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and schema_name = 'meta' "
        "and table_name = 'raw_loads'",
        [ALIAS],
    ).fetchone()
    if not has or not has[0]:
        return {}
    rows = con.execute(
        f"select file, sha256, rows from {ALIAS}.{TABLE} where table_name = ? and ingest_version = ?",
        [table, ingest_version()],
    ).fetchall()
    return {file: PublishedLoad(sha, int(n)) for file, sha, n in rows}


def copy_published(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, labels: list[str], *, append: bool
) -> int:
    """The rows of the files ``labels`` (consecutive in the published table) from the published
    ``raw.<table>`` into ``<schema>.<table>`` of the build, in their published order (by file, then
    line: one scan); returns how many."""
    marks = ", ".join("?" for _ in labels)
    select = f"select * from {ALIAS}.raw.{table} where _source_file in ({marks})"
    con.execute(f"create schema if not exists {schema}")
    if append:
        res = con.execute(f"insert into {schema}.{table} {select}", labels).fetchone()
    else:
        res = con.execute(f"create or replace table {schema}.{table} as {select}", labels).fetchone()
    return int(res[0]) if res else 0


def record_loads(con: duckdb.DuckDBPyConnection, table: str, loads: list[tuple[str, str, int, bool]]) -> None:
    """Replace ``table``'s rows of :data:`TABLE` in the build with ``(file, sha256, rows, copied)`` of
    each file."""
    con.execute("create schema if not exists meta")
    con.execute(
        f"create table if not exists {TABLE} (table_name varchar not null, file varchar not null, "
        "sha256 varchar not null, rows bigint not null, copied boolean not null, "
        "ingest_version varchar not null)"
    )
    con.execute(f"delete from {TABLE} where table_name = ?", [table])
    con.executemany(
        f"insert into {TABLE} values (?, ?, ?, ?, ?, ?)",
        [(table, file, sha, rows, copied, ingest_version()) for file, sha, rows, copied in loads],
    )


def _attached(con: duckdb.DuckDBPyConnection) -> bool:
    return ALIAS in {r[0] for r in con.execute("select database_name from duckdb_databases()").fetchall()}


def detach(con: duckdb.DuckDBPyConnection) -> None:
    if _attached(con):
        con.execute(f"detach {ALIAS}")
