"""The three trade sources: raw copies faithful to what each source published, the SDMX-JSON parser
against an independent reading of the responses, and — on real builds — the published trade
1995–2025 with its source per year, and the reconciliation blocking or only warning when one
UN Comtrade cell is changed. Years, partners and cells come from the data, not from this file."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import jsonschema
import pytest
import yaml
from conftest import REPO, BuiltWarehouse, copy_raw, run_kzkr

from pipelines.ingest.sdmx import parse

RAW = REPO / "raw"
# ../shared/sources beside the clone (or beside the directory of clones)
SHARED = next(
    (p / "shared" / "sources" for p in (REPO.parent, REPO.parent.parent) if (p / "shared").is_dir()), REPO
)
RESPONSES = sorted((RAW / "un_comtrade").glob("*.json"))
PROCESSED = sorted((RAW / "bureau_processed").glob("*.csv"))


def _sidecar(path: Path) -> dict[str, object]:
    stem = path.name.removesuffix(path.suffix)
    return yaml.safe_load(path.with_name(stem + ".meta.yml").read_text(encoding="utf-8"))


def _shared(name: str) -> Path | None:
    hits = sorted(SHARED.glob(f"*/{name}")) if SHARED.is_dir() else []
    return hits[0] if hits else None


@pytest.mark.parametrize("path", RESPONSES + PROCESSED, ids=lambda p: p.name)
def test_raw_copy_is_byte_identical_to_the_source(path: Path) -> None:
    source = _shared(path.name)
    if source is None:
        pytest.skip(f"shared source of {path.name} not available")
    assert path.read_bytes() == source.read_bytes()


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: p.name)
def test_response_sidecar_validates_and_records_the_sha256(path: Path) -> None:
    schema = json.loads((RAW / "_schema" / "api_response.schema.json").read_text(encoding="utf-8"))
    meta = _sidecar(path)
    jsonschema.validate(meta, schema)
    assert meta["file"] == path.name
    assert meta["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = _shared(path.name.removesuffix(".json") + ".manifest.json")
    if manifest is not None:  # the download manifest beside the shared copy
        m = json.loads(manifest.read_text(encoding="utf-8"))
        assert (meta["api_url"], meta["downloaded_at"]) == (m["source_url"], m["downloaded_at"])


@pytest.mark.parametrize("path", PROCESSED, ids=lambda p: p.name)
def test_processed_sidecar_validates(path: Path) -> None:
    schema = json.loads((RAW / "_schema" / "sidecar.schema.json").read_text(encoding="utf-8"))
    meta = _sidecar(path)
    jsonschema.validate(meta, schema)
    assert meta["file"] == path.name


def _naive(path: Path) -> dict[tuple[str, int], Decimal]:
    """The response read independently of pipelines.ingest.sdmx: (partner id, year) -> value."""
    doc = json.loads(path.read_bytes(), parse_float=Decimal)
    dims = doc["structure"]["dimensions"]
    at = [d["id"] for d in dims["series"]].index("PARTNER")
    partners = dims["series"][at]["values"]
    years = next(d for d in dims["observation"] if d["id"] == "TIME_PERIOD")["values"]
    out = {}
    for key, series in doc["dataSets"][0]["series"].items():
        pid = partners[int(key.split(":")[at])]["id"]
        for index, obs in series["observations"].items():
            out[(pid, int(years[int(index)]["id"]))] = obs[0]
    return out


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: p.name)
def test_parser_maps_observations_through_the_files_own_time_periods(path: Path) -> None:
    response = parse(path.read_bytes(), path.name)
    got = {(o.partner_code, o.year): o.value for o in response.observations}
    assert got == _naive(path)
    assert len(got) == len(response.observations)  # no (partner, year) twice
    assert list(response.years) != sorted(response.years)  # the case the mapping exists for


def test_the_responses_order_their_years_differently() -> None:
    orders = {tuple(parse(p.read_bytes(), p.name).years) for p in RESPONSES}
    assert len(RESPONSES) >= 2 and len(orders) == len(RESPONSES)


# ------------------------------------------------------------------------------------- on real builds


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.e2e
def test_published_trade_covers_every_source_year_from_the_preferred_source(
    built_warehouse: BuiltWarehouse,
) -> None:
    db = built_warehouse.published
    naive = {}
    for path in RESPONSES:
        flow = "exports" if "export" in path.name else "imports"
        naive.update({(pid, year, flow): v for (pid, year), v in _naive(path).items()})
    years = {y for (_, y, _) in naive}
    published = dict(
        _rows(db, "select year, any_value(source) from trade.kazakhstan_trade_by_partner group by 1")
    )
    assert years <= set(published)
    # where UN Comtrade is the source, Korea's published numbers are the response's own
    korea = _rows(
        db,
        "select year, exports_to_korea_kusd, imports_from_korea_kusd, source from trade.kazakhstan_korea_trade",
    )
    assert {y for y, *_ in korea} == set(published)
    comtrade_years = [(y, x, m) for y, x, m, s in korea if s == "un_comtrade"]
    assert comtrade_years
    for year, exports, imports in comtrade_years:
        assert abs(exports - naive[("KOR", year, "exports")]) < Decimal("0.00001")
        assert abs(imports - naive[("KOR", year, "imports")]) < Decimal("0.00001")
    # every year with a bureau source is published from it, never from UN Comtrade
    best = dict(
        _rows(
            db,
            "select year, arg_min(source, source_preference) from trade.trade_by_partner_all_sources group by 1",
        )
    )
    assert published == best


def _cell(db: Path, where: str) -> tuple[int, str, str, str, str, str]:
    row = _rows(
        db,
        "select year, partner_key, flow, source_a, source_ref_a, source_ref_b from trade.source_reconciliation "
        f"where source_b = 'un_comtrade' and value_a_kusd > 1000 and {where} "
        "order by value_a_kusd desc limit 1",
    )
    assert row, where
    return row[0]  # type: ignore[return-value]


def _change_comtrade_cell(raw: Path, source_ref: str, factor: str) -> None:
    """Multiply the UN Comtrade observation a source_ref names by ``factor`` in the raw response,
    and record the new bytes' sha256 in its sidecar (as a new download would)."""
    file = next(p for p in RESPONSES if f"raw/un_comtrade/{p.name}" in source_ref)
    key = source_ref.split('series["')[1].split('"]')[0]
    index = source_ref.split('observations["')[1].split('"]')[0]
    path = raw / "un_comtrade" / file.name
    text = path.read_text(encoding="utf-8")
    start = text.index(f'"{key}":')
    at = text.index(f'"{index}":[', start) + len(f'"{index}":[')
    end = text.index(",", at)
    new = Decimal(text[at:end]) * Decimal(factor)
    path.write_text(text[:at] + str(new) + text[end:], encoding="utf-8")
    side = path.with_name(path.name.removesuffix(".json") + ".meta.yml")
    meta = side.read_text(encoding="utf-8")
    old = next(ln for ln in meta.splitlines() if ln.startswith("sha256: "))
    side.write_text(meta.replace(old, f"sha256: {hashlib.sha256(path.read_bytes()).hexdigest()}"), "utf-8")


