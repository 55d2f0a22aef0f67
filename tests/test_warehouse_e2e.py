"""End to end: `kzkr build` into a temporary warehouse, then the printed values in the right cells.

Expected values are the paper's printed numbers (read off the paper, not off our code) and, for
trade, values recomputed here from the bureau's CSV with the csv module.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import BuiltWarehouse, kzkr_env

from pipelines.ingest.specs import TRADE

ROOT = Path(__file__).resolve().parents[1]
KZKR = str(Path(sys.executable).with_name("kzkr"))

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def build(built_warehouse: BuiltWarehouse) -> tuple[Path, str]:
    """The session's reference build (tests/conftest.py): its directory and what it printed."""
    return built_warehouse.warehouse_dir, built_warehouse.stdout


@pytest.fixture(scope="module")
def con(build: tuple[Path, str]) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(build[0] / "kzkr.duckdb"), read_only=True) as c:
        yield c


def one(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> tuple[object, ...]:
    rows = con.execute(sql, list(params)).fetchall()
    assert len(rows) == 1, f"expected one row, got {len(rows)}: {sql} {params}"
    return rows[0]


def test_build_prints_progress_and_summary(build: tuple[Path, str]) -> None:
    out = build[1]
    assert "  ingest   raw/paper_table3_kazakhstani_citizens_in_korea.csv" in out
    assert "  dbt      " in out and "  publish  " in out
    assert re.search(
        r"status: dbt tests: \d+ passed, \d+ warned, 0 failed · GX rules: \d+ passed, \d+ warned, 0 failed · claims: \d+",
        out,
    )
    assert f"warehouse: {build[0] / 'kzkr.duckdb'}" in out
    # the progress line counts the dbt tests the status counts (unit and singular tests included)
    status = re.search(r"status: dbt tests: (\d+) passed, (\d+) warned, (\d+) failed", out)
    ran = re.search(
        r"^  dbt      \d+ nodes built, (\d+) tests run \((\d+) of them asset checks\), 0 failed$", out, re.M
    )
    assert status and ran, out[-2000:]
    assert int(ran[1]) == sum(int(n) for n in status.groups()) and 0 < int(ran[2]) <= int(ran[1])
    # every warning is explained: the paper's discrepancies, then the warn-only rules by name
    with duckdb.connect(str(build[0] / "kzkr.duckdb"), read_only=True) as con:
        warned = con.execute(
            "select check_name, coalesce(n_known_discrepancies, 0) > 0 from quality.check_results "
            "where status = 'warned'"
        ).fetchall()
    assert warned, "the real data warns (the paper's discrepancies)"
    for name, is_paper in warned:
        if not is_paper:
            assert f"\n  {name} on " in out.split("warnings of warn-only rules", 1)[1], name
    # and the counts add up: the warned GX rules are the paper's rules plus the warn-only ones
    gx_warned = re.search(r"GX rules: \d+ passed, (\d+) warned", out)
    paper = re.search(r"registered discrepancies \((\d+), in (\d+) rules?\)", out)
    others = re.search(r"warn-only rules, never blocking \((\d+)\)", out)
    assert gx_warned and paper, out[-3000:]
    assert int(gx_warned[1]) == len(warned) == int(paper[2]) + (int(others[1]) if others else 0)
    assert not (build[0] / ".builds").exists() or not any((build[0] / ".builds").iterdir())


def test_contract_tables_exist(con: duckdb.DuckDBPyConnection) -> None:
    contract = {
        "demography.population_by_ethnicity": "year, ethnic_group, population, share_of_total_pct, rank_in_year",
        "demography.korean_diaspora": "year, total_population, korean_population, korean_pct_stated, "
        "korean_pct_computed",
        "migration.kazakhstani_citizens_in_korea": "year, category, sex, count",
        "migration.ethnic_korean_arrivals_f4": "year, sex, count",
        "education.h_university_exchange": "direction, university, year, students",
        "education.h_university_exchange_totals": "direction, year, students_stated, students_summed",
        "education.k_university_exchange": "university, period, students",
        "education.k_university_exchange_totals": "period, students_stated, students_summed",
        "trade.kazakhstan_trade_by_partner": "year, partner_name_ru, partner_name_en, partner_iso3, "
        "is_aggregate, turnover_kusd, exports_kusd, imports_kusd, turnover_share_pct, exports_share_pct, "
        "imports_share_pct, release",
        "trade.kazakhstan_korea_trade": "year, exports_to_korea_kusd, imports_from_korea_kusd, turnover_kusd, "
        "balance_kusd, korea_rank_by_turnover",
        "trade.economic_events": "event_date, event, amount_usd",
    }
    for table, cols in contract.items():
        schema, name = table.split(".")
        have = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                [schema, name],
            ).fetchall()
        }
        assert have, f"{table} is missing"
        needed = {c.strip() for c in cols.split(",")}
        if table.split(".")[1] not in ("h_university_exchange_totals", "k_university_exchange_totals"):
            needed.add("source_ref")
        assert needed <= have, f"{table} lacks {needed - have}"
        nulls = (
            con.execute(f"select count(*) from {table} where source_ref is null").fetchone()
            if ("source_ref" in have)
            else (0,)
        )
        assert nulls == (0,), f"{table} has rows without source_ref"


