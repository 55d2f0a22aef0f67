"""Every expectation of every quality rule can fail: for each one, break the real marts in a copy of the
session's reference build (one SQL mutation) and see that expectation fail and its rule fail with ERROR.

The mutations are keyed ``<rule>#<expectation index>`` (the order in expectations/suites/*.json);
``test_every_expectation_has_a_mutation`` keeps this table complete when a suite grows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import BuiltWarehouse

from pipelines.audit.quality.gate import FAILED, WARNED, run_gate
from pipelines.audit.quality.spec import Catalog, load_catalog

T1 = "demography.population_by_ethnicity"
T2 = "demography.korean_diaspora"
T3 = "migration.kazakhstani_citizens_in_korea"
T4 = "migration.ethnic_korean_arrivals_f4"
H = "education.h_university_exchange"
HT = "education.h_university_exchange_totals"
K = "education.k_university_exchange"
KT = "education.k_university_exchange_totals"
T5 = "education.turkic_studies_departments"
P = "trade.kazakhstan_trade_by_partner"
KR = "trade.kazakhstan_korea_trade"
R = "trade.source_reconciliation"
pytestmark = pytest.mark.e2e  # mutates copies of the session's reference build

PERIOD_ENUM = (
    "enum('2014-2015 academic year', '2017 spring semester', '2018 fall semester', '2019 fall semester')"
)


def retype(table: str, column: str, expr: str) -> str:
    """Replace a column by an expression of another type (the column keeps its name and place)."""
    return f"create or replace table {table} as select * replace ({expr} as {column}) from {table}"


def dup(table: str, where: str) -> str:
    return f"insert into {table} select * from {table} where {where}"


def upd(table: str, assignment: str, where: str) -> str:
    return f"update {table} set {assignment} where {where}"


def first(table: str, where: str) -> str:
    """A condition selecting the first row (by rowid) of ``table`` that meets ``where``."""
    return f"rowid = (select min(rowid) from {table} where {where})"


T3_CELL = "year = 2013 and category = 'married_immigrants' and sex = 'male'"
T4_CELL = "year = 2013 and sex = 'male'"
H_CELL = "direction = 'inbound' and year = 2018 and university like 'Suleyman%'"
K_CELL = "university = 'Ajou University' and period = '2019 fall semester'"
# A year the bureau's releases carry twice (the second year of the trade tables), read from the data:
# the trade mutations name no year.
BUREAU = "source = 'bureau_release'"  # the rows the bureau's identity and coverage rules judge
YEAR = f"(select min(year) + 1 from {KR} where {BUREAU})"
P_FRA = f"year = {YEAR} and partner_iso3 = 'FRA'"
P_TOTAL = f"year = {YEAR} and partner_name_en = 'Total'"

MUTATIONS: dict[str, tuple[str, ...]] = {
    # ---------------------------------------------------------------- demography: Table 2
    "t2_korean_pct_rounded_as_printed#0": (upd(T2, "korean_pct_stated = 0.65", "year = 2014"),),
    "t2_korean_pct_computed_correct#0": (
        upd(T2, "korean_pct_computed = korean_pct_computed + 0.001", "year = 2011"),
    ),
    "t1_korean_row_matches_t2#0": (
        upd(T1, "population = population + 1", "year = 2015 and ethnic_group = 'Koreans'"),
    ),
    "t2_years_complete#0": (upd(T2, "year = 2030", "year = 2020"),),
    "t2_years_complete#1": (f"delete from {T2} where year = 2020",),
    "t2_grain_unique#0": (dup(T2, "year = 2012"),),
    "t2_not_null#0": (upd(T2, "total_population = null", "year = 2013"),),
    "t2_not_null#1": (upd(T2, "korean_population = null", "year = 2013"),),
    "t2_not_null#2": (upd(T2, "korean_pct_stated = null", "year = 2013"),),
    "t2_not_null#3": (upd(T2, "source_ref = null", "year = 2013"),),
    "t2_ranges#0": (upd(T2, "total_population = 500000", "year = 2016"),),
    "t2_ranges#1": (upd(T2, "korean_population = -5", "year = 2016"),),
    "t2_ranges#2": (upd(T2, "korean_population = 20000000", "year = 2016"),),
    "t2_ranges#3": (upd(T2, "korean_pct_stated = 150", "year = 2016"),),
    "t2_types#0": (retype(T2, "year", "cast(year as double)"),),
    "t2_types#1": (retype(T2, "total_population", "cast(total_population as double)"),),
    "t2_types#2": (retype(T2, "korean_population", "cast(korean_population as double)"),),
    "t2_types#3": (retype(T2, "korean_pct_stated", "cast(korean_pct_stated as varchar)"),),
    "t2_types#4": (retype(T2, "korean_pct_computed", "cast(korean_pct_computed as varchar)"),),
    "t2_types#5": (retype(T2, "source_ref", "length(source_ref)"),),
    # ---------------------------------------------------------------- demography: Table 1
    "t1_cells_complete#0": (f"delete from {T1} where year = 2010 and ethnic_group = 'Turks'",),
    "t1_cells_complete#1": (upd(T1, "year = 2031", "year = 2010"),),
    "t1_cells_complete#2": (upd(T1, "ethnic_group = 'Martians'", "ethnic_group = 'Turks'"),),
    "t1_grain_unique#0": (dup(T1, "year = 2011 and ethnic_group = 'Tatars'"),),
    "t1_not_null#0": (upd(T1, "population = null", "year = 2012 and ethnic_group = 'Uzbeks'"),),
    "t1_not_null#1": (upd(T1, "source_ref = null", "year = 2012 and ethnic_group = 'Uzbeks'"),),
    "t1_ranges#0": (upd(T1, "population = -1", "year = 2013 and ethnic_group = 'Germans'"),),
    "t1_ranges#1": (upd(T1, "population = 20000000", "year = 2010 and ethnic_group = 'Kazakhs'"),),
    "t1_ranges#2": (upd(T1, "rank_in_year = 11", "year = 2013 and ethnic_group = 'Germans'"),),
    "t1_ranges#3": (upd(T1, "share_of_total_pct = 101", "year = 2013 and ethnic_group = 'Germans'"),),
    "t1_share_of_total_correct#0": (
        upd(
            T1, "share_of_total_pct = share_of_total_pct + 0.01", "year = 2014 and ethnic_group = 'Russians'"
        ),
    ),
    "t1_types#0": (retype(T1, "year", "cast(year as double)"),),
    "t1_types#1": (retype(T1, "ethnic_group", "length(ethnic_group)"),),
    "t1_types#2": (retype(T1, "population", "cast(population as double)"),),
    "t1_types#3": (retype(T1, "share_of_total_pct", "cast(share_of_total_pct as varchar)"),),
    "t1_types#4": (retype(T1, "rank_in_year", "cast(rank_in_year as double)"),),
    "t1_types#5": (retype(T1, "source_ref", "length(source_ref)"),),
    "t1_groups_within_total#0": (
        upd(T1, "population = population + 1000000", "year = 2010 and ethnic_group = 'Kazakhs'"),
    ),
    # ---------------------------------------------------------------- migration: Table 3
    "t3_sex_sum_equals_total#0": (
        upd(T3, "count = count + 1", "year = 2010 and category = 'arriving_citizens' and sex = 'male'"),
    ),
    "t3_sex_split_in_pairs#0": (
        upd(T3, "count = null", "year = 2010 and category = 'workers_h2' and sex = 'female'"),
    ),
    "t3_cells_complete#0": (f"delete from {T3} where {T3_CELL}",),
    "t3_cells_complete#1": (upd(T3, "year = 2025", "year = 2010"),),
    "t3_cells_complete#2": (upd(T3, "category = 'tourists'", "category = 'married_immigrants'"),),
    "t3_cells_complete#3": (upd(T3, "sex = 'unknown'", "sex = 'female' and year = 2011"),),
    "t3_grain_unique#0": (dup(T3, "year = 2014 and category = 'workers_h2' and sex = 'total'"),),
    "t3_not_null#0": (upd(T3, "source_ref = null", T3_CELL),),
    "t3_not_null#1": (upd(T3, "category = null", T3_CELL),),
    "t3_not_null#2": (upd(T3, "sex = null", T3_CELL),),
    "t3_ranges#0": (upd(T3, "count = -1", T3_CELL),),
    "t3_types#0": (retype(T3, "year", "cast(year as double)"),),
    "t3_types#1": (retype(T3, "category", "length(category)"),),
    "t3_types#2": (retype(T3, "sex", "length(sex)"),),
    "t3_types#3": (retype(T3, "count", "cast(count as double)"),),
    "t3_types#4": (retype(T3, "source_ref", "length(source_ref)"),),
    "t3_nulls_exactly_printed_dashes#0": (
        upd(T3, "count = 0", "year = 2015 and category = 'arriving_citizens' and sex = 'male'"),
    ),
    # ---------------------------------------------------------------- migration: Table 4
    "t4_sex_sum_equals_total#0": (upd(T4, "count = count + 1", "year = 2012 and sex = 'male'"),),
    "t4_sex_split_in_pairs#0": (upd(T4, "count = null", "year = 2012 and sex = 'female'"),),
    "t4_cells_complete#0": (f"delete from {T4} where {T4_CELL}",),
    "t4_cells_complete#1": (upd(T4, "year = 2025", "year = 2010"),),
    "t4_cells_complete#2": (upd(T4, "sex = 'unknown'", "sex = 'female' and year = 2011"),),
    "t4_grain_unique#0": (dup(T4, "year = 2014 and sex = 'total'"),),
    "t4_not_null#0": (upd(T4, "source_ref = null", T4_CELL),),
    "t4_not_null#1": (upd(T4, "sex = null", T4_CELL),),
    "t4_ranges#0": (upd(T4, "count = -1", T4_CELL),),
    "t4_types#0": (retype(T4, "year", "cast(year as double)"),),
    "t4_types#1": (retype(T4, "sex", "length(sex)"),),
    "t4_types#2": (retype(T4, "count", "cast(count as double)"),),
    "t4_types#3": (retype(T4, "source_ref", "length(source_ref)"),),
    "t4_nulls_exactly_printed_dashes#0": (upd(T4, "count = 0", "year = 2019 and sex = 'male'"),),
    # ---------------------------------------------------------------- education: Table 6
    "t6_total_row_equals_sum#0": (upd(HT, "students_stated = 26", "direction = 'inbound' and year = 2016"),),
    "t6_summed_matches_cells#0": (upd(H, "students = students + 1", H_CELL),),
    "t6_totals_complete#0": (f"delete from {HT} where direction = 'outbound' and year = 2019",),
    "t6_totals_complete#1": (upd(HT, "direction = 'sideways'", "direction = 'outbound'"),),
    "t6_totals_complete#2": (upd(HT, "year = 2031", "year = 2016"),),
    "t6_totals_grain_unique#0": (dup(HT, "direction = 'inbound' and year = 2017"),),
    "t6_totals_not_null#0": (upd(HT, "students_stated = null", "direction = 'inbound' and year = 2017"),),
    "t6_totals_not_null#1": (upd(HT, "students_summed = null", "direction = 'inbound' and year = 2017"),),
    "t6_totals_types#0": (retype(HT, "direction", "cast(direction as enum('inbound', 'outbound'))"),),
    "t6_totals_types#1": (retype(HT, "year", "cast(year as double)"),),
    "t6_totals_types#2": (retype(HT, "students_stated", "cast(students_stated as double)"),),
    "t6_totals_types#3": (retype(HT, "students_summed", "cast(students_summed as double)"),),
    "t6_cells_complete#0": (f"delete from {H} where {H_CELL}",),
    "t6_cells_complete#1": (upd(H, "direction = 'sideways'", H_CELL),),
    "t6_cells_complete#2": (upd(H, "year = 2031", H_CELL),),
    "t6_grain_unique#0": (dup(H, H_CELL),),
    "t6_not_null#0": (upd(H, "university = null", H_CELL),),
    "t6_not_null#1": (upd(H, "students = null", H_CELL),),
    "t6_not_null#2": (upd(H, "source_ref = null", H_CELL),),
    "t6_ranges#0": (upd(H, "students = 5000", H_CELL),),
    "t6_types#0": (retype(H, "direction", "cast(direction as enum('inbound', 'outbound'))"),),
    "t6_types#1": (retype(H, "university", "length(university)"),),
    "t6_types#2": (retype(H, "year", "cast(year as double)"),),
    "t6_types#3": (retype(H, "students", "cast(students as double)"),),
    "t6_types#4": (retype(H, "source_ref", "length(source_ref)"),),
    # ---------------------------------------------------------------- education: Table 7
    "t7_total_row_equals_sum#0": (upd(KT, "students_stated = 30", "period = '2014-2015 academic year'"),),
    "t7_summed_matches_cells#0": (upd(K, "students = students + 1", K_CELL),),
    "t7_totals_complete#0": (f"delete from {KT} where period = '2018 fall semester'",),
    "t7_totals_complete#1": (upd(KT, "period = '2020 spring semester'", "period = '2018 fall semester'"),),
    "t7_totals_grain_unique#0": (dup(KT, "period = '2017 spring semester'"),),
    "t7_totals_not_null#0": (upd(KT, "students_stated = null", "period = '2017 spring semester'"),),
    "t7_totals_not_null#1": (upd(KT, "students_summed = null", "period = '2017 spring semester'"),),
    "t7_totals_types#0": (retype(KT, "period", f"cast(period as {PERIOD_ENUM})"),),
    "t7_totals_types#1": (retype(KT, "students_stated", "cast(students_stated as double)"),),
    "t7_totals_types#2": (retype(KT, "students_summed", "cast(students_summed as double)"),),
    "t7_cells_complete#0": (f"delete from {K} where {K_CELL}",),
    "t7_cells_complete#1": (upd(K, "period = '2020 spring semester'", K_CELL),),
    "t7_grain_unique#0": (dup(K, K_CELL),),
    "t7_not_null#0": (upd(K, "university = null", K_CELL),),
    "t7_not_null#1": (upd(K, "source_ref = null", K_CELL),),
    "t7_ranges#0": (upd(K, "students = 5000", K_CELL),),
    "t7_types#0": (retype(K, "university", "length(university)"),),
    "t7_types#1": (retype(K, "period", f"cast(period as {PERIOD_ENUM})"),),
    "t7_types#2": (retype(K, "students", "cast(students as double)"),),
    "t7_types#3": (retype(K, "source_ref", "length(source_ref)"),),
    "t7_nulls_exactly_printed_dashes#0": (upd(K, "students = 0", "students is null"),),
    # ---------------------------------------------------------------- education: Table 5
    "t5_complete#0": (f"delete from {T5} where university = 'Kangnam University'",),
    "t5_not_null#0": (upd(T5, "university = null", "university = 'Kangnam University'"),),
    "t5_not_null#1": (upd(T5, "source_ref = null", "university = 'Kangnam University'"),),
    "t5_ranges#0": (upd(T5, "student_number = 20000", "student_number = 160"),),
    # ---------------------------------------------------------------- trade: partner table
    "trade_turnover_equals_exports_plus_imports#0": (upd(P, "turnover_kusd = turnover_kusd + 10", P_FRA),),
    "trade_countries_sum_to_total#0": (
        upd(P, "turnover_kusd = turnover_kusd + 100, exports_kusd = exports_kusd + 100", P_TOTAL),
    ),
    "trade_countries_sum_to_total#1": (
        upd(P, "exports_kusd = exports_kusd + 100, imports_kusd = imports_kusd - 100", P_TOTAL),
    ),
    "trade_countries_sum_to_total#2": (
        upd(P, "imports_kusd = imports_kusd + 100, exports_kusd = exports_kusd - 100", P_TOTAL),
    ),
    "trade_shares_match_values#0": (upd(P, "turnover_share_pct = turnover_share_pct + 0.01", P_FRA),),
    "trade_shares_match_values#1": (upd(P, "exports_share_pct = exports_share_pct + 0.01", P_FRA),),
    "trade_shares_match_values#2": (upd(P, "imports_share_pct = imports_share_pct + 0.01", P_FRA),),
    "trade_one_total_row_per_year#0": (
        f"insert into {P} select * replace ('Итого' as partner_name_ru) from {P} where {P_TOTAL}",
    ),
    "trade_grain_unique#0": (dup(P, P_FRA),),
    "trade_grain_unique#1": (upd(P, "partner_iso3 = 'DEU'", P_FRA),),
    "trade_partners_mapped#0": (upd(P, "partner_name_en = null", P_FRA),),
    "trade_partners_mapped#1": (upd(P, "partner_iso3 = null", P_FRA),),
    "trade_partners_mapped#2": (
        upd(P, "partner_iso3 = 'XXX'", f"year = {YEAR} and partner_name_en = 'Asia'"),
    ),
    "trade_not_null#0": (upd(P, "source_ref = null", P_FRA),),
    "trade_latest_release_only#0": (upd(P, "release = release + 1", P_FRA),),
    "trade_latest_release_only#1": (upd(P, "release = year - 1", f"year = {YEAR}"),),
    "trade_latest_release_only#2": (upd(P, "release = year + 5", f"year = {YEAR}"),),
    "trade_ranges#0": (upd(P, "exports_kusd = -1", P_FRA),),
    "trade_ranges#1": (upd(P, "turnover_share_pct = -0.5", P_FRA),),
    "trade_ranges#2": (upd(P, "turnover_share_pct = 150", P_FRA),),
    "trade_ranges#3": (
        f"delete from {P} where year = {YEAR} and not is_aggregate and partner_iso3 <> 'KOR' and row_no > 40",
    ),
    # coverage is the years of the release files: drop the first year, or add one no file carries
    "trade_years_complete#0": (f"delete from {P} where year = (select min(year) from {P} where {BUREAU})",),
    "trade_years_complete#1": (
        upd(
            P, f"year = (select max(year) + 1 from {P})", f"year = (select max(year) from {P} where {BUREAU})"
        ),
    ),
    "trade_korea_present#0": (f"delete from {P} where year = {YEAR} and partner_iso3 = 'KOR'",),
    "trade_types#0": (retype(P, "year", "cast(year as double)"),),
    "trade_types#1": (retype(P, "partner_name_ru", "length(partner_name_ru)"),),
    "trade_types#2": (retype(P, "partner_name_en", "length(partner_name_en)"),),
    "trade_types#3": (retype(P, "partner_iso3", "length(partner_iso3)"),),
    "trade_types#4": (retype(P, "is_aggregate", "cast(is_aggregate as integer)"),),
    "trade_types#5": (retype(P, "turnover_kusd", "cast(turnover_kusd as varchar)"),),
    "trade_types#6": (retype(P, "exports_kusd", "cast(exports_kusd as varchar)"),),
    "trade_types#7": (retype(P, "imports_kusd", "cast(imports_kusd as varchar)"),),
    "trade_types#8": (retype(P, "turnover_share_pct", "cast(turnover_share_pct as varchar)"),),
    "trade_types#9": (retype(P, "exports_share_pct", "cast(exports_share_pct as varchar)"),),
    "trade_types#10": (retype(P, "imports_share_pct", "cast(imports_share_pct as varchar)"),),
    "trade_types#11": (retype(P, "release", "cast(release as double)"),),
    "trade_types#12": (retype(P, "source_ref", "length(source_ref)"),),
    # ---------------------------------------------------------------- trade: Korea
    "korea_trade_turnover_identity#0": (upd(KR, "turnover_kusd = turnover_kusd + 10", f"year = {YEAR}"),),
    "korea_trade_balance#0": (upd(KR, "balance_kusd = balance_kusd + 1", f"year = {YEAR}"),),
    "korea_trade_matches_partner_table#0": (
        upd(P, "exports_kusd = exports_kusd + 1", f"year = {YEAR} and partner_iso3 = 'KOR'"),
    ),
    "korea_trade_complete#0": (f"delete from {KR} where year = (select min(year) from {KR} where {BUREAU})",),
    "korea_trade_complete#1": (
        upd(
            KR,
            f"year = (select max(year) + 1 from {KR})",
            f"year = (select max(year) from {KR} where {BUREAU})",
        ),
    ),
    "korea_trade_grain_unique#0": (dup(KR, f"year = {YEAR}"),),
    "korea_trade_not_null#0": (upd(KR, "exports_to_korea_kusd = null", f"year = {YEAR}"),),
    "korea_trade_not_null#1": (upd(KR, "imports_from_korea_kusd = null", f"year = {YEAR}"),),
    "korea_trade_not_null#2": (upd(KR, "turnover_kusd = null", f"year = {YEAR}"),),
    "korea_trade_not_null#3": (upd(KR, "source_ref = null", f"year = {YEAR}"),),
    "korea_trade_ranges#0": (upd(KR, "exports_to_korea_kusd = -1", f"year = {YEAR}"),),
    "korea_trade_ranges#1": (upd(KR, "imports_from_korea_kusd = -1", f"year = {YEAR}"),),
    "korea_trade_ranges#2": (upd(KR, "korea_rank_by_turnover = 0", f"year = {YEAR}"),),
    "korea_trade_types#0": (retype(KR, "year", "cast(year as double)"),),
    "korea_trade_types#1": (retype(KR, "exports_to_korea_kusd", "cast(exports_to_korea_kusd as bigint)"),),
    "korea_trade_types#2": (
        retype(KR, "imports_from_korea_kusd", "cast(imports_from_korea_kusd as bigint)"),
    ),
    "korea_trade_types#3": (retype(KR, "turnover_kusd", "cast(turnover_kusd as bigint)"),),
    "korea_trade_types#4": (retype(KR, "balance_kusd", "cast(balance_kusd as bigint)"),),
    "korea_trade_types#5": (retype(KR, "korea_rank_by_turnover", "cast(korea_rank_by_turnover as double)"),),
    "korea_trade_types#6": (retype(KR, "source_ref", "length(source_ref)"),),
    # ---------------------------------------------------------------- trade: the sources reconciled
    "trade_sources_agree#0": (upd(R, "status = 'differs'", first(R, "status = 'agrees'")),),
    "trade_reconciliation_consistent#0": (upd(R, "status = 'agrees'", first(R, "status = 'known_gap'")),),
    "trade_reconciliation_consistent#1": (
        f"delete from {R} where (year, source_b) = (select (min(year), any_value(source_b)) from {R}"
        " where source_a = 'bureau_release' and source_b = 'bureau_processed')",
    ),
    "trade_source_gaps_registered#0": (
        upd(R, "status = 'known_gap', known_gap_ids = 'x'", first(R, "status = 'agrees'")),
    ),
    "trade_source_gaps_registered#1": (
        upd(
            R,
            "status = 'agrees'",
            "contains(known_gap_ids, (select min(gap_id) from reference.known_source_gaps))",
        ),
    ),
    "trade_source_preferred#0": (
        upd(
            P, "source = 'un_comtrade'", f"year = (select max(year) from {P} where source = 'bureau_release')"
        ),
    ),
    "trade_source_preferred#1": (f"delete from {P} where year = (select min(year) from {P})",),
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def marts_db(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only reference copy of the session build's published file (marts included)."""
    dest = tmp_path_factory.mktemp("quality_marts") / "marts.duckdb"
    shutil.copy2(built_warehouse.published, dest)
    return dest


