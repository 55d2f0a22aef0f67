"""The paper's figures redrawn from the warehouse, and the trends of its Tables 1-4, as static PNGs.

``render_figures(con, out_dir)`` returns one :class:`Figure` per chart: name, path and a caption
naming source and coverage. The paper's Figures 1, 2 and 4 print no numbers in the text and the
warehouse holds none of their data, so they are not drawn; each still gets a record (``path`` None)
whose caption says why. Figure 3 is redrawn over the paper's period and over every year any trade
source covers, the source of each year marked (:mod:`pipelines.audit.trade_figures`).

matplotlib is imported inside :func:`render_figures` (Agg backend, no pyplot), so importing this
module is cheap; rendering all charts takes well under a second on the warehouse.
"""

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines.audit.trade_figures import figure_3_all_years, figure_3_paper_period
from pipelines.lib.text import cut

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

PAPER = "Oh & Zholamanova (2021)"
DPI = 100
SIZE = (8.0, 4.5)


@dataclass(frozen=True)
class Figure:
    """One chart: ``path`` is None when it could not be drawn (``caption`` says why)."""

    name: str
    path: Path | None
    caption: str
    source: str = ""
    coverage: str = ""

    @property
    def drawn(self) -> bool:
        return self.path is not None


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def _new_figure() -> tuple["MplFigure", "Axes"]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=SIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.grid(True, axis="y", alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _save(fig: "MplFigure", out_dir: Path, name: str, footer: str) -> Path:
    # Fixed margins instead of tight_layout: a third of the rendering time, same look at this size.
    fig.subplots_adjust(left=0.12, right=0.9, top=0.9, bottom=0.14)
    fig.text(0.01, 0.015, cut(footer, 150), fontsize=7, color="0.35", ha="left", va="bottom")
    path = out_dir / f"{name}.png"
    fig.savefig(path, format="png", dpi=DPI)
    return path


def _thousands(ax: "Axes") -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


# --------------------------------------------------------------------------- not drawn


def _not_drawn(name: str, caption: str, source: str) -> Figure:
    return Figure(name=name, path=None, caption=caption, source=source, coverage="none")


def paper_figure_1() -> Figure:
    return _not_drawn(
        "paper_figure_1_ethnic_korean_immigrants",
        "Not drawn: the paper's Figure 1 (Ethnic Korean Immigrants from Kazakhstan) prints no numbers in the "
        "text, and the warehouse holds no residence data. Table 4 (F-4 arrivals) is drawn instead as "
        "table4_f4_arrivals_by_sex.",
        "Korea Immigration Service Statistics (as cited by the paper)",
    )


def paper_figure_2() -> Figure:
    return _not_drawn(
        "paper_figure_2_naturalization",
        "Not drawn: the paper's Figure 2 (Naturalization of Kazakhstani Citizens in Korea) prints no numbers "
        "in the text, and the warehouse holds no naturalization data.",
        "Korea Immigration Service Statistics (as cited by the paper)",
    )


def paper_figure_4() -> Figure:
    return _not_drawn(
        "paper_figure_4_korea_trade_with_kazakhstan",
        "Not drawn: the paper's Figure 4 (Korea's Imports to and Exports from Kazakhstan, KOTRA) prints no "
        "numbers in the text, and Korea's own trade statistics are not in the warehouse. Its mirror, "
        "Kazakhstan's trade with Korea, is "
        "paper_figure_3_kazakhstan_trade_with_korea.",
        "Korea Trade-Investment Promotion Agency (as cited by the paper)",
    )


# --------------------------------------------------------------------------- drawn


def table1_population_trends(con: duckdb.DuckDBPyConnection, out_dir: Path) -> Figure:
    name = "table1_ethnic_groups_index"
    source = f"{PAPER}, Table 1 (Committee on Statistics, 2020)"
    rows = _rows(
        con,
        "select ethnic_group, year, population from demography.population_by_ethnicity "
        "where population is not null order by ethnic_group, year",
    )
    if not rows:
        return _not_drawn(name, "Not drawn: demography.population_by_ethnicity is empty.", source)
    series: dict[str, list[tuple[int, float]]] = {}
    for group, year, pop in rows:
        series.setdefault(str(group), []).append((int(year), float(pop)))
    years = sorted({y for pts in series.values() for y, _ in pts})
    coverage = f"{years[0]}-{years[-1]}"
    fig, ax = _new_figure()
    ordered = sorted(series, key=lambda g: series[g][-1][1] / series[g][0][1], reverse=True)
    for group in ordered:
        pts = series[group]
        base = pts[0][1]
        lw = 2.6 if group == "Koreans" else 1.2
        ax.plot([y for y, _ in pts], [100 * v / base for _, v in pts], label=group, linewidth=lw)
    ax.axhline(100, color="0.5", linewidth=0.8)
    ax.set_ylabel(f"population, {years[0]} = 100")
    ax.set_title(f"Ethnic groups of Kazakhstan, {coverage} (Table 1), indexed")
    ax.legend(frameon=False, fontsize=7, ncol=2, loc="upper left")
    caption = (
        f"Population of the ten ethnic groups printed in Table 1, {coverage}, each indexed to "
        f"{years[0]} = 100 (Koreans in bold). Source: {source}; demography.population_by_ethnicity."
    )
    path = _save(fig, out_dir, name, f"Source: {source}.")
    return Figure(name, path, caption, source, coverage)


def table2_korean_population(con: duckdb.DuckDBPyConnection, out_dir: Path) -> Figure:
    name = "table2_korean_population_and_share"
    source = f"{PAPER}, Table 2 (Committee on Statistics)"
    rows = _rows(
        con,
        "select year, korean_population, korean_pct_stated, korean_pct_computed "
        "from demography.korean_diaspora order by year",
    )
    if not rows:
        return _not_drawn(name, "Not drawn: demography.korean_diaspora is empty.", source)
    years = [int(r[0]) for r in rows]
    coverage = f"{years[0]}-{years[-1]}"
    fig, ax = _new_figure()
    ax.bar(years, [float(r[1]) for r in rows], color="#9ecae1", label="ethnic Korean population")
    ax.set_ylim(90_000, max(float(r[1]) for r in rows) * 1.07)
    ax.set_ylabel("ethnic Koreans (bars)")
    _thousands(ax)
    ax.set_xticks(years)
    ax2 = ax.twinx()
    ax2.plot(years, [float(r[2]) for r in rows], "o-", color="#d62728", label="share, as printed (%)")
    ax2.plot(years, [float(r[3]) for r in rows], "x--", color="#7f7f7f", label="share, recomputed (%)")
    ax2.set_ylabel("share of the population (%)")
    ax2.spines["top"].set_visible(False)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
    ax.legend(handles, labels, frameon=True, framealpha=0.9, fontsize=7, loc="upper right")
    ax.set_title(f"Korean diaspora in Kazakhstan, {coverage} (Table 2)")
    caption = (
        "Ethnic Korean population of Kazakhstan (bars, axis from 90,000) and its share of the total "
        f"population (lines: as printed, and recomputed from the printed counts), {coverage}. The population "
        f"grows every year while the share falls. Source: {source}; demography.korean_diaspora."
    )
    path = _save(fig, out_dir, name, f"Source: {source}.")
    return Figure(name, path, caption, source, coverage)


CATEGORY_LABELS = {
    "arriving_citizens": "arriving citizens",
    "international_students": "international students",
    "workers_h2": "workers (H-2 visa)",
    "married_immigrants": "married immigrants",
}


def table3_citizens(con: duckdb.DuckDBPyConnection, out_dir: Path) -> Figure:
    name = "table3_kazakhstani_citizens_by_category"
    source = f"{PAPER}, Table 3 (Korea Immigration Service Statistics)"
    rows = _rows(
        con,
        "select category, year, count from migration.kazakhstani_citizens_in_korea "
        "where sex = 'total' and count is not null order by category, year",
    )
    if not rows:
        return _not_drawn(name, "Not drawn: migration.kazakhstani_citizens_in_korea is empty.", source)
    series: dict[str, list[tuple[int, float]]] = {}
    for cat, year, n in rows:
        series.setdefault(str(cat), []).append((int(year), float(n)))
    years = sorted({y for pts in series.values() for y, _ in pts})
    coverage = f"{years[0]}-{years[-1]}"
    fig, ax = _new_figure()
    for cat in CATEGORY_LABELS:
        if cat in series:
            pts = series[cat]
            ax.plot([y for y, _ in pts], [v for _, v in pts], "o-", label=CATEGORY_LABELS[cat], markersize=3)
    ax.set_yscale("log")
    _thousands(ax)
    ax.set_xticks(years)
    ax.set_ylabel("persons (log scale)")
    ax.set_title(f"Kazakhstani citizens in Korea by category, {coverage} (Table 3)")
    ax.legend(frameon=False, fontsize=8)
    missing = [
        CATEGORY_LABELS.get(c, c) for c in CATEGORY_LABELS if c in series and series[c][-1][0] < years[-1]
    ]
    caption = (
        f"Kazakhstani citizens in Korea by category (totals), {coverage}, log scale. "
        + (f'Not printed for {years[-1]} ("-"): {", ".join(missing)}. ' if missing else "")
        + f"Source: {source}; migration.kazakhstani_citizens_in_korea."
    )
    path = _save(fig, out_dir, name, f"Source: {source}.")
    return Figure(name, path, caption, source, coverage)


def table4_f4_arrivals(con: duckdb.DuckDBPyConnection, out_dir: Path) -> Figure:
    name = "table4_f4_arrivals_by_sex"
    source = f"{PAPER}, Table 4 (Korea Immigration Service Statistics)"
    rows = _rows(
        con,
        "select year, max(count) filter (where sex = 'total'), max(count) filter (where sex = 'male'), "
        "max(count) filter (where sex = 'female') from migration.ethnic_korean_arrivals_f4 "
        "group by year order by year",
    )
    if not rows:
        return _not_drawn(name, "Not drawn: migration.ethnic_korean_arrivals_f4 is empty.", source)
    years = [int(r[0]) for r in rows]
    coverage = f"{years[0]}-{years[-1]}"
    fig, ax = _new_figure()
    male = [float(r[2]) if r[2] is not None else 0.0 for r in rows]
    female = [float(r[3]) if r[3] is not None else 0.0 for r in rows]
    ax.bar(years, male, color="#1f77b4", label="male")
    ax.bar(years, female, bottom=male, color="#e377c2", label="female")
    no_split = [(int(r[0]), float(r[1])) for r in rows if r[1] is not None and (r[2] is None or r[3] is None)]
    if no_split:
        ax.bar(
            [y for y, _ in no_split],
            [v for _, v in no_split],
            color="0.75",
            label="total only (sex not printed)",
        )
    ax.plot(years, [float(r[1]) if r[1] is not None else float("nan") for r in rows], "k.-", label="total")
    _thousands(ax)
    ax.set_xticks(years)
    ax.set_ylabel("arrivals")
    ax.set_title(f"Ethnic Koreans arriving from Kazakhstan (F-4 visa), {coverage} (Table 4)")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    caption = (
        f"Ethnic Koreans arriving in Korea from Kazakhstan on F-4 visas by sex, {coverage}"
        + (f"; {', '.join(str(y) for y, _ in no_split)} printed as a total only" if no_split else "")
        + f". Source: {source}; migration.ethnic_korean_arrivals_f4."
    )
    path = _save(fig, out_dir, name, f"Source: {source}.")
    return Figure(name, path, caption, source, coverage)


Renderer = Callable[[duckdb.DuckDBPyConnection, Path], Figure]
RENDERERS: Sequence[tuple[str, Renderer]] = (
    ("paper_figure_3_kazakhstan_trade_with_korea", figure_3_paper_period),
    ("kazakhstan_trade_with_korea_all_years", figure_3_all_years),
    ("table1_ethnic_groups_index", table1_population_trends),
    ("table2_korean_population_and_share", table2_korean_population),
    ("table3_kazakhstani_citizens_by_category", table3_citizens),
    ("table4_f4_arrivals_by_sex", table4_f4_arrivals),
)


def render_figures(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Figure]:
    """Draw every chart into ``out_dir`` (created if missing); records for the figures not drawn."""
    # Each chart draws on its own matplotlib Figure with an Agg canvas (no pyplot, no global backend).
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = [paper_figure_1(), paper_figure_2()]
    drawn = [_render_one(name, render, con, out_dir) for name, render in RENDERERS]
    figures += [*drawn[:2], paper_figure_4(), *drawn[2:]]
    return figures


def _render_one(name: str, render: Renderer, con: duckdb.DuckDBPyConnection, out_dir: Path) -> Figure:
    try:
        return render(con, out_dir)
    except duckdb.Error as exc:  # a mart missing from this warehouse: record why instead of failing
        msg = str(exc).strip().splitlines()[0]
        return Figure(name=name, path=None, caption=f"Not drawn: {msg}", coverage="none")


def figures_markdown(figures: Sequence[Figure], relative_to: Path | None = None) -> str:
    """A Markdown section listing the figures (images where drawn), for the data-quality report."""
    lines = ["## Figures", ""]
    for f in figures:
        if f.path is None:
            lines += [f"- **{f.name}** — {f.caption}", ""]
            continue
        target = os.path.relpath(f.path, relative_to) if relative_to else str(f.path)
        lines += [f"### {f.name}", "", f"![{f.name}]({Path(target).as_posix()})", "", f.caption, ""]
    return "\n".join(lines)
