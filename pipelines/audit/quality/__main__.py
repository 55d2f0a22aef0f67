"""Run the quality gate by hand on any warehouse or build file (read-only), e.g. while editing a suite:

    python -m pipelines.audit.quality warehouse/kzkr.duckdb [--batch t3_sex_sums] [--markdown report.md]

Prints one line per check and the paper discrepancies; exit status 1 if a check fails with ERROR.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.audit.quality.gate import FAILED, run_gate
from pipelines.audit.quality.report import STATUS_WORD, render_markdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.audit.quality", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("db", type=Path, help="a DuckDB file with the mart tables")
    parser.add_argument("--batch", action="append", help="only the rules of this batch (repeatable)")
    parser.add_argument("--markdown", type=Path, help="also write the Markdown report here")
    args = parser.parse_args(argv)
    if not args.db.exists():
        parser.error(f"{args.db} does not exist")
    outcome = run_gate(args.db, run_id="manual", batches=set(args.batch) if args.batch else None)
    for r in outcome.results:
        print(f"{STATUS_WORD[r.status]:<5} {r.rule.id:<45} {r.summary}")
    for d in outcome.discrepancies:
        print(
            f"{d.status:<12} {d.source_table} | {d.row_label} | {d.column_label}: "
            f"stated {d.stated_value:g}, computed {d.computed_value:g}"
            if d.stated_value is not None and d.computed_value is not None
            else f"{d.status:<12} {d.source_table} | {d.row_label} | {d.column_label}"
        )
    c = outcome.counts
    print(f"checks: {c['passed']} passed, {c['warned']} warned, {c['failed']} failed")
    if args.markdown:
        args.markdown.write_text(render_markdown(outcome), encoding="utf-8")
    return 1 if outcome.count(FAILED) else 0


if __name__ == "__main__":
    raise SystemExit(main())
