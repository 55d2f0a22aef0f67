"""Raw columns are declared once, in ``pipelines/ingest/specs.py``; every other place that names them is
compared with that declaration here, for every raw file present (``KZKR_RAW_DIR``, default raw/):

- the CSV's header and its sidecar's ``columns`` (the ingest refuses a file where either differs);
- the dbt source table in ``dbt_project/models/staging/_sources.yml``: exactly the columns the ingest
  loads into ``raw.<table>``, in order, with the asset key of its ingest asset;
- the table the ingest really creates (loaded into an in-memory DuckDB).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import RAW, REPO

from pipelines.ingest.specs import RAW_FILES, RawFile
from pipelines.ingest.validate import connect, load_table, sidecar_path

SOURCES_YML = REPO / "dbt_project" / "models" / "staging" / "_sources.yml"
SPECS = {s.name: s for s in RAW_FILES}
FILES = [f for s in RAW_FILES for f in s.files(RAW)]


def _source_tables() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(SOURCES_YML.read_text(encoding="utf-8"))
    (raw,) = [s for s in doc["sources"] if s["name"] == "raw"]
    return {t["name"]: t for t in raw["tables"]}


def test_every_raw_table_is_a_dbt_source_and_back() -> None:
    assert sorted(_source_tables()) == sorted(SPECS)


@pytest.mark.parametrize("spec", RAW_FILES, ids=lambda s: s.name)
def test_dbt_source_lists_exactly_the_loaded_columns(spec: RawFile) -> None:
    table = _source_tables()[spec.name]
    declared = [c["name"] for c in table.get("columns") or []]
    assert declared == [c.lower() for c in spec.loaded_columns], (
        f"_sources.yml table {spec.name}: columns differ from pipelines/ingest/specs.py"
    )
    assert all(c.get("description") for c in table["columns"]), f"{spec.name}: a column without description"
    assert table["meta"]["dagster"]["asset_key"] == ["raw", spec.name]


# CSV files have a header and sidecar columns; an API response (JSON) has neither: its structure is
# checked by the ingest's SDMX parser and its sidecar by tests/test_raw_sidecars.py.
CSV_FILES = [f for f in FILES if f.format == "csv"]


@pytest.mark.parametrize("file", CSV_FILES, ids=lambda f: f.filename)
def test_header_and_sidecar_columns_are_the_declared_ones(file: RawFile) -> None:
    path = RAW / file.filename
    with path.open(encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh)) == file.header
    sidecar = yaml.safe_load(sidecar_path(path).read_text(encoding="utf-8"))
    assert list(sidecar["columns"]) == file.header
    assert sidecar["file"] == Path(file.filename).name


@pytest.mark.parametrize("spec", RAW_FILES, ids=lambda s: s.name)
def test_loaded_table_has_the_declared_columns(spec: RawFile) -> None:
    with connect() as con:
        results = load_table(con, spec, RAW)
        cols = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_schema = 'raw' "
                "and table_name = ? order by ordinal_position",
                [spec.name],
            ).fetchall()
        ]
    assert cols == spec.loaded_columns
    assert [r.file for r in results] == [f"raw/{f.filename}" for f in spec.files(RAW)]