def test_table1_population(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "select count(*) from demography.population_by_ethnicity") == (110,)  # 11 years x 10
    assert one(
        con,
        "select population from demography.population_by_ethnicity where year = 2010 and ethnic_group = 'Kazakhs'",
    ) == (10292242,)
    assert one(
        con,
        "select population, rank_in_year from demography.population_by_ethnicity "
        "where year = 2020 and ethnic_group = 'Azerbaijanis'",
    ) == (112547, 9)  # behind Turks (113,421), ahead of Koreans (108,551)
    # Koreans: 8th in 2010 (101,151 > Turks 98,162), 10th in 2019 (behind Turks and Azerbaijanis).
    assert one(
        con,
        "select rank_in_year from demography.population_by_ethnicity where year = 2010 and ethnic_group = 'Koreans'",
    ) == (8,)
    assert one(
        con,
        "select rank_in_year from demography.population_by_ethnicity where year = 2019 and ethnic_group = 'Koreans'",
    ) == (10,)
    ref = one(
        con,
        "select source_ref from demography.population_by_ethnicity where year = 2016 and ethnic_group = 'Koreans'",
    )[0]
    assert "Table 1" in str(ref) and "2016" in str(ref) and "Koreans" in str(ref)


def test_table2_diaspora(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "select count(*) from demography.korean_diaspora") == (11,)
    total, korean, stated = one(
        con,
        "select total_population, korean_population, korean_pct_stated from demography.korean_diaspora "
        "where year = 2014",
    )
    assert (total, korean, Decimal(str(stated))) == (17160855, 105414, Decimal("0.61"))
    computed = one(con, "select korean_pct_computed from demography.korean_diaspora where year = 2014")[0]
    assert abs(float(computed) - 105414 / 17160855 * 100) < 1e-3  # type: ignore[arg-type]


def test_table3_long_form_with_dashes(con: duckdb.DuckDBPyConnection) -> None:
    t = "migration.kazakhstani_citizens_in_korea"
    # Every printed cell of Table 3 is a row: 10 years x 4 categories x (total, male, female).
    assert one(con, f"select count(*) from {t}") == (120,)
    count, ref = one(
        con,
        f"select count, source_ref from {t} where year = 2016 and category = 'workers_h2' and sex = 'female'",
    )
    assert count == 1231
    assert "Table 3" in str(ref) and "2016" in str(ref) and "Workers (H-2 visa holders)" in str(ref)
    # A printed "-" is NULL, not 0.
    assert one(
        con, f"select count from {t} where year = 2015 and category = 'arriving_citizens' and sex = 'male'"
    ) == (None,)
    assert one(
        con, f"select count from {t} where year = 2019 and category = 'married_immigrants' and sex = 'total'"
    ) == (None,)
    assert one(con, f"select count(*) from {t} where count = 0") == (0,)
    # The paper's own inconsistency is kept as printed: 2016 M + F = 33,086, total 35,080.
    assert one(
        con, f"select count from {t} where year = 2016 and category = 'arriving_citizens' and sex = 'total'"
    ) == (35080,)
    assert one(
        con,
        f"select count from {t} where year = 2012 and category = 'international_students' and sex = 'total'",
    ) == (360,)
    cats = {r[0] for r in con.execute(f"select distinct category from {t}").fetchall()}
    assert cats == {"arriving_citizens", "international_students", "workers_h2", "married_immigrants"}


