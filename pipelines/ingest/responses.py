"""API responses in raw/ (``format = "sdmx_json"`` specs): checked against their provenance
sidecar (present, names the file, records the sha256 of the bytes as received), parsed by
:mod:`pipelines.ingest.sdmx`, every partner code mapped onto the partner dimension, and loaded as
``raw.<name>``: one row per observation, the value as printed (``DECIMAL(28, 10)`` plus its text)
and the JSON path it was read from."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from pipelines.ingest.partners import wits_codes
from pipelines.ingest.sdmx import MAX_SCALE, SdmxInputError, SdmxResponse, parse
from pipelines.ingest.specs import RESPONSE_COLUMNS, RawFile
from pipelines.ingest.validate import LoadResult, RawInputError, resolve_raw_path, sidecar_path

SIDECAR_REQUIRED = ("file", "api_url", "downloaded_at", "provider", "license", "units", "sha256")


def _sidecar(spec: RawFile, path: Path, label: str) -> dict[str, Any]:
    side = sidecar_path(path)
    side_label = str(Path(label).with_name(side.name))
    if not side.exists():
        raise RawInputError(label, f"provenance sidecar missing: expected {side_label}")
    try:
        meta = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RawInputError(
            side_label, f"is not valid YAML: {exc}", mark.line + 1 if mark else None
        ) from None
    if not isinstance(meta, dict):
        raise RawInputError(side_label, "is not a mapping")
    missing = [k for k in SIDECAR_REQUIRED if not meta.get(k)]
    if missing:
        raise RawInputError(
            side_label, f"lacks {', '.join(missing)} (see raw/_schema/api_response.schema.json)"
        )
    if meta["file"] != path.name:
        raise RawInputError(side_label, f"its 'file' is {meta['file']!r}, expected {path.name!r}")
    return meta


def precheck_response(spec: RawFile, raw_dir: Path) -> None:
    """Cheap checks before a build: the response is present, inside raw/, not empty, has its sidecar."""
    label = f"raw/{spec.filename}"
    path = resolve_raw_path(raw_dir, spec.filename)
    if path.stat().st_size == 0:
        raise SdmxInputError(label, "$", "the file is empty (expected an SDMX-JSON object)")
    _sidecar(spec, path, label)


def _check_response(spec: RawFile, response: SdmxResponse, label: str) -> None:
    if response.indicator != spec.indicator:
        pos = "$.structure.dimensions.series"
        raise SdmxInputError(
            label, pos, f"indicator is {response.indicator!r}, expected {spec.indicator!r} for {spec.name}"
        )
    known = wits_codes()
    for i, (code, name) in enumerate(response.partners):
        if code not in known:
            raise SdmxInputError(
                label,
                response.partner_path(i),
                f"unknown partner {code!r} ({name}): add it to dbt_project/seeds/partner_wits_codes.csv "
                "(partner_key of dbt_project/seeds/partner_attributes.csv; legacy codes mapped)",
            )


def load_response(
    con: duckdb.DuckDBPyConnection, spec: RawFile, raw_dir: Path, *, schema: str = "raw"
) -> LoadResult:
    """Validate one SDMX-JSON response and (re)create ``<schema>.<spec.name>``, one row per observation."""
    label = f"raw/{spec.filename}"
    path = resolve_raw_path(raw_dir, spec.filename)
    meta = _sidecar(spec, path, label)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if sha != meta["sha256"]:
        raise RawInputError(
            label,
            f"sha256 is {sha}, but its sidecar records {meta['sha256']}: the response is not the one "
            "downloaded (a new download needs a new sidecar: downloaded_at, sha256)",
        )
    response = parse(data, label)
    _check_response(spec, response, label)
    obs = response.observations
    n = len(obs)
    # one column per RESPONSE_COLUMNS entry, scanned by DuckDB as a frame (executemany inserted row by
    # row: ~1.5 ms a row); value_kusd is the printed text, cast exactly to DECIMAL by the insert
    frame = pd.DataFrame(
        {
            "reporter": [response.reporter] * n,
            "indicator": [response.indicator] * n,
            "indicator_name": [response.indicator_name] * n,
            "product": [response.product] * n,
            "partner_index": pd.array([o.partner_index for o in obs], dtype="Int32"),
            "partner_code": [o.partner_code for o in obs],
            "partner_name": [o.partner_name for o in obs],
            "year": pd.array([o.year for o in obs], dtype="Int32"),
            "value_kusd": [o.value_printed for o in obs],
            "value_printed": [o.value_printed for o in obs],
            "series_key": [o.series_key for o in obs],
            "observation_index": [o.observation_index for o in obs],
            "json_path": [o.json_path for o in obs],
            "_source_file": [label] * n,
        }
    )
    if tuple(frame.columns) != RESPONSE_COLUMNS:  # the spec's column list is the table's
        raise AssertionError(f"response columns {tuple(frame.columns)} != {RESPONSE_COLUMNS}")
    con.execute(f"create schema if not exists {schema}")
    types = {"partner_index": "integer", "year": "integer", "value_kusd": f"decimal(28, {MAX_SCALE})"}
    columns = ", ".join(f"{c} {types.get(c, 'varchar')}" for c in RESPONSE_COLUMNS)
    con.execute(f"create or replace table {schema}.{spec.name} ({columns})")
    con.register("_response_frame", frame)
    try:
        con.execute(f"insert into {schema}.{spec.name} select * from _response_frame")
    finally:
        con.unregister("_response_frame")
    return LoadResult(spec.name, label, n, sha)
