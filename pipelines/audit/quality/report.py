"""The data-quality report: Markdown and HTML files for a build, and the terminal report (`kzkr report`).

The files are written by the quality gate into ``<warehouse>/reports/`` as
``quality-<run_id>.md`` / ``.html`` and copied to ``latest.md`` / ``latest.html`` (the latest build's
checks, published or blocked). :func:`print_quality_report` reads the *published* warehouse file,
read-only, so it shows what analysts are querying.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb

from pipelines.audit.quality.gate import (
    FAILED,
    KNOWN,
    NOT_FOUND,
    PASSED,
    UNREGISTERED,
    WARNED,
    GateOutcome,
)
from pipelines.audit.quality.render import (
    STATUS_WORD,
    esc,
    num,
    render_html,
    render_markdown,
    row_cells,
)
from pipelines.lib.text import cut
from pipelines.settings import Settings

REPORTS_KEPT = 20


@dataclass(frozen=True)
class ReportPaths:
    markdown: Path
    html: Path
    latest_markdown: Path
    latest_html: Path


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_reports(
    reports_dir: Path, outcome: GateOutcome, *, keep: int = REPORTS_KEPT, figures: Sequence[Any] = ()
) -> ReportPaths:
    """Write ``quality-<run_id>.md/.html`` and ``latest.md/.html``; keep the newest ``keep`` reports.

    ``figures`` (pipelines.audit.figures.Figure) are embedded, with paths relative to ``reports_dir``."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    md, htm = render_markdown(outcome), render_html(outcome)
    if figures:
        md += "\n" + _figures_markdown(figures, reports_dir)
        htm = htm.replace("</body></html>", _figures_html(figures, reports_dir) + "</body></html>")
    paths = ReportPaths(
        markdown=reports_dir / f"quality-{outcome.run_id}.md",
        html=reports_dir / f"quality-{outcome.run_id}.html",
        latest_markdown=reports_dir / "latest.md",
        latest_html=reports_dir / "latest.html",
    )
    _write_atomic(paths.markdown, md)
    _write_atomic(paths.html, htm)
    _write_atomic(paths.latest_markdown, md)
    _write_atomic(paths.latest_html, htm)
    old = sorted(reports_dir.glob("quality-*.md"), key=lambda p: p.stat().st_mtime, reverse=True)[keep:]
    for p in old:
        p.unlink(missing_ok=True)
        p.with_suffix(".html").unlink(missing_ok=True)
    return paths


def _figures_markdown(figures: Sequence[Any], reports_dir: Path) -> str:
    from pipelines.audit.figures import figures_markdown

    return figures_markdown(figures, relative_to=reports_dir) + "\n"


def _figures_html(figures: Sequence[Any], reports_dir: Path) -> str:
    parts = ["<h2>Figures</h2>"]
    for f in figures:
        if f.path is None:
            parts.append(f"<p><strong>{esc(f.name)}</strong> — {esc(f.caption)}</p>")
            continue
        src = Path(os.path.relpath(f.path, reports_dir)).as_posix()
        parts.append(
            f"<figure><img src='{esc(src)}' alt='{esc(f.name)}' style='max-width:100%'>"
            f"<figcaption>{esc(f.caption)}</figcaption></figure>"
        )
    return "".join(parts)


# ------------------------------------------------------------------------------------------- terminal


def quality_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int] | None:
    """Checks passed / warned / failed recorded in a warehouse file, or None if it has none."""
    try:
        rows = con.execute("select status, count(*) from quality.check_results group by status").fetchall()
    except duckdb.Error:
        return None
    counts = {PASSED: 0, WARNED: 0, FAILED: 0}
    for status, n in rows:
        counts[str(status)] = int(n)
    return counts


def _query_report(con: duckdb.DuckDBPyConnection) -> tuple[Any, list[Any], list[Any]]:
    """(build_info row or None, check rows, discrepancy rows) of a warehouse file with quality results."""
    try:
        build = con.execute("select build_id, run_id from meta.build_info limit 1").fetchone()
    except duckdb.Error:
        build = None
    checks = con.execute(
        "select status, check_name, asset, paper_table, summary, expected, failing_rows "
        "from quality.check_results "
        "order by case status when 'failed' then 0 when 'warned' then 1 else 2 end, asset, check_name"
    ).fetchall()
    discrepancies = con.execute(
        "select status, source_table, row_label, column_label, stated_value, computed_value, difference, "
        "rule, note from quality.paper_discrepancies where rule <> 'text' "
        "order by case status when 'unregistered' then 0 when 'known' then 1 else 2 end, "
        "source_table, rule, row_label, column_label"
    ).fetchall()
    return build, checks, discrepancies


