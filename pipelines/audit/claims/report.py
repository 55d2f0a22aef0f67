"""The claim verdicts for people: ``kzkr report``, the build summary line and the report section.

Every verdict is shown with its coverage, the part of the claim the warehouse can check and the
tolerance at which it would flip; the *sensitive* verdicts (flip within a factor 1.5 of their
tolerance) are listed apart.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

import duckdb

from pipelines.audit.claims.evaluation import ClaimResult, evaluate_claims
from pipelines.audit.claims.outcome import CONTRADICTED, NOT_CHECKABLE, SUPPORTED, VERDICTS
from pipelines.audit.claims.registry import TextDiscrepancy
from pipelines.audit.claims.tolerances import Flip
from pipelines.lib.text import cut

_ORDER = {CONTRADICTED: 0, SUPPORTED: 1, NOT_CHECKABLE: 2}


@dataclass(frozen=True)
class Line:
    """One claim as reported (from ``quality.claims`` or evaluated now)."""

    claim_id: str
    verdict: str
    coverage: str
    checkable_part: str
    computed: str
    stated: str
    quote: str
    reason: str
    flip: str
    sensitive: bool

    @classmethod
    def of(cls, r: ClaimResult) -> Line:
        return cls(
            r.claim_id, r.verdict, r.coverage, r.checkable_part, r.computed, r.stated, r.quote, r.reason,
            r.flip.text() if r.flip else "-", r.sensitive,
        )  # fmt: skip


def claims_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int] | None:
    """Verdict counts recorded in ``quality.claims`` (for the build summary), or None without the table."""
    try:
        rows = con.execute("select verdict, count(*) from quality.claims group by verdict").fetchall()
    except duckdb.Error:
        return None
    counts = dict.fromkeys(VERDICTS, 0)
    counts.update({str(v): int(n) for v, n in rows})
    return counts


def claims_summary_line(counts: Mapping[str, int]) -> str:
    s, x, n = (counts.get(v, 0) for v in VERDICTS)
    return (
        f"claims: {sum(counts.values())} quantitative claims of the paper: "
        f"{s} supported, {x} contradicted, {n} not checkable"
    )


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "select count(*) from information_schema.columns "
        "where table_schema = 'quality' and table_name = 'claims' and column_name = 'coverage'"
    ).fetchone()
    return bool(row and row[0])


def load_lines(con: duckdb.DuckDBPyConnection) -> tuple[list[Line], str]:
    """The claims of ``quality.claims`` if the warehouse has it (with coverage), else evaluated now."""
    if not _has_table(con):
        lines = [Line.of(r) for r in evaluate_claims(con)]
        return _sorted(lines), "evaluated now (the warehouse has no quality.claims with coverage)"
    rows = con.execute(
        "select claim_id, verdict, coverage, checkable_part, computed, stated, quote, reason, "
        "flip_at, tolerance, tolerance_unit from quality.claims"
    ).fetchall()
    lines = []
    for cid, verdict, cov, part, computed, stated, quote, reason, at, tol, unit in rows:
        flip = Flip(tol, at, unit) if tol is not None and unit else None
        lines.append(
            Line(
                cid,
                verdict,
                cov,
                part or "-",
                computed or "-",
                stated or "-",
                quote,
                reason or "",
                flip.text() if flip else "-",
                bool(flip and flip.sensitive),
            )
        )
    return _sorted(lines), "quality.claims"


def _sorted(lines: list[Line]) -> list[Line]:
    return sorted(lines, key=lambda r: (_ORDER.get(r.verdict, 3), r.claim_id))


def _heading(lines: Sequence[Line]) -> str:
    c = {v: sum(r.verdict == v for r in lines) for v in VERDICTS}
    cov = {k: sum(r.coverage == k for r in lines) for k in ("full", "partial", "proxy", "none")}
    return (
        f"{len(lines)} claims: {c[SUPPORTED]} supported, {c[CONTRADICTED]} contradicted, "
        f"{c[NOT_CHECKABLE]} not checkable; coverage {cov['full']} full, {cov['partial']} partial, "
        f"{cov['proxy']} proxy, {cov['none']} none; {sum(r.sensitive for r in lines)} sensitive"
    )


def print_claims(con: duckdb.DuckDBPyConnection, out: TextIO | None = None) -> int:
    """Print the claim verdicts with coverage and checkable part. Returns the number contradicted."""
    out = out or sys.stdout
    lines, origin = load_lines(con)
    print(f"Claims of the paper's prose: {_heading(lines)} ({origin})", file=out)
    print(
        f"  {'claim':<44} {'verdict':<13} {'coverage':<8} {'checkable part':<34} computed | stated", file=out
    )
    for r in lines:
        cmp = "-" if r.verdict == NOT_CHECKABLE and r.computed == "-" else f"{r.computed} | {r.stated}"
        print(
            f"  {cut(r.claim_id, 44, one_line=True):<44} {r.verdict:<13} {r.coverage:<8} "
            f"{cut(r.checkable_part, 34, one_line=True):<34} {cut(cmp, 60, one_line=True)}",
            file=out,
        )
    contradicted = [r for r in lines if r.verdict == CONTRADICTED]
    if contradicted:
        print("Contradicted claims:", file=out)
        for r in contradicted:
            quote = cut(r.quote, 100, one_line=True)
            print(f'  {r.claim_id} [{r.coverage}: {r.checkable_part}]: "{quote}"', file=out)
            print(f"      {r.reason}", file=out)
    sensitive = [r for r in lines if r.sensitive]
    print(
        f"Sensitive verdicts (flip within a factor 1.5 of their tolerance): {len(sensitive) or 'none'}",
        file=out,
    )
    for r in sensitive:
        print(f"  {r.claim_id}: {r.verdict}; {r.flip}", file=out)
    texts = text_contradictions(con)
    print(
        f"Text contradictions (quality.paper_discrepancies, rule = 'text'): {len(texts) or 'none'}", file=out
    )
    for where, a, b, note in texts:
        print(f'  {where}: "{cut(a, 70, one_line=True)}" vs "{cut(b, 70, one_line=True)}"', file=out)
        print(f"      {note}", file=out)
    return len(contradicted)


def text_contradictions(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str]]:
    """(where, passage a, passage b, note) of the text contradictions recorded in the warehouse."""
    try:
        rows = con.execute(
            "select source_table, row_label, column_label, note from quality.paper_discrepancies "
            "where rule = 'text' order by source_table"
        ).fetchall()
    except duckdb.Error:
        return []
    return [(str(w), str(a), str(b), str(n or "")) for w, a, b, n in rows]


_HEADER = ("claim", "verdict", "coverage", "checkable part", "computed", "stated", "flip", "quote")


def _cells(r: Line) -> list[str]:
    return [r.claim_id, r.verdict, r.coverage, r.checkable_part, r.computed, r.stated, r.flip, r.quote]


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown_section(lines: Sequence[Line], texts: Sequence[TextDiscrepancy] = ()) -> str:
    out = ["## Claims of the paper's prose", "", _heading(lines) + ".", ""]
    out += ["| " + " | ".join(_HEADER) + " |", "|" + " --- |" * len(_HEADER)]
    out += ["| " + " | ".join(_md(c) for c in _cells(r)) + " |" for r in lines]
    sensitive = [r for r in lines if r.sensitive]
    out += ["", "### Sensitive verdicts (flip within a factor 1.5 of their tolerance)", ""]
    out += [f"- `{r.claim_id}`: {r.verdict}; {r.flip}" for r in sensitive] or ["None."]
    out += ["", "### Text contradictions (quality.paper_discrepancies, rule = 'text')", ""]
    out += [
        f"- {_md(t.where)}: “{_md(t.passage_a)}” vs “{_md(t.passage_b)}”. {_md(t.note)}" for t in texts
    ] or ["None."]
    return "\n".join(out) + "\n"


def html_section(lines: Sequence[Line], texts: Sequence[TextDiscrepancy] = ()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in _HEADER)
    body = "".join(
        "<tr>"
        + "".join(f"<td class='{html.escape(r.verdict)}'>{html.escape(c)}</td>" for c in _cells(r))
        + "</tr>"
        for r in lines
    )
    sensitive = "".join(
        f"<li><code>{html.escape(r.claim_id)}</code>: {html.escape(r.verdict)}; {html.escape(r.flip)}</li>"
        for r in lines
        if r.sensitive
    )
    esc = html.escape
    text_items = "".join(
        f"<li>{esc(t.where)}: “{esc(t.passage_a)}” vs “{esc(t.passage_b)}”. {esc(t.note)}</li>" for t in texts
    )
    return (
        f"<h2 id='claims'>Claims of the paper's prose</h2><p>{html.escape(_heading(lines))}.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        "<h3>Sensitive verdicts (flip within a factor 1.5 of their tolerance)</h3>"
        + (f"<ul>{sensitive}</ul>" if sensitive else "<p>None.</p>")
        + "<h3>Text contradictions (quality.paper_discrepancies, rule = 'text')</h3>"
        + (f"<ul>{text_items}</ul>" if text_items else "<p>None.</p>")
    )