def test_table4_f4(con: duckdb.DuckDBPyConnection) -> None:
    t = "migration.ethnic_korean_arrivals_f4"
    assert one(con, f"select count(*) from {t}") == (30,)
    assert one(con, f"select count from {t} where year = 2010 and sex = 'male'") == (191,)
    assert one(con, f"select count from {t} where year = 2019 and sex = 'total'") == (5215,)
    assert one(con, f"select count from {t} where year = 2019 and sex = 'female'") == (None,)


def test_table5_departments(con: duckdb.DuckDBPyConnection) -> None:
    t = "education.turkic_studies_departments"
    assert one(con, f"select count(*) from {t}") == (4,)
    assert one(con, f"select student_number, graduate_number from {t} where row_no = 2") == (160, 291)
    assert one(con, f"select student_number from {t} where row_no = 4") == (None,)


def test_table6_exchange(con: duckdb.DuckDBPyConnection) -> None:
    t = "education.h_university_exchange"
    # 17 inbound + 8 outbound printed cells outside the Total rows.
    assert one(con, f"select count(*) from {t}") == (25,)
    assert one(con, f"select count(*) from {t} where university ilike '%total%'") == (0,)
    # One canonical spelling for Ablai Khan University in both blocks (printed "khan" outbound).
    names = {
        r[0]
        for r in con.execute(
            f"select distinct university from {t} where university ilike '%ablai%'"
        ).fetchall()
    }
    assert len(names) == 1
    assert one(
        con,
        f"select students from {t} where direction = 'outbound' and university ilike '%ablai%' "
        "and year = 2019",
    ) == (8,)
    totals = "education.h_university_exchange_totals"
    assert one(con, f"select count(*) from {totals}") == (10,)
    assert one(
        con,
        f"select students_stated, students_summed from {totals} where direction = 'inbound' and year = 2020",
    ) == (2, 7)


def test_table7_exchange(con: duckdb.DuckDBPyConnection) -> None:
    t = "education.k_university_exchange"
    assert one(con, f"select count(*) from {t}") == (42,)
    assert one(
        con,
        f"select students from {t} where university ilike 'Busan%' and period = '2014-2015 academic year'",
    ) == (None,)
    assert one(
        con, f"select students from {t} where university ilike 'Hankuk%' and period = '2019 fall semester'"
    ) == (7,)
    totals = dict(
        con.execute("select period, students_stated from education.k_university_exchange_totals").fetchall()
    )
    assert totals == {
        "2014-2015 academic year": 29,
        "2017 spring semester": 25,
        "2018 fall semester": 28,
        "2019 fall semester": 32,
    }


def _bureau_korea(raw: Path) -> dict[int, tuple[int, Decimal, Decimal]]:
    """Per year: (release, exports, imports) of the Republic of Korea from the latest release, read
    from every release file of the raw directory the build read."""
    out: dict[int, tuple[int, Decimal, Decimal]] = {}
    for f in TRADE.files(raw):
        with (raw / f.filename).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["name"] != "Республика Корея":
                    continue
                year = int(re.search(r"\d{4}", row["period"]).group())  # type: ignore[union-attr]
                release = int(row["release"])
                if year not in out or release > out[year][0]:
                    out[year] = (release, Decimal(row["exports_kusd"]), Decimal(row["imports_kusd"]))
    return out


def test_korea_trade_latest_release(built_warehouse: BuiltWarehouse, con: duckdb.DuckDBPyConnection) -> None:
    """The bureau's years come from its latest release; the other years from the other sources,
    every year from the first to the last any source covers."""
    expected = _bureau_korea(built_warehouse.raw_dir)
    assert len(expected) >= 2, "the release files carry fewer than two years"
    rows = con.execute(
        "select year, release, exports_to_korea_kusd, imports_from_korea_kusd, balance_kusd, "
        "korea_rank_by_turnover, source_ref, source from trade.kazakhstan_korea_trade order by year"
    ).fetchall()
    bureau = [r for r in rows if r[7] == "bureau_release"]
    assert [r[0] for r in bureau] == sorted(expected)
    years = [r[0] for r in rows]
    assert years == list(range(years[0], years[-1] + 1)) and len(years) > len(bureau)
    for year, release, exp, imp, _bal, _rank, ref, _ in bureau:
        assert (release, exp, imp) == expected[year]
        assert f"release {release}" in ref
    for _, _, exp, imp, bal, rank, _, _ in rows:
        assert bal == exp - imp
        assert 1 <= rank <= 30