def _print_checks(checks: list[Any], out: IO[str], width: int) -> None:
    name_w = max([len("CHECK"), *(len(c[1]) for c in checks)])
    asset_w = max([len("ASSET"), *(len(c[2]) for c in checks)])
    obs_w = max(width - name_w - asset_w - 10, 30)
    print(f"{'STATUS':<6}  {'CHECK':<{name_w}}  {'ASSET':<{asset_w}}  OBSERVED", file=out)
    for status, name, asset, _table, summary, _expected, failing in checks:
        print(
            f"{STATUS_WORD.get(status, status):<6}  {name:<{name_w}}  {asset:<{asset_w}}  "
            f"{cut(summary, obs_w, one_line=True)}",
            file=out,
        )
        if status == FAILED and failing:
            for row in json.loads(failing)[:10]:
                cells = row_cells(row)
                line = cut(" | ".join(c for c in cells if c), width - 10, one_line=True)
                print(f"{'':<8}- {line}", file=out)


def _print_discrepancies(discrepancies: list[Any], out: IO[str]) -> None:
    n = {s: sum(d[0] == s for d in discrepancies) for s in (KNOWN, UNREGISTERED, NOT_FOUND)}
    print(
        f"paper discrepancies: {len(discrepancies)} ({n[KNOWN]} known, {n[UNREGISTERED]} unregistered, "
        f"{n[NOT_FOUND]} registered but no longer found)",
        file=out,
    )
    if not discrepancies:
        return
    row_w = max(len("ROW"), *(len(str(d[2])) for d in discrepancies))
    col_w = min(max(len("COLUMN"), *(len(str(d[3])) for d in discrepancies)), 48)
    tab_w = min(max(len("TABLE"), *(len(str(d[1])) for d in discrepancies)), 24)
    print(
        f"{'STATUS':<12}  {'TABLE':<{tab_w}}  {'ROW':<{row_w}}  {'COLUMN':<{col_w}}  "
        f"{'STATED':>12}  {'COMPUTED':>12}  {'DIFF':>10}",
        file=out,
    )
    for status, table, row, column, stated, computed, diff, _rule, _note in discrepancies:
        print(
            f"{status:<12}  {cut(table, tab_w, one_line=True):<{tab_w}}  {row:<{row_w}}  "
            f"{cut(column, col_w, one_line=True):<{col_w}}  "
            f"{num(stated):>12}  {num(computed):>12}  {num(diff):>10}",
            file=out,
        )


def print_quality_report(settings: Settings, *, out: IO[str] | None = None, width: int | None = None) -> int:
    """Print the checks and paper discrepancies of the published warehouse. Returns an exit code."""
    out = out or sys.stdout
    width = width or max(100, min(shutil.get_terminal_size((140, 40)).columns, 200))
    path = settings.published
    if not path.exists():
        print(f"error: {path} does not exist yet; run `make run` first", file=out)
        return 1
    with duckdb.connect(str(path), read_only=True) as con:
        counts = quality_counts(con)
        if counts is None:
            print(
                f"{path} has no quality results (quality.check_results); rebuild with `kzkr build`.", file=out
            )
            return 1
        build, checks, discrepancies = _query_report(con)
    ident = f" (build {build[0]}, run {str(build[1])[:8]})" if build else ""
    print(f"Data-quality report of {path}{ident}", file=out)
    print(
        f"GX rules: {counts[PASSED]} passed, {counts[WARNED]} warned, {counts[FAILED]} failed "
        f"(the {sum(counts.values())} Great Expectations rules below; dbt tests and claims: the status line)",
        file=out,
    )
    print(file=out)
    _print_checks(checks, out, width)
    print(file=out)
    _print_discrepancies(discrepancies, out)
    latest = settings.reports_dir / "latest.html"
    if latest.exists():
        print(file=out)
        print(f"full report of the latest build: {latest} (and latest.md)", file=out)
    return 0
