"""The explicit schema of every file under ``raw/``.

Nothing is type-guessed: each raw CSV has exactly these columns, in this order, and every cell
must match its column's kind. The ingest step (``pipelines.ingest.validate``) enforces this and loads
each file into the table ``raw.<name>`` of the build database.

Cell kinds
- ``int``: a plain integer (no separators), within ``[lo, hi]``.
- ``count``: a count as printed in the paper: ``6,854`` or ``1509`` (comma thousands separators
  optional, but if present they must be well placed). ``-`` where the column allows a printed
  dash; empty where the column allows a blank cell. Loaded as ``BIGINT`` plus the printed text
  in ``<name>_printed`` so that ``-`` (NULL) and blank (absent) stay distinguishable.
- ``pct``: a printed percentage such as ``0.62``; loaded as ``DECIMAL(6,2)`` plus ``<name>_printed``.
- ``decimal``: a plain non-negative decimal (``11501.38616``); empty allowed where optional.
  Loaded as ``DECIMAL(20,5)``.
- ``text``: any non-empty text (empty only where optional).
- ``date``: ``YYYY-MM-DD``; ``dmy``: ``DD.MM.YYYY`` (the bureau's cover-sheet date).

Files. A table is loaded from one file (``filename``), or from one file per release: a ``filename``
with ``{release}`` (the bureau's ``bureau/foreign_trade_by_partner_{release}.csv``) stands for every file
its pattern finds in the raw directory, each with its own sidecar; :meth:`RawFile.files` lists them, so
adding a release is adding a file. Every row of such a file carries the release of its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

Kind = Literal["int", "count", "pct", "decimal", "text", "date", "dmy"]
RELEASE = "{release}"  # in a filename: one file per release
RELEASE_RE = r"[0-9]{4}"  # a release, as its file name gives it
SOURCE_COLUMNS = ("_source_file", "_source_line")  # added to every loaded table
# The table an SDMX-JSON response loads into (pipelines/ingest/responses.py): one row per observation.
RESPONSE_COLUMNS = (
    "reporter",
    "indicator",
    "indicator_name",
    "product",
    "partner_index",
    "partner_code",
    "partner_name",
    "year",
    "value_kusd",
    "value_printed",
    "series_key",
    "observation_index",
    "json_path",
    "_source_file",
)
Format = Literal["csv", "sdmx_json"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    optional: bool = False  # an empty cell is allowed
    dash: bool = False  # a printed "-" is allowed (count / pct only)
    lo: int | None = None  # int only: inclusive range
    hi: int | None = None
    description: str = ""

    @property
    def keeps_printed(self) -> bool:
        return self.kind in ("count", "pct")


@dataclass(frozen=True)
class RawFile:
    name: str  # table name in schema raw, and the Dagster asset key ["raw", name]
    filename: str  # path under raw/; with RELEASE: one file per release (see the module docstring)
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str
    group: str = field(default="paper")
    release_column: str = "release"  # per-release tables: the column that holds the file's release
    release: int | None = None  # a file of a per-release table: the release its name gives
    pattern: str = ""  # a file of a per-release table: the table's filename (with RELEASE)
    # "sdmx_json": an API response parsed by pipelines.ingest.sdmx (columns = the loaded table's)
    format: Format = "csv"
    indicator: str = ""  # sdmx_json: the indicator the response must be for
    # Partner labels checked against dbt_project/seeds/partner_names.csv (bureau spellings):
    # the label column, and optionally a column that must hold the label's ISO code.
    partner_name_column: str | None = None
    partner_code_column: str | None = None

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def loaded_columns(self) -> list[str]:
        """The columns of ``raw.<name>`` after the ingest: each declared column (a count or pct with
        its ``<name>_printed``), then where each row was read; an API response's observation table."""
        if self.format == "sdmx_json":
            return list(RESPONSE_COLUMNS)
        out: list[str] = []
        for c in self.columns:
            out += [c.name, f"{c.name}_printed"] if c.keeps_printed else [c.name]
        return [*out, *SOURCE_COLUMNS]

    @property
    def per_release(self) -> bool:
        """One file per release (the table's spec, or one of its files)."""
        return RELEASE in self.filename or bool(self.pattern)

    @property
    def label(self) -> str:
        """How messages name the file(s): ``raw/<filename>``, ``<release>`` for a table's releases."""
        return "raw/" + self.filename.replace(RELEASE, "<release>")

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def for_release(self, release: int) -> RawFile:
        """The file of one release of a per-release table."""
        if RELEASE not in self.filename:
            raise ValueError(f"{self.name} is not loaded from one file per release")
        name = self.filename.replace(RELEASE, str(release))
        return replace(self, filename=name, release=release, pattern=self.filename)

    def files(self, raw_dir: Path) -> list[RawFile]:
        """The files this table is loaded from: itself, or the release files present in ``raw_dir``
        (by release; a file whose name gives no release comes last, with ``release`` None, and is
        refused by the ingest)."""
        if RELEASE not in self.filename:
            return [self]
        head, tail = self.filename.split(RELEASE)
        found: list[RawFile] = []
        for path in sorted(raw_dir.glob(f"{head}*{tail}")):
            rel = path.relative_to(raw_dir).as_posix()
            token = rel.removeprefix(head).removesuffix(tail)
            if re.fullmatch(RELEASE_RE, token):
                found.append(self.for_release(int(token)))
            else:
                found.append(replace(self, filename=rel, release=None, pattern=self.filename))
        return sorted(found, key=lambda f: (f.release is None, f.release or 0, f.filename))


