"""Property-based tests of the ingest's parsing and validation (``pipelines.ingest.validate_and_load``)
against an in-memory DuckDB: generated tables, each written with its minimal sidecar into a fresh
temporary raw directory."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.ingest.specs import TABLE3, TABLE4, TABLE5, RawFile
from pipelines.ingest.validate import COUNT_RE, RawInputError, validate_and_load

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COUNT_COLUMNS = ("total", "male", "female")  # TABLE4's count columns: "-" and blank allowed


def _csv_text(rows: Sequence[Sequence[str]], newline: str = "\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    return buf.getvalue()


@contextmanager
def raw_dir_with(spec: RawFile, text: str | bytes) -> Iterator[Path]:
    """A temporary raw directory holding ``spec``'s file with ``text`` and a sidecar that matches the spec."""
    with tempfile.TemporaryDirectory() as d:
        raw = Path(d)
        data = text.encode("utf-8") if isinstance(text, str) else text
        (raw / spec.filename).write_bytes(data)
        meta = {"file": spec.filename, "columns": {c: f"column {c}" for c in spec.header}}
        (raw / (spec.filename.removesuffix(".csv") + ".meta.yml")).write_text(
            yaml.safe_dump(meta, sort_keys=False), encoding="utf-8"
        )
        yield raw


def load(spec: RawFile, text: str | bytes) -> list[tuple[object, ...]]:
    """Validate and load; return every loaded row (all columns) in file order."""
    with raw_dir_with(spec, text) as raw, duckdb.connect() as con:
        res = validate_and_load(con, spec, raw)
        rows = con.execute(f"select * from raw.{spec.name} order by _source_line").fetchall()
        assert res.rows == len(rows)
        return rows


def reject(spec: RawFile, text: str | bytes) -> RawInputError:
    with raw_dir_with(spec, text) as raw, duckdb.connect() as con, pytest.raises(RawInputError) as err:
        validate_and_load(con, spec, raw)
    return err.value


# ---- strategies ----------------------------------------------------------------------------------------------

counts = st.integers(min_value=0, max_value=10**15)


@st.composite
def printed_counts(draw: st.DrawFn) -> tuple[str, int | None]:
    """A well-formed count cell of TABLE4 and the integer it stands for (None for "-" and blank)."""
    kind = draw(st.sampled_from(["plain", "commas", "commas", "dash", "blank"]))
    if kind == "dash":
        return "-", None
    if kind == "blank":
        return "", None
    n = draw(counts)
    return (f"{n:,}" if kind == "commas" else str(n)), n


def is_count(s: str) -> bool:
    return re.fullmatch(COUNT_RE, s) is not None


@st.composite
def near_miss_counts(draw: st.DrawFn) -> str:
    """A well-formed count with one edit: a character inserted, deleted or replaced."""
    s = f"{draw(counts):,}" if draw(st.booleans()) else str(draw(counts))
    i = draw(st.integers(min_value=0, max_value=len(s)))
    ch = draw(st.sampled_from([*" ,.-+_'0a١\t", "\u00a0", "\u202f"]))
    op = draw(st.sampled_from(["insert", "delete", "replace"]))
    if op == "insert":
        return s[:i] + ch + s[i:]
    if op == "delete" and len(s) > 1:
        return s[:i] + s[i + 1 :]
    return s[:i] + ch + s[i + 1 :]


bad_counts = st.one_of(
    near_miss_counts(),
    st.text(alphabet=st.sampled_from(list("0123456789,.- +eE'\"xà")), min_size=1, max_size=12),
    st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\r\n\x00"), min_size=1),
).filter(lambda s: not is_count(s) and s != "-")


def table4_rows(draw: st.DrawFn, n: int) -> tuple[list[int], list[list[tuple[str, int | None]]]]:
    years = draw(st.lists(st.integers(1990, 2030), min_size=n, max_size=n, unique=True))
    cells = [[draw(printed_counts()) for _ in COUNT_COLUMNS] for _ in years]
    return years, cells


# ---- properties ----------------------------------------------------------------------------------------------


