"""The quality gate's results in the build file: ``quality.check_results`` and
``quality.paper_discrepancies`` (re-exported by :mod:`pipelines.audit.quality.gate`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from pipelines.audit.quality.gate import GateOutcome

MAX_ROWS_KEPT = 50

CHECK_RESULTS_DDL = """
create or replace table quality.check_results (
    run_id varchar not null,
    check_name varchar not null,
    asset varchar not null,
    severity varchar,
    passed boolean not null,
    observed varchar,
    expected varchar,
    status varchar not null,
    suite varchar,
    batch varchar,
    paper_table varchar,
    description varchar,
    summary varchar,
    rows_checked bigint,
    n_failing_rows bigint,
    n_known_discrepancies bigint,
    failing_rows json,
    checked_at timestamptz
)
"""

DISCREPANCIES_DDL = """
create or replace table quality.paper_discrepancies (
    source_table varchar not null,
    row_label varchar not null,
    column_label varchar not null,
    stated_value double,
    computed_value double,
    rule varchar not null,
    status varchar not null,
    difference double,
    note varchar,
    source_ref varchar,
    run_id varchar
)
"""


def write_results(db_path: Path, outcome: GateOutcome) -> None:
    """Write ``quality.check_results`` and ``quality.paper_discrepancies`` into the build file."""
    check_rows = [
        (
            outcome.run_id,
            r.rule.id,
            r.rule.asset_path,
            r.severity,
            r.passed,
            r.observed,
            r.expected,
            r.status,
            r.rule.suite,
            r.rule.batch,
            r.rule.paper_table,
            r.rule.description,
            r.summary,
            r.rows_checked,
            sum(max(e.n_failing, len(e.failing_rows)) for e in r.expectations),
            r.n_known,
            json.dumps([row.as_dict() for row in r.failing_rows[:MAX_ROWS_KEPT]], ensure_ascii=False),
            outcome.checked_at,
        )
        for r in outcome.results
    ]
    disc_rows = [
        (
            d.source_table,
            d.row_label,
            d.column_label,
            d.stated_value,
            d.computed_value,
            d.rule,
            d.status,
            d.difference,
            d.note,
            d.source_ref,
            outcome.run_id,
        )
        for d in outcome.discrepancies
    ]
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema if not exists quality")
        con.execute(CHECK_RESULTS_DDL)
        if check_rows:
            con.executemany(f"insert into quality.check_results values ({', '.join('?' * 18)})", check_rows)
        con.execute(DISCREPANCIES_DDL)
        if disc_rows:
            con.executemany(
                f"insert into quality.paper_discrepancies values ({', '.join('?' * 11)})", disc_rows
            )
        con.execute("checkpoint")
