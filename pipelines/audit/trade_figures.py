"""Figure 3 redrawn from the warehouse's trade with Korea, over the paper's own period and over every
year any source covers, with the source of each year marked and the registered source gap shown.

- ``paper_figure_3_kazakhstan_trade_with_korea``: Kazakhstan's exports to and imports from Korea over
  the paper's period — the years of its Tables 3 and 4 (migration marts), which Figure 3 illustrates.
- ``kazakhstan_trade_with_korea_all_years``: the whole series (trade.kazakhstan_korea_trade), bars
  coloured by the year's source, and UN Comtrade's values inside its registered gap (trade.
  source_reconciliation, status ``known_gap``) drawn as markers: reported, never published.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SOURCE_LABELS = {
    "bureau_release": "bureau releases",
    "bureau_processed": "bureau figures (processed)",
    "un_comtrade": "UN Comtrade (WITS)",
}
SOURCE_COLOURS = {"bureau_release": "#1f77b4", "bureau_processed": "#2ca02c", "un_comtrade": "#9467bd"}


def sources_text(con: duckdb.DuckDBPyConnection) -> str:
    """The trade sources and the years each covers, as the warehouse holds them."""
    spans = {
        str(src): (int(a), int(b))
        for src, a, b in con.execute(
            "select source, min(year), max(year) from trade.trade_by_partner_all_sources group by source"
        ).fetchall()
    }
    releases = con.execute(
        "select min(release), max(release) from trade.kazakhstan_trade_by_partner"
    ).fetchone()

    def span(key: str) -> str:
        a, b = spans[key]
        return f"{a}-{b}" if a != b else str(a)

    bureau = []
    if "bureau_release" in spans and releases and releases[0] is not None:
        bureau.append(f"releases {releases[0]}-{releases[1]}: years {span('bureau_release')}")
    if "bureau_processed" in spans:
        bureau.append(f"processed figures {span('bureau_processed')}")
    parts = [f"Bureau of National Statistics of Kazakhstan ({'; '.join(bureau)})"] if bureau else []
    if "un_comtrade" in spans:
        parts.append(f"UN Comtrade via the World Bank's WITS ({span('un_comtrade')})")
    return " and ".join(parts)


def _korea(con: duckdb.DuckDBPyConnection, where: str = "true") -> list[tuple[Any, ...]]:
    return con.execute(
        "select year, exports_to_korea_kusd, imports_from_korea_kusd, source "
        f"from trade.kazakhstan_korea_trade where {where} order by year"
    ).fetchall()


def paper_period(con: duckdb.DuckDBPyConnection) -> tuple[int, int] | None:
    """The paper's period: the years its Tables 3 and 4 cover."""
    row = con.execute(
        "select min(year), max(year) from (select year from migration.kazakhstani_citizens_in_korea "
        "union all select year from migration.ethnic_korean_arrivals_f4)"
    ).fetchone()
    return (int(row[0]), int(row[1])) if row and row[0] is not None else None


def _bars(ax: Axes, rows: list[tuple[Any, ...]]) -> None:
    width = 0.4
    seen: set[str] = set()
    for year, exports, imports, source in rows:
        colour = SOURCE_COLOURS.get(str(source), "0.5")
        for offset, value, hatch, flow in (
            (-width / 2, exports, "", "exports"),
            (width / 2, imports, "//", "imports"),
        ):
            label = f"{flow}, {SOURCE_LABELS.get(str(source), source)}"
            ax.bar(
                int(year) + offset,
                float(value or 0) / 1000,
                width,
                color=colour if flow == "exports" else "white",
                edgecolor=colour,
                hatch=hatch,
                label=None if label in seen else label,
            )
            seen.add(label)


def _finish(ax: Axes, title: str) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_ylabel("million US dollars")
    ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=6.5, loc="upper left", ncol=2)


