"""Provenance sidecars of the raw directory (``KZKR_RAW_DIR``, default raw/): every raw CSV, also in a
folder such as ``bureau/``, has a ``<name>.meta.yml`` that validates against
``raw/_schema/sidecar.schema.json`` and describes exactly the CSV's columns; each CSV's header is the one
declared in ``pipelines.ingest.specs``; the quotes of the economic events occur verbatim in the paper
text; each bureau release file is byte for byte that release's rows of the shared source. No network.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import RAW, REPO

from pipelines.ingest.specs import ECONOMIC_EVENTS, RAW_FILES, TRADE, RawFile

SCHEMA_PATH = RAW / "_schema" / "sidecar.schema.json"
SHARED = Path(__file__).resolve().parents[2] / "shared"
PAPER_DIR = SHARED / "paper"
BUREAU_SOURCE = SHARED / "sources" / "kz-foreign-trade" / "foreign_trade_by_partner.csv"

SPECS: dict[str, RawFile] = {f.filename: f for spec in RAW_FILES for f in spec.files(RAW)}
CSV_FILES: list[Path] = sorted(RAW.rglob("*.csv"))
RELEASE_FILES = {f.filename for f in TRADE.files(RAW)}


def _rel(path: Path) -> str:
    return path.relative_to(RAW).as_posix()


def _sidecar_path(csv_path: Path) -> Path:
    return csv_path.with_name(csv_path.stem + ".meta.yml")


def _load_sidecar(csv_path: Path) -> dict[str, Any]:
    data = yaml.safe_load(_sidecar_path(csv_path).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{_sidecar_path(csv_path).name} is not a mapping"
    return data


def _header(csv_path: Path) -> list[str]:
    with csv_path.open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(loaded)
    return loaded


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema)


def test_every_spec_file_is_present() -> None:
    present = {_rel(p) for p in RAW.rglob("*") if p.is_file()}  # CSVs and API responses
    missing = sorted(set(SPECS) - present)
    assert not missing, f"raw files declared in pipelines.ingest.specs but absent from raw/: {missing}"
    assert RELEASE_FILES, f"no bureau release file {TRADE.label}"
    assert all(f.release is not None for f in TRADE.files(RAW)), "a release file's name gives no release"


def test_every_csv_is_declared_in_specs() -> None:
    undeclared = sorted(_rel(p) for p in CSV_FILES if _rel(p) not in SPECS)
    assert not undeclared, f"CSV files in raw/ without a RawFile in pipelines.ingest.specs: {undeclared}"


@pytest.mark.parametrize("csv_path", CSV_FILES, ids=lambda p: p.name)
def test_csv_has_sidecar(csv_path: Path) -> None:
    assert _sidecar_path(csv_path).is_file(), f"missing sidecar {_sidecar_path(csv_path).name}"


@pytest.mark.parametrize("csv_path", CSV_FILES, ids=lambda p: p.name)
def test_sidecar_validates(csv_path: Path, validator: jsonschema.Draft202012Validator) -> None:
    errors = sorted(validator.iter_errors(_load_sidecar(csv_path)), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.mark.parametrize("csv_path", CSV_FILES, ids=lambda p: p.name)
def test_sidecar_names_its_csv(csv_path: Path) -> None:
    assert _load_sidecar(csv_path)["file"] == csv_path.name


@pytest.mark.parametrize("csv_path", CSV_FILES, ids=lambda p: p.name)
def test_sidecar_columns_equal_csv_header(csv_path: Path) -> None:
    columns = _load_sidecar(csv_path)["columns"]
    assert list(columns) == _header(csv_path)


@pytest.mark.parametrize("csv_path", CSV_FILES, ids=lambda p: p.name)
def test_sidecar_units_and_ambiguous_cells_name_real_columns(csv_path: Path) -> None:
    sidecar = _load_sidecar(csv_path)
    header = set(_header(csv_path))
    assert set(sidecar["units"]) <= header
    assert {cell["column"] for cell in sidecar["ambiguous_cells"]} <= header


@pytest.mark.parametrize("csv_path", CSV_FILES, ids=lambda p: p.name)
def test_csv_header_matches_specs(csv_path: Path) -> None:
    spec = SPECS.get(_rel(csv_path))
    assert spec is not None, f"{_rel(csv_path)} is not declared in pipelines.ingest.specs"
    assert _header(csv_path) == spec.header


@pytest.mark.parametrize(
    "csv_path",
    [p for p in CSV_FILES if _rel(p) in SPECS and SPECS[_rel(p)].group == "paper"],
    ids=lambda p: p.name,
)
def test_paper_csv_format(csv_path: Path) -> None:
    data = csv_path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM"
    assert b"\r" not in data, "line endings must be \\n"
    assert data.endswith(b"\n"), "must end in a newline"
    data.decode("utf-8")


def test_missing_required_field_fails_validation(
    validator: jsonschema.Draft202012Validator, schema: dict[str, Any]
) -> None:
    sidecar = _load_sidecar(RAW / ECONOMIC_EVENTS.filename)
    assert validator.is_valid(sidecar)
    for field in schema["required"]:
        broken = copy.deepcopy(sidecar)
        del broken[field]
        assert not validator.is_valid(broken), f"a sidecar without {field!r} validated"


def test_unknown_field_fails_validation(validator: jsonschema.Draft202012Validator) -> None:
    sidecar = _load_sidecar(RAW / ECONOMIC_EVENTS.filename)
    sidecar["not_a_field"] = "x"
    assert not validator.is_valid(sidecar)


def test_economic_event_quotes_are_verbatim() -> None:
    papers = sorted(PAPER_DIR.glob("*.txt")) if PAPER_DIR.is_dir() else []
    if not papers:
        pytest.skip(f"paper text not available at {PAPER_DIR}")
    text = "\n".join(p.read_text(encoding="utf-8") for p in papers)
    with (RAW / ECONOMIC_EVENTS.filename).open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows
    for row in rows:
        assert "\n" not in row["quote"], row["event_id"]
        assert row["quote"] in text, f"quote of {row['event_id']} is not verbatim in the paper text"
        for field in ("date_as_stated", "amount_as_stated"):
            if row[field]:
                assert row[field] in row["quote"], f"{field} of {row['event_id']} is not in its quote"
    ids = [row["event_id"] for row in rows]
    assert len(ids) == len(set(ids)), "event_id values are not unique"


def _source_releases() -> dict[int, bytes]:
    """The shared source split by release: its header and the release's rows, bytes as they are."""
    lines = BUREAU_SOURCE.read_bytes().splitlines(keepends=True)
    out: dict[int, list[bytes]] = {}
    for line in lines[1:]:
        out.setdefault(int(line.split(b",", 1)[0]), [lines[0]]).append(line)
    return {release: b"".join(part) for release, part in out.items()}


def test_bureau_release_files_are_byte_identical_to_source() -> None:
    """Every release of the shared source has its file in raw/bureau/, byte for byte (CRLF included),
    and its sidecar names the source's release file. (A release the source lacks is not this test's
    business: see tests/test_add_release.py.)"""
    if not BUREAU_SOURCE.is_file():
        pytest.skip(f"bureau source not available at {BUREAU_SOURCE}")
    releases = _source_releases()
    assert releases
    for release, data in releases.items():
        path = RAW / TRADE.for_release(release).filename
        assert path.is_file(), f"release {release} of {BUREAU_SOURCE.name} has no file {path}"
        assert path.read_bytes() == data, f"{path.name} differs from release {release}'s rows of the source"
        side = _load_sidecar(path)
        source_file = (REPO / side["source_file"]).resolve()
        assert source_file == (BUREAU_SOURCE.parent / "xls" / f"kz_{release}.xls").resolve()
        assert source_file.is_file(), source_file
        assert str(release) in side["title"] and BUREAU_SOURCE.name in side["notes"]
