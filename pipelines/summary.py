"""What `kzkr build` prints at the end, and `kzkr report`."""

from __future__ import annotations

import duckdb

from pipelines.dbt import MART_SCHEMAS
from pipelines.settings import Settings


def mart_row_counts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    tables = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        f"where table_schema in ({', '.join('?' for _ in MART_SCHEMAS)}) "
        "or table_schema = 'quality' order by 1",
        list(MART_SCHEMAS),
    ).fetchall()
    out = []
    for (name,) in tables:
        schema, table = name.split(".", 1)
        n = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
        out.append((name, int(n[0]) if n else 0))
    return out


def print_summary(settings: Settings, *, run_id: str, checks: dict[str, int], seconds: float) -> None:
    with duckdb.connect(str(settings.published), read_only=True) as con:
        build_id = con.execute("select build_id from meta.build_info").fetchone()
        counts = mart_row_counts(con)
    print()
    print(f"published build {build_id[0] if build_id else '?'} (run {run_id[:8]}) in {seconds:.1f} s")
    width = max(len(n) for n, _ in counts) if counts else 10
    for name, n in counts:
        print(f"  {name:<{width}}  {n:>7} rows")
    print(f"checks: {checks['passed']} passed, {checks['warned']} warned, {checks['failed']} failed")
    print(f"warehouse: {settings.published}")


def print_report(settings: Settings) -> int:
    if not settings.published.exists():
        print(f"error: {settings.published} does not exist yet; run `make run` first")
        return 1
    with duckdb.connect(str(settings.published), read_only=True) as con:
        for name, n in mart_row_counts(con):
            print(f"{name:<50} {n:>7} rows")
    return 0
