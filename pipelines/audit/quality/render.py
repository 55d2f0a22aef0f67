"""The data-quality report of a build, rendered as Markdown and as HTML (written by
:mod:`pipelines.audit.quality.report`, which re-exports :func:`render_markdown` and :func:`render_html`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from pipelines.audit.quality.gate import (
    FAILED,
    PASSED,
    WARNED,
    GateOutcome,
    RuleOutcome,
)
from pipelines.lib.markdown import md_cell
from pipelines.lib.numbers import fmt_number

STATUS_WORD = {PASSED: "PASS", WARNED: "WARN", FAILED: "FAIL"}
STATUS_ORDER = {FAILED: 0, WARNED: 1, PASSED: 2}


def num(v: Any) -> str:
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


def row_cells(row: dict[str, Any]) -> tuple[str, str, str, str, str, str]:
    """(row, column, stated, computed, register/problem, source_ref) of a failing-row dict."""
    values = {
        k: v
        for k, v in row.items()
        if k not in {"row_label", "column_label", "source_ref", "stated", "computed", "register", "note"}
    }
    detail = ", ".join(f"{k}={num(v)}" for k, v in values.items())
    register = row.get("register") or ""
    if row.get("note"):
        register = f"{register} ({row['note']})" if register else str(row["note"])
    return (
        str(row.get("row_label", "")),
        str(row.get("column_label", "") or detail),
        num(row.get("stated")),
        num(row.get("computed")),
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
            num(d.stated_value),
            num(d.computed_value),
            num(d.difference),
            d.rule,
            d.note,
        ]
        for d in outcome.discrepancies
    ]
    return header, rows


FAILING_ROWS_HEADER = ["row", "column / values", "stated", "computed", "register", "source_ref"]


def _all_checks_table(outcome: GateOutcome) -> Table:
    header = ["status", "check", "asset", "paper table", "rows", "observed", "expected"]
    rows: list[list[Any]] = [
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
    ]
    return header, rows


def _md_failing_rows(not_passed: Sequence[RuleOutcome]) -> list[str]:
    lines: list[str] = []
    for r in not_passed:
        rows = [row.as_dict() for row in r.failing_rows]
        if not rows:
            continue
        lines += [f"### `{r.rule.id}` ({r.status}): {r.rule.asset_path}", "", md_cell(r.rule.description), ""]
        lines += _md_table(FAILING_ROWS_HEADER, [row_cells(row) for row in rows])
        lines.append("")
    return lines or ["None.", ""]


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
    lines += _md_failing_rows(not_passed)
    lines += ["## All checks", ""]
    lines += _md_table(*_all_checks_table(outcome))
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


def esc(text: Any) -> str:
    return html.escape(str(text if text is not None else ""))


def _html_table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, classes: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = classes[i] if i < len(classes) else ""
            if cls == "status":
                cls = str(cell)
            cells.append(f'<td class="{esc(cls)}">{esc(cell)}</td>' if cls else f"<td>{esc(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _html_failing_rows(not_passed: Sequence[RuleOutcome]) -> list[str]:
    parts: list[str] = []
    for r in not_passed:
        rows = [row.as_dict() for row in r.failing_rows]
        if not rows:
            continue
        parts.append(f"<h3><code>{esc(r.rule.id)}</code> ({esc(r.status)}): {esc(r.rule.asset_path)}</h3>")
        parts.append(f"<p>{esc(r.rule.description)}</p>")
        parts.append(
            _html_table(FAILING_ROWS_HEADER, [row_cells(row) for row in rows], classes=["", "", "num", "num"])
        )
    return parts or ["<p>None.</p>"]


def render_html(outcome: GateOutcome) -> str:
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Data-quality report {esc(outcome.run_id[:8])}</title><style>{CSS}</style></head><body>",
        "<h1>Data-quality report</h1>",
        f"<p>Build run <code>{esc(outcome.run_id)}</code>, checked "
        f"{esc(f'{outcome.checked_at:%Y-%m-%d %H:%M:%S %Z}')} on <code>{esc(outcome.db_path)}</code>.</p>",
        f"<p class='verdict {'failed' if outcome.blocked else 'passed'}'>Gate {esc(_verdict(outcome))}</p>",
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
    parts += _html_failing_rows(not_passed)
    parts.append("<h2>All checks</h2>")
    parts.append(_html_table(*_all_checks_table(outcome), classes=["status", "", "", "", "num"]))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
