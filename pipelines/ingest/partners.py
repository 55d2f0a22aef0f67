"""Every trade source's partner labels must map onto the conformed partner dimension
(``dbt_project/seeds/partner_names.csv`` for the bureau's Russian spellings,
``partner_wits_codes.csv`` for WITS codes). An unmapped label is bad input, named by file and
line (CSV) or JSON path (SDMX-JSON), so that it never silently drops out of a join."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from pipelines.ingest.specs import RawFile

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def bureau_spellings() -> dict[str, str]:
    """Russian label -> ISO 3166 alpha-3 ('' for aggregates)."""
    return {row["name_ru"]: row["iso3"] for row in _seed("partner_names.csv")}


def wits_codes() -> set[str]:
    return {row["wits_code"] for row in _seed("partner_wits_codes.csv")}


def unmapped_label(con: duckdb.DuckDBPyConnection, spec: RawFile, table: str) -> tuple[int, str, str] | None:
    """The first (line, column, message) whose partner label is not in the seeds, or None.
    ``table`` is the ingest's all-VARCHAR temp table with its ``_line`` column."""
    name_col, code_col = spec.partner_name_column, spec.partner_code_column
    if name_col is None:
        return None
    con.execute("create or replace temp table _known_partners (name varchar, iso3 varchar)")
    con.executemany("insert into _known_partners values (?, ?)", sorted(bureau_spellings().items()))
    row = con.execute(
        f'select _line, "{name_col}" from {table} '
        f'where "{name_col}" not in (select name from _known_partners) order by _line limit 1'
    ).fetchone()
    if row:
        return (
            int(row[0]),
            f'"{name_col}"',
            f"unknown partner name {row[1]!r}: add it to dbt_project/seeds/partner_names.csv "
            "(English name, ISO 3166 alpha-3 code, aggregate flag)",
        )
    if code_col is None:
        return None
    row = con.execute(
        f'select t._line, t."{code_col}", t."{name_col}", k.iso3 from {table} as t '
        f'join _known_partners as k on t."{name_col}" = k.name '
        f'where t."{code_col}" is distinct from k.iso3 order by t._line limit 1'
    ).fetchone()
    if row:
        return (
            int(row[0]),
            f'"{code_col}"',
            f"partner code {row[1]!r} disagrees with the partner dimension: {row[2]!r} is "
            f"{row[3] or 'an aggregate (no ISO code)'!r} in dbt_project/seeds/partner_names.csv",
        )
    return None
