"""The conformed partner dimension (`reference.partners`, built from the seeds `partner_attributes`,
`partner_names` and `partner_wits_codes`) against ISO 3166 as maintained by pycountry, and every
trade source's partner labels against the dimension. No network, no warehouse build."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pycountry
import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "dbt_project" / "seeds"
RAW = REPO / "raw"


def _rows(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


PARTNERS = {r["partner_key"]: r for r in _rows("partner_attributes.csv")}
NAMES = _rows("partner_names.csv")
WITS = _rows("partner_wits_codes.csv")


def _iso(code: str) -> tuple[object | None, bool]:
    """The pycountry record of an alpha-3 code, and whether the code is withdrawn (ISO 3166-3)."""
    current = pycountry.countries.get(alpha_3=code)
    if current is not None:
        return current, False
    return pycountry.historic_countries.get(alpha_3=code), True


def test_partner_keys_are_unique() -> None:
    keys = [r["partner_key"] for r in _rows("partner_attributes.csv")]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    "row", [r for r in PARTNERS.values() if r["partner_iso3"]], ids=lambda r: r["partner_key"]
)
def test_iso_code_and_name_are_iso_3166(row: dict[str, str]) -> None:
    country, withdrawn = _iso(row["partner_iso3"])
    assert country is not None, (
        f"{row['partner_iso3']} is not an ISO 3166 alpha-3 code (current or withdrawn)"
    )
    assert row["partner_name_en"] == country.name  # type: ignore[attr-defined]
    assert row["partner_key"] == row["partner_iso3"]
    assert row["is_aggregate"] == "false"
    if withdrawn:  # a withdrawn code is only right for a partner that no longer exists
        assert getattr(country, "withdrawal_date", None), row


def test_aggregates_have_no_iso_code_and_a_kind() -> None:
    for row in PARTNERS.values():
        if row["is_aggregate"] == "true":
            assert not row["partner_iso3"] and row["aggregate_kind"], row
        elif not row["partner_iso3"]:
            assert row["aggregate_kind"] == "unallocated", row


def test_unions_are_subsets() -> None:
    eaeu = {k for k, r in PARTNERS.items() if r["is_eaeu"] == "true"}
    cis = {k for k, r in PARTNERS.items() if r["is_cis"] == "true"}
    eu = {k for k, r in PARTNERS.items() if r["is_eu"] == "true"}
    assert eaeu and eu and eaeu <= cis and not (cis & eu)


def test_every_bureau_spelling_maps_onto_the_dimension() -> None:
    for row in NAMES:
        key = row["iso3"] or row["name_en"]
        assert key in PARTNERS, (
            f"partner_names: {row['name_ru']!r} -> {key!r} is not in partner_attributes.csv"
        )
        partner = PARTNERS[key]
        assert (row["name_en"], row["is_aggregate"]) == (
            partner["partner_name_en"],
            partner["is_aggregate"],
        ), row
        assert row["aggregate_kind"] == partner["aggregate_kind"], row


def test_every_wits_code_maps_and_legacy_codes_are_not_current_iso() -> None:
    codes = [r["wits_code"] for r in WITS]
    assert len(codes) == len(set(codes))
    for row in WITS:
        assert row["partner_key"] in PARTNERS, row
        partner = PARTNERS[row["partner_key"]]
        current, _ = _iso(row["wits_code"])
        if row["is_legacy_code"] == "true":
            assert row["wits_code"] != partner["partner_iso3"] and row["note"], row
            assert pycountry.countries.get(alpha_3=row["wits_code"]) is None, row
        elif partner["partner_iso3"]:
            assert row["wits_code"] == partner["partner_iso3"], row
        else:
            assert current is None, f"{row['wits_code']} is an ISO code but maps to a non-country"


def test_every_partner_of_every_source_is_in_the_dimension() -> None:
    """What the ingest enforces file by file, checked here over the files in raw/."""
    wits = {r["wits_code"] for r in WITS}
    spellings = {r["name_ru"]: r["iso3"] for r in NAMES}
    responses = sorted((RAW / "un_comtrade").glob("*.json"))
    processed = sorted((RAW / "bureau_processed").glob("*.csv"))
    assert responses and processed
    for path in responses:
        doc = json.loads(path.read_bytes())
        dims = {d["id"]: d for d in doc["structure"]["dimensions"]["series"]}
        assert {v["id"] for v in dims["PARTNER"]["values"]} <= wits, path.name
    for path in processed:
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                assert spellings.get(row["item_name"]) == row["item_code"], (path.name, row)