def _year(name: str = "year", description: str = "Year as printed.") -> Column:
    return Column(name, "int", lo=1990, hi=2030, description=description)


def _count(name: str, *, dash: bool = False, optional: bool = False, description: str = "") -> Column:
    return Column(name, "count", dash=dash, optional=optional, description=description)


ETHNIC_GROUPS = (
    "Kazakhs",
    "Russians",
    "Uzbeks",
    "Ukrainians",
    "Uyghurs",
    "Tatars",
    "Germans",
    "Koreans",
    "Turks",
    "Azerbaijanis",
)

TABLE1 = RawFile(
    name="paper_table1_population_by_ethnicity",
    filename="paper_table1_population_by_ethnicity.csv",
    columns=(_year(), *(_count(g, description=f"Population, {g}") for g in ETHNIC_GROUPS)),
    key=("year",),
    description="Table 1. The population of the Republic of Kazakhstan by individual ethnic groups.",
)

TABLE2 = RawFile(
    name="paper_table2_korean_diaspora",
    filename="paper_table2_korean_diaspora.csv",
    columns=(
        _year(),
        _count("total_population", description="Total population of Kazakhstan"),
        _count("ethnic_korean_population", description="Ethnic Korean population"),
        Column("ethnic_korean_pct", "pct", description="Ethnic Korean percentage (%), as printed"),
    ),
    key=("year",),
    description="Table 2. Korean diaspora in Kazakhstan.",
)

_T3_GROUPS = ("arriving", "students", "workers", "married")
TABLE3 = RawFile(
    name="paper_table3_kazakhstani_citizens_in_korea",
    filename="paper_table3_kazakhstani_citizens_in_korea.csv",
    columns=(
        _year(),
        *(
            _count(f"{g}_{s}", dash=True, optional=True)
            for g in _T3_GROUPS
            for s in ("total", "male", "female")
        ),
    ),
    key=("year",),
    description="Table 3. Overview of Kazakhstani Citizens in Korea (arriving citizens, international "
    "students, workers with H-2 visas, married immigrants; total and by sex).",
)

TABLE4 = RawFile(
    name="paper_table4_ethnic_korean_arrivals_f4",
    filename="paper_table4_ethnic_korean_arrivals_f4.csv",
    columns=(
        _year(),
        _count("total", dash=True, optional=True),
        _count("male", dash=True, optional=True),
        _count("female", dash=True, optional=True),
    ),
    key=("year",),
    description="Table 4. Overview of Ethnic Koreans Arriving from Kazakhstan (F-4 visa holders).",
)

TABLE5 = RawFile(
    name="paper_table5_turkic_studies_departments",
    filename="paper_table5_turkic_studies_departments.csv",
    columns=(
        Column("row_no", "int", lo=1, hi=100, description="Printed row, top to bottom"),
        Column("establishment_year", "text", description="Establish. Year, as printed (with arrows)"),
        Column("department_name", "text", description="Department Name, as printed"),
        Column("university_name", "text", description="University Name, as printed"),
        Column("research_area", "text", description="Research Area, as printed"),
        _count("student_number", dash=True, optional=True, description="Student Number"),
        Column("graduate_number", "text", optional=True, description="Graduate Number, as printed (text)"),
    ),
    key=("row_no",),
    description="Table 5. Turkic studies related Departments in Korea.",
)

TABLE6_YEARS = (2016, 2017, 2018, 2019, 2020)
TABLE6 = RawFile(
    name="paper_table6_h_university_exchange",
    filename="paper_table6_h_university_exchange.csv",
    columns=(
        Column("direction", "text", description="Printed block: Inbound or Outbound"),
        Column("row_no", "int", lo=1, hi=100, description="Printed row within the block"),
        Column("university_name", "text", description="University name as printed ('Total' row kept)"),
        *(_count(f"y{y}", dash=True, optional=True, description=f"Students, {y}") for y in TABLE6_YEARS),
    ),
    key=("direction", "university_name"),
    description="Table 6. Status of Academic Exchange between H University and Kazakhstani Universities.",
)

TABLE7_PERIODS = {
    "ay_2014_2015": "2014-2015 academic year",
    "spring_2017": "2017 spring semester",
    "fall_2018": "2018 fall semester",
    "fall_2019": "2019 fall semester",
}
TABLE7 = RawFile(
    name="paper_table7_k_university_exchange",
    filename="paper_table7_k_university_exchange.csv",
    columns=(
        Column("row_no", "int", lo=1, hi=100, description="Printed row"),
        Column("university_name", "text", description="University name as printed ('Total' row kept)"),
        *(_count(c, dash=True, optional=True, description=p) for c, p in TABLE7_PERIODS.items()),
    ),
    key=("university_name",),
    description="Table 7. Status of the Academic Exchange between K University and Korean Universities.",
)