@pytest.mark.e2e
def test_a_changed_comtrade_cell_where_sources_agree_blocks_publishing(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    # a cell the sources agree on and no register entry covers
    year, partner, flow, source_a, ref_a, ref_b = _cell(
        built_warehouse.published, "status = 'agrees' and known_gap_ids is null"
    )
    raw = copy_raw(tmp_path / "raw")
    _change_comtrade_cell(raw, ref_b, "1.01")
    proc = run_kzkr("build", raw_dir=raw, warehouse_dir=tmp_path / "wh")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert not (tmp_path / "wh" / "kzkr.duckdb").exists()
    assert "trade_sources_agree" in out
    assert f"{year}, {partner}, {flow}: {source_a} vs un_comtrade" in out, out[-3000:]
    assert ref_a in out and ref_b in out, out[-3000:]  # the cell, in both sources


@pytest.mark.e2e
def test_a_changed_comtrade_cell_inside_a_registered_gap_only_warns(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    year, partner, flow, _, _, ref_b = _cell(built_warehouse.published, "status = 'known_gap'")
    raw = copy_raw(tmp_path / "raw")
    _change_comtrade_cell(raw, ref_b, "0.5")
    wh = tmp_path / "wh"
    proc = run_kzkr("build", raw_dir=raw, warehouse_dir=wh)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    checks = dict(
        _rows(
            wh / "kzkr.duckdb",
            "select check_name, status from quality.check_results "
            "where check_name in ('trade_sources_agree', 'trade_source_gaps_registered')",
        )
    )
    assert checks == {"trade_sources_agree": "passed", "trade_source_gaps_registered": "warned"}
    status = _rows(
        wh / "kzkr.duckdb",
        "select status from trade.source_reconciliation "
        f"where year = {year} and partner_key = '{partner}' and flow = '{flow}' and source_b = 'un_comtrade'",
    )
    assert {s for (s,) in status} == {"known_gap"}