def test_trade_partners_mapped(con: duckdb.DuckDBPyConnection) -> None:
    t = "trade.kazakhstan_trade_by_partner"
    # a partner row without ISO code is either an aggregate or UN Comtrade's unallocated row ("Unspecified")
    assert one(
        con,
        f"select count(*) from {t} where not is_aggregate and partner_iso3 is null "
        "and aggregate_kind is distinct from 'unallocated'",
    ) == (0,)
    assert one(con, f"select count(*) from {t} where is_aggregate and partner_iso3 is not null") == (0,)
    assert one(con, f"select distinct partner_iso3 from {t} where partner_name_ru = 'Республика Корея'") == (
        "KOR",
    )
    # One release (one source) per year: no (year, partner) twice, under any spelling.
    assert one(
        con,
        f"select count(*) from (select year, partner_name_ru from {t} where partner_name_ru is not null "
        "group by all having count(*) > 1)",
    ) == (0,)
    assert one(
        con, f"select count(*) from (select year, partner_key from {t} group by all having count(*) > 1)"
    ) == (0,)


def test_economic_events(con: duckdb.DuckDBPyConnection) -> None:
    amount = one(con, "select amount_usd from trade.economic_events where event ilike '%Kookmin%'")[0]
    assert amount == 634_000_000


def test_published_file_is_stamped(build: tuple[Path, str]) -> None:
    with duckdb.connect(str(build[0] / "kzkr.duckdb"), read_only=True) as c:
        build_id, fp = one(c, "select build_id, fingerprint from meta.build_info")
    assert build_id and len(str(fp)) == 64


def build_id_of(path: Path) -> str:
    """Read in a fresh process: DuckDB caches an open database per path within a process, so a
    connection opened here while the module's `con` is open would still see the old file."""
    code = "import duckdb,sys; print(duckdb.connect(sys.argv[1], read_only=True).execute('select build_id from meta.build_info').fetchone()[0])"
    return subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_build_ends_without_warnings_after_its_summary(built_warehouse: BuiltWarehouse) -> None:
    """``kzkr build`` ends promptly after its summary (pipelines.cli.entry); its exit handlers still
    run: nothing is reported leaked or unclosed when the process ends."""
    assert built_warehouse.stdout.rstrip().splitlines()[-1].startswith("warehouse: ")
    for noise in ("leaked", "resource_tracker", "Warning", "Traceback"):
        assert noise not in built_warehouse.stderr, built_warehouse.stderr[-2000:]


def test_unchanged_rebuild_is_skipped_and_force_rebuilds(
    built_warehouse: BuiltWarehouse, warehouse_copy: Path
) -> None:
    wh = warehouse_copy
    env = kzkr_env(built_warehouse.raw_dir, wh)
    before = (wh / "kzkr.duckdb").stat().st_ino
    proc = subprocess.run([KZKR, "build"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "nothing changed" in proc.stdout
    assert (wh / "kzkr.duckdb").stat().st_ino == before
    old_id = build_id_of(wh / "kzkr.duckdb")
    proc = subprocess.run([KZKR, "build", "--force"], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    new_id = build_id_of(wh / "kzkr.duckdb")
    assert new_id != old_id and new_id in proc.stdout
    archived = list((wh / "history").glob("kzkr-*.duckdb"))
    assert any(str(old_id) in p.name for p in archived)


def test_dbt_reuses_its_partial_parse(built_warehouse: BuiltWarehouse) -> None:
    """dbt opens the build file under one stable path (pipelines/transform/project.py), so the parse made when
    the definitions load is reused by `dbt build` instead of the whole project being re-parsed."""
    logs = sorted((built_warehouse.warehouse_dir / "logs").glob("dbt-*.log"))
    assert logs, "the build wrote no dbt log"
    text = logs[-1].read_text(encoding="utf-8")
    assert "Found " in text and " models" in text  # it is dbt's log
    assert "Unable to do partial parsing" not in text, re.findall(r"Unable to do partial parsing.*", text)
