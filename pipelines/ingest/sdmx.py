"""Parse an SDMX-JSON data response (World Bank WITS, UN Comtrade) without an SDMX library.

A WITS response holds one dataset: ``structure.dimensions.series`` lists the series dimensions
(FREQ, REPORTER, PARTNER, PRODUCTCODE, INDICATOR), each with its ``values``; a series key such as
``"0:0:101:0:0"`` gives, per dimension in that order, the index of its value.
``structure.dimensions.observation`` lists TIME_PERIOD's values **in the file's own order** (not
year order, and different in every response), and ``dataSets[0].series[key].observations[i]`` is
``[value, attribute index, …]`` where ``i`` indexes that TIME_PERIOD list.

Everything is checked, nothing assumed: the dimensions are found by id (not by position), every
index is range-checked, numbers keep their printed digits (``Decimal``), duplicate JSON keys are
refused. A malformed or truncated response raises :class:`SdmxInputError` naming the file and the
JSON path of the offending element (exit code 2, like every other bad raw file).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pipelines.ingest.validate import RawInputError

SERIES_DIMENSIONS = ("FREQ", "REPORTER", "PARTNER", "PRODUCTCODE", "INDICATOR")
YEAR_RE = re.compile(r"^[0-9]{4}$")
MAX_SCALE = 10  # decimals kept in raw (DECIMAL(28, 10)); WITS prints at most 6


class SdmxInputError(RawInputError):
    """Bad SDMX-JSON: names the file and the JSON path of the offending element."""

    def __init__(self, file: str, json_path: str, message: str, line: int | None = None):
        super().__init__(file, message, line=line)
        self.json_path = json_path
        self.column = f"JSON path {json_path}"
        where = file + (f", line {line}" if line is not None else "")
        self.args = (f"{where}, JSON path {json_path}: {message}",)


@dataclass(frozen=True)
class Observation:
    partner_index: int
    partner_code: str
    partner_name: str
    year: int
    value: Decimal
    value_printed: str
    series_key: str
    observation_index: str

    @property
    def json_path(self) -> str:
        return f'$.dataSets[0].series["{self.series_key}"].observations["{self.observation_index}"]'


@dataclass(frozen=True)
class SdmxResponse:
    reporter: str
    indicator: str
    indicator_name: str
    product: str
    frequency: str
    years: tuple[int, ...]  # TIME_PERIOD in the file's own order
    partners: tuple[tuple[str, str], ...]  # (id, name) in the file's order
    observations: tuple[Observation, ...]
    partner_dimension: int  # position of PARTNER in structure.dimensions.series

    def partner_path(self, index: int) -> str:
        """JSON path of a partner value."""
        return f"$.structure.dimensions.series[{self.partner_dimension}].values[{index}].id"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


class _DuplicateKey(ValueError):
    pass


def _decode(data: bytes, label: str) -> Any:
    if not data.strip():
        raise SdmxInputError(label, "$", "the file is empty (expected an SDMX-JSON object)")
    if data.startswith(b"\xef\xbb\xbf"):
        raise SdmxInputError(label, "$", "starts with a UTF-8 byte-order mark (BOM)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"is not valid UTF-8 (byte 0x{data[exc.start]:02X} at offset {exc.start})"
        raise SdmxInputError(label, "$", msg) from None
    try:
        return json.loads(text, parse_float=Decimal, parse_int=Decimal, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        msg = f"duplicate JSON key {exc.args[0]!r} (a response has unique keys)"
        raise SdmxInputError(label, "$", msg) from None
    except json.JSONDecodeError as exc:
        hint = " (truncated response?)" if exc.pos >= len(text.rstrip()) else ""
        raise SdmxInputError(
            label, "$", f"is not valid JSON: {exc.msg} at column {exc.colno}{hint}", line=exc.lineno
        ) from None


def _get(node: Any, key: str | int, path: str, label: str, kind: type | tuple[type, ...]) -> Any:
    sub = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"
    if isinstance(key, int):
        if not isinstance(node, list) or key >= len(node):
            raise SdmxInputError(label, sub, "missing (the list is shorter)")
        value = node[key]
    else:
        if not isinstance(node, dict) or key not in node:
            raise SdmxInputError(label, sub, "missing")
        value = node[key]
    if not isinstance(value, kind):
        names = " or ".join(t.__name__ for t in (kind if isinstance(kind, tuple) else (kind,)))
        raise SdmxInputError(label, sub, f"expected {_json_kind(names)}, found {_describe(value)}")
    return value


def _json_kind(names: str) -> str:
    return names.replace("dict", "an object").replace("list", "an array").replace("str", "a string")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Decimal):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return "an array" if isinstance(value, list) else "an object"


def _dimension_values(dim: dict[str, Any], path: str, label: str) -> list[tuple[str, str]]:
    values = _get(dim, "values", path, label, list)
    if not values:
        raise SdmxInputError(label, f"{path}.values", "empty: a dimension needs at least one value")
    out = []
    for i, v in enumerate(values):
        vp = f"{path}.values[{i}]"
        ident = _get(v, "id", vp, label, str)
        name = v.get("name") if isinstance(v, dict) else None
        out.append((ident, name if isinstance(name, str) else ident))
    ids = [i for i, _ in out]
    dup = next((i for i in ids if ids.count(i) > 1), None)
    if dup is not None:
        raise SdmxInputError(
            label, f"{path}.values[{ids.index(dup, ids.index(dup) + 1)}].id", f"duplicate id {dup!r}"
        )
    return out


def _series_dimensions(
    structure: dict[str, Any], label: str
) -> tuple[dict[str, int], list[list[tuple[str, str]]]]:
    dims = _get(
        _get(structure, "dimensions", "$.structure", label, dict),
        "series",
        "$.structure.dimensions",
        label,
        list,
    )
    position: dict[str, int] = {}
    values: list[list[tuple[str, str]]] = []
    for n, dim in enumerate(dims):
        path = f"$.structure.dimensions.series[{n}]"
        position[_get(dim, "id", path, label, str)] = n
        values.append(_dimension_values(dim, path, label))
    missing = [d for d in SERIES_DIMENSIONS if d not in position]
    if missing:
        raise SdmxInputError(
            label, "$.structure.dimensions.series", f"lacks the dimension(s) {', '.join(missing)}"
        )
    return position, values


def _time_periods(structure: dict[str, Any], label: str) -> list[int]:
    dims = _get(structure["dimensions"], "observation", "$.structure.dimensions", label, list)
    for n, dim in enumerate(dims):
        path = f"$.structure.dimensions.observation[{n}]"
        if _get(dim, "id", path, label, str) != "TIME_PERIOD":
            continue
        years = []
        for i, (ident, _) in enumerate(_dimension_values(dim, path, label)):
            if not YEAR_RE.match(ident):
                raise SdmxInputError(label, f"{path}.values[{i}].id", f"{ident!r} is not a year (YYYY)")
            years.append(int(ident))
        return years
    raise SdmxInputError(label, "$.structure.dimensions.observation", "has no TIME_PERIOD dimension")


def _single(values: list[tuple[str, str]], dim: str, pos: int, label: str) -> tuple[str, str]:
    if len(values) != 1:
        raise SdmxInputError(
            label,
            f"$.structure.dimensions.series[{pos}].values",
            f"{dim} has {len(values)} values; a response of one {dim.lower()} is expected",
        )
    return values[0]


def _series_key(key: str, sizes: list[int], label: str) -> list[int]:
    path = f'$.dataSets[0].series["{key}"]'
    parts = key.split(":")
    if len(parts) != len(sizes) or not all(p.isdigit() for p in parts):
        raise SdmxInputError(
            label, path, f"series key {key!r} is not {len(sizes)} value indices joined by ':'"
        )
    idx = [int(p) for p in parts]
    for n, (i, size) in enumerate(zip(idx, sizes, strict=True)):
        if i >= size:
            raise SdmxInputError(
                label, path, f"index {i} of series dimension {n} is out of range (it has {size} values)"
            )
    return idx


def _value(obs: Any, path: str, label: str, n_attr: int) -> Decimal:
    if not isinstance(obs, list) or not obs:
        raise SdmxInputError(label, path, f"expected [value, attribute index], found {_describe(obs)}")
    value = obs[0]
    if not isinstance(value, Decimal) or not value.is_finite():
        raise SdmxInputError(
            label, f"{path}[0]", f"expected a number (thousand USD), found {_describe(value)}"
        )
    if value < 0:
        raise SdmxInputError(label, f"{path}[0]", f"negative trade value {value}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_SCALE:
        raise SdmxInputError(label, f"{path}[0]", f"{value} has more than {MAX_SCALE} decimals")
    for a, attr in enumerate(obs[1:], start=1):
        if attr is not None and not (isinstance(attr, Decimal) and attr == int(attr) and 0 <= attr < n_attr):
            raise SdmxInputError(
                label,
                f"{path}[{a}]",
                f"attribute index {_describe(attr)} out of range ({n_attr} attribute values)",
            )
    return value


def _attribute_count(structure: dict[str, Any]) -> int:
    attrs = (structure.get("attributes") or {}).get("observation") or []
    return max((len(a.get("values") or []) for a in attrs if isinstance(a, dict)), default=0) or 1


def parse(data: bytes, label: str) -> SdmxResponse:
    """Parse and check one SDMX-JSON response; raises :class:`SdmxInputError`."""
    doc = _decode(data, label)
    if not isinstance(doc, dict):
        raise SdmxInputError(label, "$", f"expected a JSON object, found {_describe(doc)}")
    structure = _get(doc, "structure", "$", label, dict)
    position, values = _series_dimensions(structure, label)
    years = _time_periods(structure, label)
    dup = next((y for y in years if years.count(y) > 1), None)
    if dup is not None:
        raise SdmxInputError(label, "$.structure.dimensions.observation", f"TIME_PERIOD lists {dup} twice")
    single = {
        d: _single(values[position[d]], d, position[d], label) for d in SERIES_DIMENSIONS if d != "PARTNER"
    }
    datasets = _get(doc, "dataSets", "$", label, list)
    series = _get(_get(datasets, 0, "$.dataSets", label, dict), "series", "$.dataSets[0]", label, dict)
    if not series:
        raise SdmxInputError(label, "$.dataSets[0].series", "empty: the response has no observations")
    sizes = [len(v) for v in values]
    n_attr = _attribute_count(structure)
    partners = values[position["PARTNER"]]
    out: list[Observation] = []
    for key, body in series.items():
        idx = _series_key(key, sizes, label)
        path = f'$.dataSets[0].series["{key}"]'
        observations = _get(body, "observations", path, label, dict)
        code, name = partners[idx[position["PARTNER"]]]
        for oi, obs in observations.items():
            opath = f'{path}.observations["{oi}"]'
            if not oi.isdigit() or int(oi) >= len(years):
                raise SdmxInputError(
                    label,
                    opath,
                    f"observation index {oi!r} is not an index of TIME_PERIOD ({len(years)} values)",
                )
            value = _value(obs, opath, label, n_attr)
            out.append(
                Observation(idx[position["PARTNER"]], code, name, years[int(oi)], value, str(value), key, oi)
            )
    response = SdmxResponse(
        reporter=single["REPORTER"][0],
        indicator=single["INDICATOR"][0],
        indicator_name=single["INDICATOR"][1],
        product=single["PRODUCTCODE"][0],
        frequency=single["FREQ"][0],
        years=tuple(years),
        partners=tuple(partners),
        observations=tuple(out),
        partner_dimension=position["PARTNER"],
    )
    return response
