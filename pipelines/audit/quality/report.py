"""The data-quality report: Markdown and HTML files for a build, and the terminal report (`kzkr report`).

The files are written by the quality gate into ``<warehouse>/reports/`` as
``quality-<run_id>.md`` / ``.html`` and copied to ``latest.md`` / ``latest.html`` (the latest build's
checks, published or blocked). :func:`print_quality_report` reads the *published* warehouse file,
read-only, so it shows what analysts are querying.
"""

from __future__ import annotations

import html
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
    RuleOutcome,
)
from pipelines.lib.markdown import md_cell
from pipelines.lib.numbers import fmt_number
from pipelines.settings import Settings

REPORTS_KEPT = 20
STATUS_WORD = {PASSED: "PASS", WARNED: "WARN", FAILED: "FAIL"}
STATUS_ORDER = {FAILED: 0, WARNED: 1, PASSED: 2}


@dataclass(frozen=True)
class ReportPaths:
    markdown: Path
    html: Path
    latest_markdown: Path
    latest_html: Path


def _num(v: Any) -> str:
    return fmt_number(v, none="")


def _sorted(results: Sequence[RuleOutcome]) -> list[RuleOutcome]:
    return sorted(results, key=lambda r: (STATUS_ORDER[r.status], r.rule.asset_path, r.rule.id))


def _verdict(outcome: GateOutcome) -> str:
    c = outcome.counts
    if outcome.blocked:
        return (
            f"BLOCKED: {c['failed']} check(s) failed with severity ERROR, so this build is not published "
            f"({c['passed']} passed, {c['warned']} warned)."
        )
    return (
        f"PASSED: {c['passed']} passed, {c['warned']} warned (known paper discrepancies or register notes), "
        "0 failed; the build may be published."
    )


def _row_cells(row: dict[str, Any]) -> tuple[str, str, str, str, str, str]:
    """(row, column, stated, computed, register/problem, source_ref) of a failing-row dict."""
    values = {
        k: v
        for k, v in row.items()
        if k not in {"row_label", "column_label", "source_ref", "stated", "computed", "register", "note"}
    }
    detail = ", ".join(f"{k}={_num(v)}" for k, v in values.items())
    register = row.get("register") or ""
    if row.get("note"):
        register = f"{register} ({row['note']})" if register else str(row["note"])
    return (
        str(row.get("row_label", "")),
        str(row.get("column_label", "") or detail),
        _num(row.get("stated")),
        _num(row.get("computed")),
        register,
        str(row.get("source_ref") or ""),
    )


# ------------------------------------------------------------------------------------------- markdown


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    out += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return out


Table = tuple[list[str], list[list[Any]]]


def _summary_table(outcome: GateOutcome) -> Table:
    c = outcome.counts
    rows: list[list[Any]] = [
        ["passed", c["passed"]],
        ["warned", c["warned"]],
        ["failed", c["failed"]],
        ["total", len(outcome.results)],
    ]
    return ["status", "checks"], rows


def _not_passed_table(not_passed: Sequence[RuleOutcome]) -> Table:
    header = ["status", "check", "asset", "paper table", "observed", "expected"]
    rows: list[list[Any]] = [
        [STATUS_WORD[r.status], r.rule.id, r.rule.asset_path, r.rule.paper_table, r.summary, r.expected]
        for r in not_passed
    ]
    return header, rows


def _discrepancy_table(outcome: GateOutcome) -> Table:
    header = ["status", "source table", "row", "column", "stated", "computed", "difference", "rule", "note"]
    rows: list[list[Any]] = [
        [
            d.status,
            d.source_table,
            d.row_label,
            d.column_label,
            _num(d.stated_value),
            _num(d.computed_value),
            _num(d.difference),
            d.rule,
            d.note,
        ]
        for d in outcome.discrepancies
    ]
    return header, rows


