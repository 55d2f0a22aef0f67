"""``quality.claims`` and the text contradictions in ``quality.paper_discrepancies`` (rule ``text``)."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from pipelines.audit.claims.evaluation import ClaimResult
from pipelines.audit.claims.registry import TextDiscrepancy

TEXT_RULE = "text"

CLAIMS_DDL = """
create or replace table quality.claims (
    claim_id varchar primary key,
    section varchar not null,
    quote varchar not null,
    evidence varchar,
    computed varchar,
    verdict varchar not null check (verdict in ('supported', 'contradicted', 'not_checkable')),
    coverage varchar not null check (coverage in ('full', 'partial', 'proxy', 'none')),
    checkable_part varchar not null,
    flip_at double,
    tolerance double,
    tolerance_unit varchar,
    sensitive boolean not null,
    rule varchar not null,
    reason varchar,
    stated varchar,
    cites varchar[],
    asset varchar,
    evidence_failed boolean not null,
    check (coverage <> 'proxy' or verdict = 'not_checkable'),
    check (coverage <> 'none' or verdict = 'not_checkable')
)
"""

CLAIMS_COMMENT = (
    "Each quantitative sentence of the paper's prose (expectations/claims.yml) with its verdict against the "
    "warehouse (supported, contradicted, not_checkable), the coverage of its evidence (full, partial, proxy, "
    "none), the part the warehouse can check, and the tolerance at which the verdict would flip (flip_at, in "
    "tolerance_unit; sensitive = flips within a factor 1.5 of the tolerance)."
)


def _row(r: ClaimResult) -> list[object]:
    f = r.flip
    return [
        r.claim_id,
        r.section,
        r.quote,
        r.evidence,
        r.computed,
        r.verdict,
        r.coverage,
        r.checkable_part,
        f.flip_at if f else None,
        f.tolerance if f else None,
        f.unit if f else None,
        r.sensitive,
        r.rule,
        r.reason,
        r.stated,
        list(r.cites),
        r.asset,
        r.error,
    ]


def write_claims_table(con: duckdb.DuckDBPyConnection, results: Sequence[ClaimResult]) -> int:
    """(Re)create ``quality.claims`` with one row per claim. Returns the number of rows."""
    con.execute("create schema if not exists quality")
    con.execute(CLAIMS_DDL)
    rows = [_row(r) for r in results]
    if rows:
        con.executemany(f"insert into quality.claims values ({', '.join('?' * len(rows[0]))})", rows)
    con.execute(f"comment on table quality.claims is '{CLAIMS_COMMENT.replace(chr(39), chr(39) * 2)}'")
    return len(results)


def write_text_discrepancies(
    con: duckdb.DuckDBPyConnection, entries: Sequence[TextDiscrepancy], run_id: str | None = None
) -> int:
    """Replace the ``rule = 'text'`` rows of ``quality.paper_discrepancies`` (the arithmetic ones stay).

    ``source_table`` is the table or section, ``row_label`` and ``column_label`` the two passages."""
    from pipelines.audit.quality.gate import DISCREPANCIES_DDL

    con.execute("create schema if not exists quality")
    con.execute(DISCREPANCIES_DDL.replace("create or replace table", "create table if not exists"))
    con.execute("delete from quality.paper_discrepancies where rule = ?", [TEXT_RULE])
    rows = [
        (
            e.where,
            e.passage_a,
            e.passage_b,
            None,
            None,
            TEXT_RULE,
            "known",
            None,
            e.note,
            f"paper text ({e.id})",
            run_id,
        )
        for e in entries
    ]
    if rows:
        con.executemany(f"insert into quality.paper_discrepancies values ({', '.join('?' * 11)})", rows)
    return len(rows)
