"""What `kzkr build` prints at the end, and `kzkr report`."""

from __future__ import annotations

import duckdb

from pipelines.audit.claims import claims_counts, claims_summary_line, print_claims
from pipelines.settings import Settings
from pipelines.transform.project import MART_SCHEMAS


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
        known = _known_discrepancies(con)
        claims = claims_counts(con)
    print()
    print(f"published build {build_id[0] if build_id else '?'} (run {run_id[:8]}) in {seconds:.1f} s")
    width = max(len(n) for n, _ in counts) if counts else 10
    for name, n in counts:
        print(f"  {name:<{width}}  {n:>7} rows")
    print(f"checks: {checks['passed']} passed, {checks['warned']} warned, {checks['failed']} failed")
    if known:
        print(f"warnings are the paper's own registered discrepancies ({len(known)}):")
        for line in known:
            print(f"  {line}")
        print("  (details: kzkr report, or the table quality.paper_discrepancies)")
    if claims:
        print(claims_summary_line(claims))
    print(f"warehouse: {settings.published}")


def _known_discrepancies(con: duckdb.DuckDBPyConnection) -> list[str]:
    try:
        rows = con.execute(
            "select source_table, row_label, column_label, stated_value, computed_value "
            "from quality.paper_discrepancies where status = 'known' and rule <> 'text' order by all"
        ).fetchall()
    except duckdb.Error:
        return []
    return [f"{t}, {r}, {c}: printed {s:g}, computed {v:g}" for t, r, c, s, v in rows]


def print_report(settings: Settings) -> int:
    """`kzkr report`: checks, the paper's discrepancies and claim verdicts of the published build."""
    from pipelines.audit.quality.report import print_quality_report

    if not settings.published.exists():
        print(f"error: {settings.published} does not exist yet; run `make run` first")
        return 1
    code = print_quality_report(settings)
    with duckdb.connect(str(settings.published), read_only=True) as con:
        print()
        print_claims(con)
    return code