ECONOMIC_EVENTS = RawFile(
    name="paper_economic_events",
    filename="paper_economic_events.csv",
    columns=(
        Column("event_id", "text", description="Stable identifier"),
        Column("event_date", "date", description="First day of the stated period (YYYY-MM-DD)"),
        Column("date_precision", "text", description="day, month or year: how precisely the paper dates it"),
        Column("date_as_stated", "text", description="The date as the sentence states it"),
        Column("event", "text", description="What happened, in a short English phrase"),
        Column("amount_usd", "decimal", optional=True, description="Amount in US dollars, where stated"),
        Column("amount_as_stated", "text", optional=True, description="The amount as the sentence states it"),
        Column("section", "text", description="Section of the paper"),
        Column("quote", "text", description="The sentence (or its part) the fact comes from, verbatim"),
    ),
    key=("event_id",),
    description="Economic facts stated in the paper's prose (dates, amounts) with their sentences.",
)

TRADE = RawFile(
    name="bureau_foreign_trade_by_partner",
    filename=f"bureau/foreign_trade_by_partner_{RELEASE}.csv",
    group="bureau",
    columns=(
        Column("release", "int", description="Year of the release file (the release in the file's name)"),
        Column("release_published", "dmy", optional=True, description="Cover-sheet publication date"),
        Column("sheet", "text", description="Sheet of the release file"),
        Column("period", "text", description="Period as printed (Russian)"),
        Column("row_no", "int", lo=1, hi=100000, description="Row on the sheet (1-based)"),
        Column("name", "text", description="Row label as printed (Russian)"),
        Column("turnover_kusd", "decimal", optional=True, description="Turnover, thousand USD"),
        Column("turnover_share_pct", "decimal", optional=True, description="Share of total turnover, %"),
        Column("exports_kusd", "decimal", optional=True, description="Exports, thousand USD"),
        Column("exports_share_pct", "decimal", optional=True, description="Share of total exports, %"),
        Column("imports_kusd", "decimal", optional=True, description="Imports, thousand USD"),
        Column("imports_share_pct", "decimal", optional=True, description="Share of total imports, %"),
    ),
    key=("release", "sheet", "row_no"),
    partner_name_column="name",
    description="Kazakhstan's foreign trade by partner country, from the Bureau of National Statistics' "
    "releases 'Main indicators of foreign trade of the Republic of Kazakhstan', one file per release.",
)


# ------------------------------------------------------------------ trade: the other two sources
def _processed(flow: str) -> RawFile:
    return RawFile(
        name=f"bureau_processed_{flow}_by_partner",
        filename=f"bureau_processed/kz_{flow}_by_partner.csv",
        group="bureau_processed",
        columns=(
            Column("date", "date", description="Year end of the reported year (YYYY-12-31)"),
            Column("region", "text", description="Always 'national'"),
            Column("item_code", "text", description="ISO 3166 alpha-3 (the processing repository's)"),
            Column("item_name", "text", description="The bureau's Russian partner name"),
            Column("value", "decimal", description=f"{flow.capitalize()}, thousand USD"),
            Column("transformation", "text", description="Always 'level'"),
        ),
        key=("date", "item_code"),
        partner_name_column="item_name",
        partner_code_column="item_code",
        description=f"Kazakhstan's {flow} by partner country, annual, the bureau's figures as processed by "
        "the public repository makenerzhan-gif/kazakhstan-economic-data (countries only).",
    )


def _comtrade(flow: str, indicator: str) -> RawFile:
    return RawFile(
        name=f"un_comtrade_{flow}_by_partner",
        filename=f"un_comtrade/wits_kz_{flow}_by_partner_2026-09-25.json",
        group="un_comtrade",
        format="sdmx_json",
        indicator=indicator,
        columns=(
            Column("partner_code", "text", description="WITS partner code (PARTNER dimension value id)"),
            Column("partner_name", "text", description="WITS partner name"),
            Column("year", "int", description="TIME_PERIOD of the observation (the file's own list)"),
            Column("value_kusd", "decimal", description=f"{flow.capitalize()}, thousand USD, as printed"),
        ),
        key=("partner_code", "year"),
        description=f"UN Comtrade via the World Bank's WITS API: Kazakhstan's {flow} by partner "
        f"({indicator}), every year the API has, the SDMX-JSON response stored as received.",
    )


TRADE_SOURCES: tuple[RawFile, ...] = (
    _processed("exports"),
    _processed("imports"),
    _comtrade("exports", "XPRT-TRD-VL"),
    _comtrade("imports", "MPRT-TRD-VL"),
)


RAW_FILES: tuple[RawFile, ...] = (
    TABLE1,
    TABLE2,
    TABLE3,
    TABLE4,
    TABLE5,
    TABLE6,
    TABLE7,
    ECONOMIC_EVENTS,
    TRADE,
    *TRADE_SOURCES,
)

BY_NAME = {f.name: f for f in RAW_FILES}  # one entry per table of schema raw