def render_markdown(outcome: GateOutcome) -> str:
    lines = [
        "# Data-quality report",
        "",
        f"Build run `{outcome.run_id}`, checked {outcome.checked_at:%Y-%m-%d %H:%M:%S %Z} on "
        f"`{outcome.db_path}`.",
        "",
        f"**Gate {_verdict(outcome)}**",
        "",
        "Great Expectations suites from `expectations/suites/`, validated on batches queried read-only from "
        "the build's marts (`expectations/batches/`). A failing comparison of a printed number with one "
        "computed from other printed numbers is a WARN when `expectations/known_discrepancies.yml` registers "
        "it with the same stated and computed values; every other failure is an ERROR and blocks publishing.",
        "",
        "## Summary",
        "",
        *_md_table(*_summary_table(outcome)),
        "",
    ]
    not_passed = [r for r in _sorted(outcome.results) if r.status != PASSED]
    lines += ["## Checks that did not pass", ""]
    if not_passed:
        lines += _md_table(*_not_passed_table(not_passed))
    else:
        lines.append("None: every check passed.")
    lines += ["", "## Paper discrepancies", ""]
    if outcome.discrepancies:
        lines += _md_table(*_discrepancy_table(outcome))
    else:
        lines.append("None found.")
    lines += ["", "## Failing rows", ""]
    any_rows = False
    for r in not_passed:
        rows = [row.as_dict() for row in r.failing_rows]
        if not rows:
            continue
        any_rows = True
        lines += [f"### `{r.rule.id}` ({r.status}): {r.rule.asset_path}", "", md_cell(r.rule.description), ""]
        lines += _md_table(
            ["row", "column / values", "stated", "computed", "register", "source_ref"],
            [_row_cells(row) for row in rows],
        )
        lines.append("")
    if not any_rows:
        lines += ["None.", ""]
    lines += ["## All checks", ""]
    lines += _md_table(
        ["status", "check", "asset", "paper table", "rows", "observed", "expected"],
        [
            [
                STATUS_WORD[r.status],
                r.rule.id,
                r.rule.asset_path,
                r.rule.paper_table,
                r.rows_checked,
                r.observed,
                r.expected,
            ]
            for r in _sorted(outcome.results)
        ],
    )
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------- html

CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 90rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.passed, .PASS { color: #1a7f37; } .warned, .WARN, .known { color: #9a6700; }
.failed, .FAIL, .unregistered { color: #cf222e; font-weight: bold; } .not_found { color: #57606a; }
.verdict { font-size: 1.1rem; font-weight: bold; }
code { background: #f6f8fa; padding: 0 0.2rem; }
"""


def _h(text: Any) -> str:
    return html.escape(str(text if text is not None else ""))


def _html_table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, classes: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{_h(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = classes[i] if i < len(classes) else ""
            if cls == "status":
                cls = str(cell)
            cells.append(f'<td class="{_h(cls)}">{_h(cell)}</td>' if cls else f"<td>{_h(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(outcome: GateOutcome) -> str:
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Data-quality report {_h(outcome.run_id[:8])}</title><style>{CSS}</style></head><body>",
        "<h1>Data-quality report</h1>",
        f"<p>Build run <code>{_h(outcome.run_id)}</code>, checked "
        f"{_h(f'{outcome.checked_at:%Y-%m-%d %H:%M:%S %Z}')} on <code>{_h(outcome.db_path)}</code>.</p>",
        f"<p class='verdict {'failed' if outcome.blocked else 'passed'}'>Gate {_h(_verdict(outcome))}</p>",
        "<p>Great Expectations suites from <code>expectations/suites/</code>, validated on batches queried "
        "read-only from the build's marts. A failing comparison of a printed number with one computed from "
        "other printed numbers is a WARN when <code>expectations/known_discrepancies.yml</code> registers it "
        "with the same stated and computed values; every other failure is an ERROR and blocks "
        "publishing.</p>",
        "<h2>Summary</h2>",
        _html_table(*_summary_table(outcome), classes=["status", "num"]),
    ]
    not_passed = [r for r in _sorted(outcome.results) if r.status != PASSED]
    parts.append("<h2>Checks that did not pass</h2>")
    parts.append(
        _html_table(*_not_passed_table(not_passed), classes=["status"])
        if not_passed
        else "<p>None: every check passed.</p>"
    )
    parts.append("<h2>Paper discrepancies</h2>")
    parts.append(
        _html_table(
            *_discrepancy_table(outcome),
            classes=["status", "", "", "", "num", "num", "num"],
        )
        if outcome.discrepancies
        else "<p>None found.</p>"
    )
    parts.append("<h2>Failing rows</h2>")
    shown = False
    for r in not_passed:
        rows = [row.as_dict() for row in r.failing_rows]
        if not rows:
            continue
        shown = True
        parts.append(f"<h3><code>{_h(r.rule.id)}</code> ({_h(r.status)}): {_h(r.rule.asset_path)}</h3>")
        parts.append(f"<p>{_h(r.rule.description)}</p>")
        parts.append(
            _html_table(
                ["row", "column / values", "stated", "computed", "register", "source_ref"],
                [_row_cells(row) for row in rows],
                classes=["", "", "num", "num"],
            )
        )
    if not shown:
        parts.append("<p>None.</p>")
    parts.append("<h2>All checks</h2>")
    parts.append(
        _html_table(
            ["status", "check", "asset", "paper table", "rows", "observed", "expected"],
            [
                [
                    STATUS_WORD[r.status],
                    r.rule.id,
                    r.rule.asset_path,
                    r.rule.paper_table,
                    r.rows_checked,
                    r.observed,
                    r.expected,
                ]
                for r in _sorted(outcome.results)
            ],
            classes=["status", "", "", "", "num"],
        )
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


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
            parts.append(f"<p><strong>{_h(f.name)}</strong> — {_h(f.caption)}</p>")
            continue
        src = Path(os.path.relpath(f.path, reports_dir)).as_posix()
        parts.append(
            f"<figure><img src='{_h(src)}' alt='{_h(f.name)}' style='max-width:100%'>"
            f"<figcaption>{_h(f.caption)}</figcaption></figure>"
        )
    return "".join(parts)


# ------------------------------------------------------------------------------------------- terminal


def _cut(text: Any, width: int) -> str:
    s = " ".join(str(text if text is not None else "").split())
    return s if len(s) <= width else s[: max(width - 1, 0)] + "…"


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
    ident = f" (build {build[0]}, run {str(build[1])[:8]})" if build else ""
    print(f"Data-quality report of {path}{ident}", file=out)
    print(
        f"GX rules: {counts[PASSED]} passed, {counts[WARNED]} warned, {counts[FAILED]} failed "
        f"(the {sum(counts.values())} Great Expectations rules below; dbt tests and claims: the status line)",
        file=out,
    )
    print(file=out)
    name_w = max([len("CHECK"), *(len(c[1]) for c in checks)])
    asset_w = max([len("ASSET"), *(len(c[2]) for c in checks)])
    obs_w = max(width - name_w - asset_w - 10, 30)
    print(f"{'STATUS':<6}  {'CHECK':<{name_w}}  {'ASSET':<{asset_w}}  OBSERVED", file=out)
    for status, name, asset, _table, summary, _expected, failing in checks:
        print(
            f"{STATUS_WORD.get(status, status):<6}  {name:<{name_w}}  {asset:<{asset_w}}  "
            f"{_cut(summary, obs_w)}",
            file=out,
        )
        if status == FAILED and failing:
            for row in json.loads(failing)[:10]:
                cells = _row_cells(row)
                print(f"{'':<8}- {_cut(' | '.join(c for c in cells if c), width - 10)}", file=out)
    print(file=out)
    n = {s: sum(d[0] == s for d in discrepancies) for s in (KNOWN, UNREGISTERED, NOT_FOUND)}
    print(
        f"paper discrepancies: {len(discrepancies)} ({n[KNOWN]} known, {n[UNREGISTERED]} unregistered, "
        f"{n[NOT_FOUND]} registered but no longer found)",
        file=out,
    )
    if discrepancies:
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
                f"{status:<12}  {_cut(table, tab_w):<{tab_w}}  {row:<{row_w}}  "
                f"{_cut(column, col_w):<{col_w}}  {_num(stated):>12}  {_num(computed):>12}  {_num(diff):>10}",
                file=out,
            )
    latest = settings.reports_dir / "latest.html"
    if latest.exists():
        print(file=out)
        print(f"full report of the latest build: {latest} (and latest.md)", file=out)
    return 0
