"""Meanings inside the database: dbt descriptions as DuckDB comments on every published table and column.

dbt writes the comments of its own models and seeds (``+persist_docs`` in ``dbt_project.yml``). The
tables the pipeline writes in Python (``quality.*``, ``meta.build_info``) are documented in dbt too, as
sources (``dbt_project/models/pipeline_tables.yml``), so that the docs site shows them; dbt never
creates them, so :func:`apply_comments` (run when a build is stamped, just before publishing) copies
those descriptions, and any a model lacks, from the manifest into the build file with ``COMMENT ON``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from pipelines.settings import DBT_PROJECT_DIR

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def _literal(text: str) -> str:
    return "'" + " ".join(text.split()).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def documented_relations(manifest: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, str]]]:
    """(schema, name, description, {column: description}) of every model, seed and source."""
    nodes = [*manifest.get("nodes", {}).values(), *manifest.get("sources", {}).values()]
    for node in nodes:
        if node.get("resource_type") not in ("model", "seed", "source"):
            continue
        name = node.get("identifier") if node["resource_type"] == "source" else node.get("alias")
        columns = {
            str(c.get("name")): str(c.get("description") or "") for c in (node.get("columns") or {}).values()
        }
        yield str(node["schema"]), str(name or node["name"]), str(node.get("description") or ""), columns


def _existing(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple[str, str | None]]:
    rows = con.execute(
        "select schema_name, table_name, 'TABLE', comment from duckdb_tables() "
        "where database_name = current_database() "
        "union all select schema_name, view_name, 'VIEW', comment from duckdb_views() "
        "where database_name = current_database() and not internal"
    ).fetchall()
    return {(str(s), str(n)): (str(kind), c) for s, n, kind, c in rows}


def _column_comments(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str | None]:
    rows = con.execute(
        "select column_name, comment from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {str(n): c for n, c in rows}


# DuckDB's `describe` shows no comments (1.4 to 2.0): this view shows them next to the columns.
COLUMNS_VIEW = """
create or replace view meta.columns as
select schema_name, table_name, column_name, data_type, comment as description, database_name
from duckdb_columns()
where schema_name not in ('raw', 'staging', 'intermediate', 'information_schema', 'pg_catalog')
  and not internal
order by database_name, schema_name, table_name, column_index
"""
COLUMNS_VIEW_COMMENT = (
    "Every published column with its description (the dbt docs), as `describe` would show it if it "
    "showed comments: from meta.columns where table_name = 'kazakhstan_korea_trade'."
)


def create_columns_view(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists meta")
    con.execute(COLUMNS_VIEW)
    con.execute(f"comment on view meta.columns is {_literal(COLUMNS_VIEW_COMMENT)}")


def apply_comments(con: duckdb.DuckDBPyConnection, manifest_path: Path = MANIFEST) -> int:
    """Comment every documented relation and column of ``con``'s database that has no comment yet.
    Returns the number of comments written."""
    manifest = json.loads(manifest_path.read_text())
    existing = _existing(con)
    written = 0
    for schema, name, description, columns in documented_relations(manifest):
        if (schema, name) not in existing:
            continue
        kind, comment = existing[(schema, name)]
        target = f"{_ident(schema)}.{_ident(name)}"
        if description.strip() and not comment:
            con.execute(f"comment on {kind} {target} is {_literal(description)}")
            written += 1
        for column, current in _column_comments(con, schema, name).items():
            text = columns.get(column, "")
            if text.strip() and not current:
                con.execute(f"comment on column {target}.{_ident(column)} is {_literal(text)}")
                written += 1
    return written