def test_every_expectation_has_a_mutation(catalog: Catalog) -> None:
    keys = {e.key for r in catalog.rules.values() for e in r.expectations}
    assert sorted(keys - MUTATIONS.keys()) == [], "expectations without a mutation test"
    assert sorted(MUTATIONS.keys() - keys) == [], "mutations for expectations that no longer exist"


def test_reference_build_passes_every_batch_without_error(marts_db: Path, catalog: Catalog) -> None:
    outcome = run_gate(marts_db, run_id="reference", catalog=catalog)
    assert outcome.count(FAILED) == 0, [r.summary for r in outcome.results if r.status == FAILED]


@pytest.mark.parametrize("key", sorted(MUTATIONS))
def test_mutation_makes_expectation_fail(key: str, marts_db: Path, catalog: Catalog, tmp_path: Path) -> None:
    rule_id, index = key.split("#")
    rule = catalog.rules[rule_id]
    db = tmp_path / "mutated.duckdb"
    shutil.copy2(marts_db, db)
    with duckdb.connect(str(db)) as con:
        for statement in MUTATIONS[key]:
            con.execute(statement)
    outcome = run_gate(db, run_id="mutation", catalog=catalog, batches={rule.batch})
    result = next(r for r in outcome.results if r.rule.id == rule_id)
    target = result.expectations[int(index)]
    assert target.exception is None or "batch query failed" not in target.exception, (
        f"the mutation broke the batch query instead of the data: {target.exception}"
    )
    assert not target.success, (
        f"{key} ({target.spec.type} {target.spec.kwargs}) still passes: {target.observed}"
    )
    if rule.warn_only:  # reports, never blocks
        assert result.status == WARNED and result.severity == "WARN", result.summary
    else:
        assert result.status == FAILED and result.severity == "ERROR", result.summary