@SETTINGS
@given(data=st.data(), n=st.integers(min_value=1, max_value=25), crlf=st.booleans())
def test_well_formed_counts_round_trip(data: st.DataObject, n: int, crlf: bool) -> None:
    years, cells = table4_rows(data.draw, n)
    rows = [TABLE4.header] + [[str(y), *(c[0] for c in row)] for y, row in zip(years, cells, strict=True)]
    loaded = load(TABLE4, _csv_text(rows, "\r\n" if crlf else "\n"))
    assert len(loaded) == n
    for i, (got, year, row) in enumerate(zip(loaded, years, cells, strict=True)):
        # year, (total, total_printed), (male, male_printed), (female, female_printed), _source_file, line
        assert got[0] == year
        assert [got[1], got[3], got[5]] == [c[1] for c in row]
        assert [got[2], got[4], got[6]] == [c[0] for c in row], "the printed text is kept as printed"
        assert got[-2] == f"raw/{TABLE4.filename}"
        assert got[-1] == i + 2, "line numbers: the header is line 1"


@SETTINGS
@given(data=st.data(), n=st.integers(min_value=1, max_value=12), bad=bad_counts)
def test_malformed_count_is_rejected_at_its_cell(data: st.DataObject, n: int, bad: str) -> None:
    years, cells = table4_rows(data.draw, n)
    row = data.draw(st.integers(0, n - 1), label="row")
    col = data.draw(st.integers(0, len(COUNT_COLUMNS) - 1), label="column")
    table = [[str(y), *(c[0] for c in r)] for y, r in zip(years, cells, strict=True)]
    table[row][col + 1] = bad
    err = reject(TABLE4, _csv_text([TABLE4.header, *table]))
    assert err.file == f"raw/{TABLE4.filename}"
    assert err.line == row + 2, str(err)
    assert err.column == f'"{COUNT_COLUMNS[col]}" ({col + 2})', str(err)
    assert "expected a count as printed" in err.detail
    assert repr(bad) in err.detail


@SETTINGS
@given(header=st.permutations(TABLE3.header).filter(lambda h: h != TABLE3.header))
def test_permuted_header_is_rejected_naming_a_column(header: list[str]) -> None:
    with (Path(__file__).resolve().parents[1] / "raw" / TABLE3.filename).open(encoding="utf-8") as fh:
        body = fh.read().split("\n", 1)[1]
    err = reject(TABLE3, ",".join(header) + "\n" + body)
    assert err.line == 1
    assert err.column in TABLE3.header
    first_wrong = next(g for g, e in zip(header, TABLE3.header, strict=True) if g != e)
    assert err.column == first_wrong
    assert "columns out of order" in err.detail


@SETTINGS
@given(
    drop=st.sets(st.sampled_from(TABLE4.header), min_size=1, max_size=3),
    extra=st.lists(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), max_size=2, unique=True),
)
def test_missing_or_extra_columns_are_named(drop: set[str], extra: list[str]) -> None:
    extra = [e for e in extra if e not in TABLE4.header]
    header = [h for h in TABLE4.header if h not in drop] + extra
    err = reject(TABLE4, ",".join(header) + "\n" + ",".join(["2010"] * len(header)) + "\n")
    assert err.line == 1
    assert err.column in drop | set(extra), str(err)
    named = drop if err.column in drop else set(extra)
    assert all(c in err.detail for c in named), str(err)


text_cells = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\r\n\x00"), min_size=1, max_size=40
)


@SETTINGS
@given(rows=st.lists(st.tuples(text_cells, text_cells, text_cells), min_size=1, max_size=15))
def test_text_cells_are_stored_verbatim(rows: list[tuple[str, str, str]]) -> None:
    table = [TABLE5.header] + [
        [str(i + 1), "2004", dept, uni, area, "120", ""] for i, (dept, uni, area) in enumerate(rows)
    ]
    loaded = load(TABLE5, _csv_text(table))
    assert [(r[2], r[3], r[4]) for r in loaded] == rows
    assert [r[-1] for r in loaded] == list(range(2, len(rows) + 2))


@SETTINGS
@given(endings=st.lists(st.booleans(), min_size=2, max_size=12))
def test_mixed_line_endings_are_rejected_at_the_first_odd_line(endings: list[bool]) -> None:
    lines = [",".join(TABLE4.header)] + [f"{2000 + i},{i},-," for i in range(len(endings) - 1)]
    text = "".join(line + ("\r\n" if crlf else "\n") for line, crlf in zip(lines, endings, strict=True))
    odd = [i + 1 for i, e in enumerate(endings) if e != endings[0]]
    if not odd:
        assert len(load(TABLE4, text)) == len(endings) - 1
        return
    err = reject(TABLE4, text)
    assert err.line == odd[0], str(err)
    assert "mixed line endings" in err.detail
