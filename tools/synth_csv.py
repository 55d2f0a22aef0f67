"""The synthetic bureau release files, written by DuckDB (``COPY … TO``) in batches of sheets: every
value is a function of the row's position and the seed (see :mod:`tools.synth`)."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.ingest.specs import TRADE

MONTHS_RU = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)
N_CHAPTERS = 97  # HS chapters 01..97; chapter 0 is the all-commodities table
TABLES_PER_VINTAGE = 12 * (N_CHAPTERS + 1)  # cumulative periods × (all commodities + chapters)
FIRST_ROW_NO = 6  # the bureau's tables start on sheet row 6 (rows above are the header)
BATCH_SHEETS = 2500  # sheets per COPY (about 500,000 rows, 70 MB of CSV)


@dataclass(frozen=True)
class Partner:
    name: str  # as printed (Russian), a name of the seed partner_names
    exports: float  # thousand USD in the real file's latest sheet (0: empty cell)
    imports: float


@dataclass(frozen=True)
class Layout:
    rows: int  # requested (and written) trade rows
    sheets: int
    rows_per_sheet: int  # base rows per sheet; the first `extra` sheets have one more
    extra: int
    releases: int
    first_release: int

    @property
    def vintages(self) -> int:
        return 2 * self.releases

    @property
    def last_release(self) -> int:
        return self.first_release + self.releases - 1

    @property
    def years(self) -> set[int]:
        """The years the sheets report: sheet ``e`` is vintage ``e % vintages``, whose release is
        ``first + v // 2`` and whose year is that release's (odd ``v``) or the one before (as in
        ``_create_sheets``)."""
        return {self.first_release + v // 2 - 1 + v % 2 for v in range(min(self.sheets, self.vintages))}


def _chapter_norm() -> float:
    return sum(1.0 / r for r in range(1, N_CHAPTERS + 1))


def write_trade_csvs(out_dir: Path, layout: Layout, partners: list[Partner], *, seed: int = 0) -> list[Path]:
    """Write the synthetic release files under ``out_dir`` (streaming, in DuckDB), one per release that
    has rows. Returns their paths, by release."""
    written: list[Path] = []
    with duckdb.connect() as con:
        con.execute("set preserve_insertion_order = true")
        con.execute("set enable_progress_bar = false")
        _create_sheets(con, layout, partners, seed)
        ranges = con.execute(
            "select release, min(ord), max(ord) from sheets group by release order by release"
        )
        for release, lo, hi in ranges.fetchall():
            path = out_dir / TRADE.for_release(int(release)).filename
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_release(con, path, int(lo), int(hi), partners, seed)
            written.append(path)
    return written


def _write_release(
    con: duckdb.DuckDBPyConnection, path: Path, lo: int, hi: int, partners: list[Partner], seed: int
) -> None:
    """The sheets ``lo``..``hi`` (one release) into ``path``, all or nothing."""
    tmp = path.with_name(path.name + ".part")
    chunk = path.with_name(path.name + ".chunk")
    try:
        with tmp.open("wb") as out:
            # One COPY per batch of sheets: an order-preserving COPY buffers its output, so batches
            # keep the memory bounded (a single COPY of 10^7 rows peaks near 4 GB).
            for first in range(lo, hi + 1, BATCH_SHEETS):
                last = min(hi, first + BATCH_SHEETS - 1)
                _copy_batch(con, chunk, first, last, partners, seed, header=first == lo)
                with chunk.open("rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
        tmp.replace(path)
    finally:  # no partial output left behind
        chunk.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)


def _create_sheets(
    con: duckdb.DuckDBPyConnection, layout: Layout, partners: list[Partner], seed: int
) -> None:
    """The temp table ``sheets``: one row per synthetic partner table, ``ord`` in file order."""
    total_x, total_i = sum(p.exports for p in partners), sum(p.imports for p in partners)
    months = "[" + ", ".join(f"'{m}'" for m in MONTHS_RU) + "]"
    con.execute(
        f"""
        create temp table sheets as
        with enum as (
            select
                e,
                e % $vintages as v,
                e // $vintages as t,
                case when e < $extra then $base + 1 else $base end as n_rows
            from range($sheets) r(e)
        ),
        grid as (
            select
                $first + v // 2 as release,
                $first + v // 2 - 1 + v % 2 as year,
                12 - t // {N_CHAPTERS + 1} as month,
                t % {N_CHAPTERS + 1} as chapter,
                n_rows
            from enum
        ),
        scaled as (
            select
                *,
                -- a year's level, a cumulative month fraction, a release's small revision
                (0.8 + 0.4 * (hash($seed, 'y', year) % 1000003) / 1000003.0)
                * month / 12.0 * (0.97 + 0.06 * (hash($seed, 'm', year, month) % 1000003) / 1000003.0)
                * (1 + 0.001 * ((hash($seed, 'r', release, year, month, chapter) % 1000003)
                                / 1000003.0 - 0.5)) as level,
                case when chapter = 0 then 1.0
                     else 1.0 / ((1 + (chapter * 37) % {N_CHAPTERS}) * $hnorm) end as chapter_x,
                case when chapter = 0 then 1.0
                     else 1.0 / ((1 + (chapter * 53) % {N_CHAPTERS}) * $hnorm) end as chapter_i
            from grid
        )
        select
            row_number() over (order by release, year, month desc, chapter) as ord,
            release,
            printf('25.07.%d', release + 1) as release_published,
            case when chapter = 0 then printf('%02d_%d', month, year)
                 else printf('%02d_%d_hs%02d', month, year, chapter) end as sheet,
            case when month = 1 then printf('за январь %d года', year)
                 else printf('за январь-%s %d года', {months}[month], year) end as period,
            year, month, chapter, n_rows,
            -- sheet totals in units of 0.00001 thousand USD (countries sum to them)
            cast(round($total_x * level * chapter_x * 100000) as bigint) as xtot,
            cast(round($total_i * level * chapter_i * 100000) as bigint) as itot
        from scaled
        order by release, year, month desc, chapter
        """,
        {
            "vintages": layout.vintages,
            "extra": layout.extra,
            "base": layout.rows_per_sheet,
            "sheets": layout.sheets,
            "first": layout.first_release,
            "seed": seed,
            "hnorm": _chapter_norm(),
            "total_x": total_x,
            "total_i": total_i,
        },
    )


def _copy_batch(
    con: duckdb.DuckDBPyConnection,
    chunk: Path,
    lo: int,
    hi: int,
    partners: list[Partner],
    seed: int,
    *,
    header: bool,
) -> None:
    wx = [p.exports for p in partners]
    wi = [p.imports for p in partners]
    con.execute(
        f"""
            copy (
                with cells as (
                    select s.*, unnest(range(s.n_rows)) as j from sheets s where ord between $lo and $hi
                ),
                ranked as (
                    select
                        cells.*,
                        j - 1 as c,
                        -- partners of neighbouring turnover ranks (1st/2nd, 3rd/4th …) swap their
                        -- figures in about half of the sheets (the sheet's totals stay the same)
                        case when j > 0 and $mate[j] < n_rows - 1
                                  and hash($seed, 's', release, year, month, chapter, least(j - 1, $mate[j]))
                                      % 2 = 1
                             then $mate[j] else j - 1 end as r
                    from cells
                ),
                valued as (
                    -- lists, not joins: a join would not keep the rows in order
                    select
                        *,
                        case when j = 0 then 'Всего' else $names[c + 1] end as name,
                        case when j = 0 then xtot
                             when $wx[r + 1] > 0
                             then cast(round(xtot * $wx[r + 1] / $sx[n_rows - 1]) as bigint) end as xu,
                        case when j = 0 then itot
                             when $wi[r + 1] > 0
                             then cast(round(itot * $wi[r + 1] / $si[n_rows - 1]) as bigint) end as iu
                    from ranked
                )
                select
                    release,
                    release_published,
                    sheet,
                    period,
                    {FIRST_ROW_NO} + j as row_no,
                    name,
                    printf('%d.%05d', (coalesce(xu, 0) + coalesce(iu, 0)) // 100000,
                           (coalesce(xu, 0) + coalesce(iu, 0)) % 100000) as turnover_kusd,
                    cast(round(100.0 * (coalesce(xu, 0) + coalesce(iu, 0)) / nullif(xtot + itot, 0), 5)
                         as decimal(20, 5)) as turnover_share_pct,
                    printf('%d.%05d', xu // 100000, xu % 100000) as exports_kusd,
                    cast(round(100.0 * xu / nullif(xtot, 0), 5) as decimal(20, 5)) as exports_share_pct,
                    printf('%d.%05d', iu // 100000, iu % 100000) as imports_kusd,
                    cast(round(100.0 * iu / nullif(itot, 0), 5) as decimal(20, 5)) as imports_share_pct
                from valued
            ) to '{_sql_str(str(chunk))}' (format csv, header {str(header).lower()}, delimiter ',', quote '"')
            """,
        {
            "lo": lo,
            "hi": hi,
            "seed": seed,
            "names": [p.name for p in partners],
            "mate": _mates(partners),
            "wx": wx,
            "wi": wi,
            "sx": list(itertools.accumulate(wx)),
            "si": list(itertools.accumulate(wi)),
        },
    )


def _mates(partners: list[Partner]) -> list[int]:
    """For each partner (0-based), the partner whose turnover rank pairs with its own (rank xor 1)."""
    order = sorted(range(len(partners)), key=lambda i: (-(partners[i].exports + partners[i].imports), i))
    rank = {c: r for r, c in enumerate(order)}
    return [order[rank[c] ^ 1] if (rank[c] ^ 1) < len(order) else c for c in range(len(partners))]


def _sql_str(s: str) -> str:
    return s.replace("'", "''")
