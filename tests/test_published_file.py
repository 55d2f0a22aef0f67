"""The published file as other tools see it: an older DuckDB opens it, its tables and columns carry
their dbt descriptions as comments, the glossary is in it, and every table is also a Parquet file of
the same build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
from conftest import REPO, BuiltWarehouse

# Installed by `make env` (Makefile: OLDEST_DUCKDB_CLI): the oldest DuckDB the README promises.
OLDEST_CLI = Path(sys.executable).parents[1] / "duckdb-1.4" / "bin" / "duckdb"
UNPUBLISHED = ("raw", "staging", "intermediate")
MANIFEST = REPO / "dbt_project" / "target" / "manifest.json"


def _published_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name not in "
        f"({', '.join(repr(s) for s in UNPUBLISHED)}) order by all"
    ).fetchall()
    return [(str(s), str(t)) for s, t in rows]


def _oldest(db: Path, sql: str) -> list[dict[str, object]]:
    proc = subprocess.run(
        [str(OLDEST_CLI), "-readonly", "-json", str(db), "-c", sql],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout or "[]")


def test_duckdb_1_4_opens_the_published_file(built_warehouse: BuiltWarehouse) -> None:
    version = subprocess.run([str(OLDEST_CLI), "-version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1.4."), version.stdout
    db = built_warehouse.published
    with duckdb.connect(str(db), read_only=True) as con:
        expected = con.execute(
            "select year, turnover_kusd::varchar as t from trade.kazakhstan_korea_trade order by year"
        ).fetchall()
        tables = _published_tables(con)
    rows = _oldest(
        db, "select year, turnover_kusd::varchar as t from trade.kazakhstan_korea_trade order by year"
    )
    assert [(r["year"], r["t"]) for r in rows] == expected
    counts = _oldest(
        db,
        "select count(*) as n from duckdb_tables() where schema_name not in ('raw', 'staging', 'intermediate')",
    )
    assert counts == [{"n": len(tables)}]


def _manifest_descriptions() -> dict[tuple[str, str], tuple[str, dict[str, str]]]:
    manifest = json.loads(MANIFEST.read_text())
    out: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    for node in [*manifest["nodes"].values(), *manifest["sources"].values()]:
        if node["resource_type"] not in ("model", "seed", "source"):
            continue
        name = node["identifier"] if node["resource_type"] == "source" else node["alias"]
        cols = {c["name"]: " ".join(c["description"].split()) for c in node["columns"].values()}
        out[(node["schema"], name)] = (" ".join(node["description"].split()), cols)
    return out


def test_every_published_table_and_column_carries_its_dbt_description(
    built_warehouse: BuiltWarehouse,
) -> None:
    docs = _manifest_descriptions()
    with duckdb.connect(str(built_warehouse.published), read_only=True) as con:
        tables = _published_tables(con)
        table_comments = dict(
            ((s, t), c)
            for s, t, c in con.execute(
                "select schema_name, table_name, comment from duckdb_tables()"
            ).fetchall()
        )
        columns = con.execute(
            "select schema_name, table_name, column_name, comment from duckdb_columns() order by all"
        ).fetchall()
    assert ("trade", "kazakhstan_korea_trade") in tables and ("meta", "glossary") in tables
    undocumented = [t for t in tables if t not in docs]
    assert not undocumented, f"published tables without a dbt description: {undocumented}"
    missing = []
    for schema, table, column, comment in columns:
        if (schema, table) not in tables:
            continue
        want = docs[(schema, table)][1].get(column, "")
        if not want or " ".join((comment or "").split()) != want:
            missing.append(f"{schema}.{table}.{column}: comment {comment!r}, dbt {want!r}")
    assert not missing, "columns whose comment is not their dbt description:\n" + "\n".join(missing)
    for key in tables:  # a table's comment: its dbt description (or the one its writer sets, never none)
        assert docs[key][0] and (table_comments[key] or "").strip(), key


def test_describe_with_comments_in_the_oldest_duckdb(built_warehouse: BuiltWarehouse) -> None:
    """DuckDB's `describe` has no comment column; meta.columns is `describe` with the descriptions."""
    rows = _oldest(
        built_warehouse.published,
        "select column_name, description from meta.columns where schema_name = 'trade' "
        "and table_name = 'kazakhstan_korea_trade'",
    )
    docs = _manifest_descriptions()[("trade", "kazakhstan_korea_trade")][1]
    assert {r["column_name"] for r in rows} >= {"year", "turnover_kusd", "source_ref"}
    assert {r["column_name"]: " ".join(str(r["description"]).split()) for r in rows} == {
        r["column_name"]: docs[str(r["column_name"])] for r in rows
    }


def test_glossary_explains_the_papers_terms(built_warehouse: BuiltWarehouse) -> None:
    with duckdb.connect(str(built_warehouse.published), read_only=True) as con:
        glossary = dict(con.execute("select term, meaning from meta.glossary").fetchall())
        used_in = con.execute("select used_in from meta.glossary").fetchall()
        tables = {f"{s}.{t}" for s, t in _published_tables(con)}
    for term in ("H University", "K University", "F-4", "H-2", "koryo-saram", "release", "vintage"):
        assert len(glossary.get(term) or "") > 40, term
    for (names,) in used_in:  # every table a term points to exists
        assert {n.strip() for n in names.split(";")} <= tables, names


def test_every_published_table_is_a_parquet_file_of_the_same_build(built_warehouse: BuiltWarehouse) -> None:
    current = built_warehouse.warehouse_dir / "parquet" / "current"
    assert current.is_symlink()
    assert current.resolve().name == built_warehouse.build_id
    manifest = json.loads((current / "_build.json").read_text())
    assert manifest["build_id"] == built_warehouse.build_id
    with duckdb.connect(str(built_warehouse.published), read_only=True) as con:
        tables = _published_tables(con)
        assert sorted(manifest["tables"]) == sorted(f"{s}.{t}" for s, t in tables)
        for schema, table in tables:
            path = current / schema / f"{table}.parquet"
            in_db = con.execute(
                f'select count(*), hash(list(t order by all)) from "{schema}"."{table}" t'
            ).fetchone()
            in_file = con.execute(
                f"select count(*), hash(list(t order by all)) from read_parquet('{path}') t"
            ).fetchone()
            assert in_file == in_db, f"{schema}.{table}"
            assert manifest["tables"][f"{schema}.{table}"] == in_db[0]
            kv = con.execute(
                f"select decode(value) from parquet_kv_metadata('{path}') where decode(key) = 'build_id'"
            ).fetchall()
            assert kv == [(built_warehouse.build_id,)], path
    hidden = [p.name for p in (current.parent).iterdir() if p.name.startswith(".")]
    assert not hidden, f"leftover partial sets: {hidden}"


def test_the_dbt_docs_site_opens_on_this_warehouses_overview(built_warehouse: BuiltWarehouse) -> None:
    """dbt's docs site shows the project's `__overview__` doc block as its home page instead of dbt's
    generic welcome text; the manifest the site reads must carry ours."""
    docs = json.loads(MANIFEST.read_text())["docs"]
    overview = docs.get("doc.kzkr.__overview__")
    assert overview is not None, sorted(k for k in docs if "overview" in k)
    text = overview["block_contents"]
    assert "kzkr-warehouse" in text and "meta.glossary" in text and "make sql" in text
