"""What `kzkr build` prints at the end, and `kzkr report`."""

from __future__ import annotations

import duckdb

from pipelines.audit.claims import print_claims
from pipelines.audit.status import build_status
from pipelines.lib.text import cut
from pipelines.settings import Settings
from pipelines.transform.project import mart_schemas


def mart_row_counts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """Rows per table of the mart schemas (as the dbt manifest has them) and of ``quality``."""
    schemas = mart_schemas()
    tables = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        f"where table_schema in ({', '.join('?' for _ in schemas)}) "
        "or table_schema = 'quality' order by 1",
        list(schemas),
    ).fetchall()
    out = []
    for (name,) in tables:
        schema, table = name.split(".", 1)
        n = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
        out.append((name, int(n[0]) if n else 0))
    return out


def print_summary(settings: Settings, *, run_id: str, seconds: float) -> None:
    with duckdb.connect(str(settings.published), read_only=True) as con:
        build_id = con.execute("select build_id from meta.build_info").fetchone()
        counts = mart_row_counts(con)
        known = _known_discrepancies(con)
        others = _other_warnings(con)
        status = build_status(con)
    print()
    print(f"published build {build_id[0] if build_id else '?'} (run {run_id[:8]}) in {seconds:.1f} s")
    width = max(len(n) for n, _ in counts) if counts else 10
    for name, n in counts:
        print(f"  {name:<{width}}  {n:>7} rows")
    # The build's one status (pipelines/audit/status.py), the line the report and the UI show too.
    print(f"status: {status.line()}")
    if known:
        n_rules = len({rule for rule, _ in known})
        rules = f"{n_rules} rule" + ("s" if n_rules != 1 else "")
        print(f"warnings: the paper's own registered discrepancies ({len(known)}, in {rules}):")
        for _, line in known:
            print(f"  {line}")
        print("  (details: kzkr report, or the table quality.paper_discrepancies)")
    if others:
        print(f"warnings of warn-only rules, never blocking ({len(others)}):")
        for line in others:
            print(f"  {line}")
        print("  (details: kzkr report, or the table quality.check_results)")
    print(f"warehouse: {settings.published}")


def _known_discrepancies(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(rule, line) of each registered paper discrepancy the build found."""
    try:
        rows = con.execute(
            "select source_table, row_label, column_label, stated_value, computed_value, rule "
            "from quality.paper_discrepancies where status = 'known' and rule <> 'text' order by all"
        ).fetchall()
    except duckdb.Error:
        return []
    return [(rule, f"{t}, {r}, {c}: printed {s:g}, computed {v:g}") for t, r, c, s, v, rule in rows]


def _other_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warned checks that are not the paper's registered discrepancies (e.g. the registered
    source gaps of the trade sources), one line each: rule, asset, rows reported, what the rule is."""
    try:
        rows = con.execute(
            "select check_name, asset, n_failing_rows, rows_checked, coalesce(description, '') "
            "from quality.check_results "
            "where status = 'warned' and coalesce(n_known_discrepancies, 0) = 0 order by check_name"
        ).fetchall()
    except duckdb.Error:
        return []
    return [
        cut(f"{name} on {asset}: {n} of {of} rows reported. {what}", 150) for name, asset, n, of, what in rows
    ]


def print_report(settings: Settings) -> int:
    """`kzkr report`: checks, the paper's discrepancies and claim verdicts of the published build."""
    from pipelines.audit.quality.report import print_quality_report

    if not settings.published.exists():
        print(f"error: {settings.published} does not exist yet; run `make run` first")
        return 1
    with duckdb.connect(str(settings.published), read_only=True) as con:
        print(f"status: {build_status(con).line()}")
    code = print_quality_report(settings)
    with duckdb.connect(str(settings.published), read_only=True) as con:
        print()
        print_claims(con)
    return code