def figure_3_paper_period(con: duckdb.DuckDBPyConnection, out_dir: Path) -> Any:
    from pipelines.audit.figures import Figure, _new_figure, _not_drawn, _save

    name = "paper_figure_3_kazakhstan_trade_with_korea"
    sources = sources_text(con)
    period = paper_period(con)
    rows = _korea(con, f"year between {period[0]} and {period[1]}") if period else []
    if not rows:
        return _not_drawn(
            name, "Not drawn: trade.kazakhstan_korea_trade has no year of the paper's period.", sources
        )
    years = [int(r[0]) for r in rows]
    coverage = f"{years[0]}-{years[-1]}"
    fig, ax = _new_figure()
    _bars(ax, rows)
    ax.set_xticks(years)
    _finish(ax, f"Kazakhstan's trade with the Republic of Korea, {coverage} (the paper's Figure 3, redrawn)")
    by_source = _years_by_source(rows)
    caption = (
        "Kazakhstan's exports to (filled) and imports from (hatched) the Republic of Korea, "
        f"{coverage} — the paper's period (its Tables 3-4) — million US dollars (the paper's unit is "
        "thousand US dollars). "
        f"Source of each year: {by_source}. Source: {sources} (trade.kazakhstan_korea_trade)."
    )
    path = _save(fig, out_dir, name, f"Source: {sources}.")
    return Figure(name, path, caption, sources, coverage)


def _years_by_source(rows: list[tuple[Any, ...]]) -> str:
    spans: list[list[Any]] = []
    for year, _, _, source in rows:
        if spans and spans[-1][0] == source and spans[-1][2] == int(year) - 1:
            spans[-1][2] = int(year)
        else:
            spans.append([source, int(year), int(year)])
    return "; ".join(f"{SOURCE_LABELS.get(s, s)} {a}" + (f"-{b}" if b != a else "") for s, a, b in spans)


def figure_3_all_years(con: duckdb.DuckDBPyConnection, out_dir: Path) -> Any:
    from pipelines.audit.figures import Figure, _new_figure, _not_drawn, _save

    name = "kazakhstan_trade_with_korea_all_years"
    sources = sources_text(con)
    rows = _korea(con)
    if not rows:
        return _not_drawn(name, "Not drawn: trade.kazakhstan_korea_trade is empty.", sources)
    gap = con.execute(
        "select year, flow, value_b_kusd, string_agg(distinct known_gap_ids, ', ') "
        "from trade.source_reconciliation "
        "where partner_iso3 = 'KOR' and status = 'known_gap' and source_b = 'un_comtrade' "
        "group by year, flow, value_b_kusd order by year, flow"
    ).fetchall()
    years = [int(r[0]) for r in rows]
    coverage = f"{years[0]}-{years[-1]}"
    fig, ax = _new_figure()
    _bars(ax, rows)
    for flow, marker in (("exports", "v"), ("imports", "x")):
        pts = [(int(y), float(v or 0) / 1000) for y, f, v, _ in gap if f == flow]
        if pts:
            ax.plot(
                [y + (-0.2 if flow == "exports" else 0.2) for y, _ in pts],
                [v for _, v in pts],
                marker,
                color="#d62728",
                linestyle="none",
                label=f"UN Comtrade {flow} in its registered gap (not published)",
            )
    step = max(1, -(-len(years) // 12))  # at most 12 labels
    ax.set_xticks(years[::step])
    _finish(ax, f"Kazakhstan's trade with the Republic of Korea, {coverage}, by source")
    gap_years = sorted({int(r[0]) for r in gap})
    entries = sorted({g for r in gap for g in str(r[3]).split(", ")})
    caption = (
        f"Kazakhstan's exports to (filled) and imports from (hatched) the Republic of Korea, {coverage}, "
        f"million US dollars; bar colour = the source of the year ({_years_by_source(rows)}). "
        + (
            f"Red markers: UN Comtrade's own values where they differ beyond rounding inside a registered "
            f"source gap ({', '.join(map(str, gap_years))}; register entries "
            f"{', '.join(entries)}) — reported, not published. "
            if gap
            else ""
        )
        + f"Source: {sources} (trade.kazakhstan_korea_trade, trade.source_reconciliation)."
    )
    path = _save(fig, out_dir, name, f"Source: {sources}.")
    return Figure(name, path, caption, sources, coverage)
