"""Bad input never reaches the published warehouse.

A corpus of broken copies of raw/: each case damages one thing, runs ``kzkr build`` against a
temporary warehouse that already holds a published build, and checks that

- the exit code is 2 (bad input) — or 1 for data that parses but fails a blocking data check;
- the message names the file, the line and the column where there is one, and what was expected;
- the published warehouse is byte-identical afterwards (sha256) and no build file is left over;
- nothing under the raw directory was modified (one hash of the whole tree before and after).

The results are written to ``docs/bad_input_cases.md`` (generated; do not edit by hand) by the last
test of this module when the whole corpus ran.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import (
    REPO,
    BuiltWarehouse,
    copy_warehouse,
    run_kzkr,
    sha256_file,
    sha256_tree,
)

from pipelines.ingest.specs import TRADE as TRADE_SPEC

T1 = "paper_table1_population_by_ethnicity.csv"
T2 = "paper_table2_korean_diaspora.csv"
T3 = "paper_table3_kazakhstani_citizens_in_korea.csv"
T4 = "paper_table4_ethnic_korean_arrivals_f4.csv"
T5 = "paper_table5_turkic_studies_departments.csv"
T7 = "paper_table7_k_university_exchange.csv"
EVENTS = "paper_economic_events.csv"
# The bureau's release files, by release (read from raw/: no release is named here).
RELEASES = [f.filename for f in TRADE_SPEC.files(REPO / "raw")]
TRADE = RELEASES[0]
TRADE_PATTERN = TRADE_SPEC.label.removeprefix("raw/")
# the other trade sources, by what raw/ holds (the WITS file names carry their download date)
WITS_X = next(p for p in sorted((REPO / "raw" / "un_comtrade").glob("*exports*.json"))).relative_to(
    REPO / "raw"
)
WITS = str(WITS_X)
PROCESSED = "bureau_processed/kz_exports_by_partner.csv"
DOC = REPO / "docs" / "bad_input_cases.md"


# ---- mutations: small, exact edits of one raw file ---------------------------------------------------------


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def _write(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))


def _csv_line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)  # "\n" so that a cell with a line break is quoted
    return buf.getvalue().removesuffix("\n")


def set_cell(raw: Path, filename: str, line: int, column: str, value: str) -> None:
    """Replace one cell (1-based file line; the header is line 1), leaving every other byte alone
    (line endings included: the bureau's file has CRLF)."""
    path = raw / filename
    lines = _read(path).split("\n")
    header = next(csv.reader([lines[0]]))
    old = lines[line - 1]
    cells = next(csv.reader([old]))
    cells[header.index(column)] = value
    lines[line - 1] = _csv_line(cells) + ("\r" if old.endswith("\r") else "")
    _write(path, "\n".join(lines))


def rename_header(raw: Path, filename: str, old: str, new: str) -> None:
    path = raw / filename
    lines = _read(path).split("\n")
    header = next(csv.reader([lines[0]]))
    lines[0] = _csv_line([new if h == old else h for h in header])
    _write(path, "\n".join(lines))


def map_rows(raw: Path, filename: str, fn: Callable[[list[str]], list[str]]) -> None:
    """Rewrite every line (header included) through ``fn`` on its cells."""
    path = raw / filename
    text = _read(path)
    rows = list(csv.reader(io.StringIO(text)))
    _write(path, "".join(_csv_line(fn(r)) + "\n" for r in rows))


def drop_column(raw: Path, filename: str, column: str) -> None:
    path = raw / filename
    idx = next(csv.reader([_read(path).split("\n", 1)[0]])).index(column)
    map_rows(raw, filename, lambda r: r[:idx] + r[idx + 1 :])


def add_column(raw: Path, filename: str, column: str, value: str) -> None:
    first = [True]

    def add(r: list[str]) -> list[str]:
        cell = column if first[0] else value
        first[0] = False
        return [*r, cell]

    map_rows(raw, filename, add)


def duplicate_line(raw: Path, filename: str, line: int) -> None:
    path = raw / filename
    text = _read(path)
    _write(path, text + text.split("\n")[line - 1] + "\n")


def truncate_last_line(raw: Path, filename: str, keep_chars: int) -> None:
    path = raw / filename
    lines = _read(path).rstrip("\n").split("\n")
    lines[-1] = lines[-1][:keep_chars]
    _write(path, "\n".join(lines))  # no final newline: the file was cut off


def set_text(raw: Path, filename: str, text: str) -> None:
    _write(raw / filename, text)


def header_only(raw: Path, filename: str) -> None:
    path = raw / filename
    _write(path, _read(path).split("\n", 1)[0] + "\n")


def to_delimiter(raw: Path, filename: str, delim: str) -> None:
    path = raw / filename
    rows = list(csv.reader(io.StringIO(_read(path))))
    buf = io.StringIO()
    csv.writer(buf, delimiter=delim, lineterminator="\n").writerows(rows)
    _write(path, buf.getvalue())


def reencode(raw: Path, filename: str, encoding: str) -> None:
    path = raw / filename
    path.write_bytes(_read(path).encode(encoding))


def add_bom(raw: Path, filename: str) -> None:
    path = raw / filename
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def sidecar(filename: str) -> str:
    return filename.removesuffix(".csv") + ".meta.yml"


def rename_sidecar_column(raw: Path, filename: str, old: str, new: str) -> None:
    """Rename a key of the sidecar's ``columns`` mapping (and nothing else)."""
    path = raw / sidecar(filename)
    text = _read(path)
    at = text.index("\ncolumns:\n")
    head, tail = text[:at], text[at:]
    assert f"\n  {old}:" in tail, f"{old!r} not in the columns of {path.name}"
    _write(path, head + tail.replace(f"\n  {old}:", f"\n  {new}:", 1))


def one_line_ending_changed(raw: Path, filename: str, line: int) -> None:
    """Line ``line`` ends with LF where every other line ends with CRLF (or the reverse)."""
    path = raw / filename
    lines = _read(path).split("\n")
    old = lines[line - 1]
    lines[line - 1] = old.removesuffix("\r") if old.endswith("\r") else old + "\r"
    _write(path, "\n".join(lines))


def rename_release_file(raw: Path, filename: str, new_name: str) -> None:
    """Give a release file (and its sidecar, which then names it) a name without a release."""
    path = raw / filename
    side = raw / sidecar(filename)
    text = _read(side).replace(f"file: {path.name}\n", f"file: {new_name}\n", 1)
    side.unlink()
    _write(path.with_name(sidecar(new_name)), text)
    path.rename(path.with_name(new_name))


def remove_release_files(raw: Path) -> None:
    for filename in RELEASES:
        (raw / filename).unlink()
        (raw / sidecar(filename)).unlink()


def symlink_outside(raw: Path, filename: str, outside: Path) -> None:
    """Replace the raw file by a symlink to an (otherwise valid) copy outside the raw directory."""
    target = outside / filename
    shutil.copy2(raw / filename, target)
    (raw / filename).unlink()
    (raw / filename).symlink_to(target)


def edit_response(raw: Path, filename: str, old: str, new: str, *, resign: bool = True) -> None:
    """Replace the first ``old`` in an API response by ``new``; with ``resign`` also record the new
    bytes' sha256 in its sidecar, as a new download would (so that the parser sees the damage)."""
    path = raw / filename
    data = path.read_bytes()
    assert old.encode() in data, old
    data = data.replace(old.encode(), new.encode(), 1)
    path.write_bytes(data)
    if resign:
        side = path.with_name(path.name.removesuffix(".json") + ".meta.yml")
        text = side.read_text(encoding="utf-8")
        before = next(ln for ln in text.splitlines() if ln.startswith("sha256: "))
        side.write_text(text.replace(before, f"sha256: {hashlib.sha256(data).hexdigest()}"), encoding="utf-8")


def truncate_response(raw: Path, filename: str) -> None:
    path = raw / filename
    data = path.read_bytes()
    edit_response(raw, filename, data.decode()[len(data) // 2 :], "")


# ---- the corpus ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # what is wrong, for the table
    mutate: Callable[[Path, Path], None]  # (raw dir, a directory outside it)
    file: str  # the file the message must name
    expect: str  # the words saying what is wrong or what was expected
    line: int | None = None
    column: str | None = None
    exit_code: int = 2


CASES: list[Case] = [
    Case(
        "count-with-letter",
        "malformed number: a letter inside a count",
        lambda r, o: set_cell(r, T3, 2, "arriving_total", "6,8a4"),
        T3,
        "'6,8a4' is not valid; expected a count as printed",
        line=2,
        column='"arriving_total"',
    ),
    Case(
        "int-with-letter",
        "malformed number: a letter inside an integer (the bureau's row number)",
        lambda r, o: set_cell(r, TRADE, 3, "row_no", "7x"),
        TRADE,
        "'7x' is not valid; expected a whole number without separators",
        line=3,
        column='"row_no"',
    ),
    Case(
        "count-space-thousands",
        "malformed number: a space as thousands separator",
        lambda r, o: set_cell(r, T1, 3, "Kazakhs", "10 527 283"),
        T1,
        "'10 527 283' is not valid; expected a count as printed",
        line=3,
        column='"Kazakhs"',
    ),
    Case(
        "count-with-decimal",
        "malformed number: a decimal in a count",
        lambda r, o: set_cell(r, T3, 4, "students_total", "254.5"),
        T3,
        "'254.5' is not valid; expected a count as printed",
        line=4,
        column='"students_total"',
    ),
    Case(
        "count-misplaced-comma",
        "malformed number: a misplaced thousands separator",
        lambda r, o: set_cell(r, T4, 5, "total", "13,16"),
        T4,
        "'13,16' is not valid; expected a count as printed",
        line=5,
        column='"total"',
    ),
    Case(
        "count-negative",
        "negative count",
        lambda r, o: set_cell(r, T4, 3, "male", "-359"),
        T4,
        "'-359' is negative; expected a count as printed",
        line=3,
        column='"male"',
    ),
    Case(
        "pct-decimal-comma",
        "malformed percentage (decimal comma)",
        lambda r, o: set_cell(r, T2, 2, "ethnic_korean_pct", "0,62"),
        T2,
        "'0,62' is not valid; expected a percentage such as 0.62",
        line=2,
        column='"ethnic_korean_pct"',
    ),
    Case(
        "required-cell-empty",
        "a required cell left empty",
        lambda r, o: set_cell(r, T2, 6, "total_population", ""),
        T2,
        "empty cell; expected a count as printed",
        line=6,
        column='"total_population"',
    ),
    Case(
        "date-impossible",
        "an impossible date",
        lambda r, o: set_cell(r, EVENTS, 3, "event_date", "1991-02-30"),
        EVENTS,
        "'1991-02-30' is not valid; expected a date YYYY-MM-DD",
        line=3,
        column='"event_date"',
    ),
    Case(
        "year-out-of-range",
        "a year out of range",
        lambda r, o: set_cell(r, T4, 4, "year", "1899"),
        T4,
        "'1899' is out of range; expected a value from 1990 to 2030",
        line=4,
        column='"year"',
    ),
    Case(
        "column-missing",
        "a missing column",
        lambda r, o: drop_column(r, T4, "female"),
        T4,
        "missing column(s) female; expected header year,total,male,female",
        line=1,
        column="female",
    ),
    Case(
        "column-extra",
        "an extra column",
        lambda r, o: add_column(r, T4, "notes", "x"),
        T4,
        "unexpected column(s) notes; expected header year,total,male,female",
        line=1,
        column="notes",
    ),
    Case(
        "column-renamed",
        "a renamed column",
        lambda r, o: rename_header(r, T4, "female", "women"),
        T4,
        "renamed column: found 'women' where 'female' was expected",
        line=1,
        column="women",
    ),
    Case(
        "columns-reordered",
        "columns in another order",
        lambda r, o: map_rows(r, T2, lambda c: [c[0], c[2], c[1], c[3]]),
        T2,
        "columns out of order: found 'ethnic_korean_population' at position 2, expected 'total_population'",
        line=1,
        column="ethnic_korean_population",
    ),
    Case(
        "duplicate-key",
        "a duplicate key row",
        lambda r, o: duplicate_line(r, T4, 4),
        T4,
        "duplicate key (year='2012'): also on line(s) 4",
        line=12,
        column="year",
    ),
    Case(
        "empty-file",
        "an empty file",
        lambda r, o: set_text(r, T2, ""),
        T2,
        "the file is empty (expected a header line and data rows)",
        line=1,
    ),
    Case(
        "header-only",
        "a header-only file",
        lambda r, o: header_only(r, T2),
        T2,
        "has a header but no data rows",
        line=2,
    ),
    Case(
        "truncated-last-line",
        "a truncated last line",
        lambda r, o: truncate_last_line(r, T3, 20),
        T3,
        "the row has too few cells (truncated line, or a different delimiter?); expected 13 cells",
        line=11,
    ),
    Case(
        "truncated-inside-quotes",
        "a truncated last line, cut inside a quoted number",
        lambda r, o: truncate_last_line(r, T1, 10),
        T1,
        "a quote is not closed (truncated line?)",
        line=12,
    ),
    Case(
        "line-break-in-cell",
        "a line break inside a quoted cell",
        lambda r, o: set_cell(r, T5, 3, "department_name", "Dept. Turkey-Central Asia\nDept. Russia"),
        T5,
        "a cell contains a line break; cells must be on one line",
        line=3,
    ),
    Case(
        "wrong-delimiter",
        "a wrong delimiter (semicolons)",
        lambda r, o: to_delimiter(r, T4, ";"),
        T4,
        "the header is not comma-delimited",
        line=1,
    ),
    Case(
        "trade-cp1251",
        "the trade file re-encoded as cp1251",
        lambda r, o: reencode(r, TRADE, "cp1251"),
        TRADE,
        "is not valid UTF-8 (byte 0xE7); the file must be UTF-8 (was it saved as cp1251 / Windows-1251?)",
        line=2,
        column="15 (character position)",
    ),
    Case(
        "mixed-line-endings",
        "one line ending with LF in the bureau's CRLF file",
        lambda r, o: one_line_ending_changed(r, TRADE, 300),
        TRADE,
        "mixed line endings: this line ends with LF but line 1 ends with CRLF",
        line=300,
    ),
    Case(
        "utf8-bom",
        "a UTF-8 byte-order mark",
        lambda r, o: add_bom(r, T1),
        T1,
        "starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM",
        line=1,
    ),
    Case(
        "sidecar-missing",
        "a sidecar missing",
        lambda r, o: (r / sidecar(T4)).unlink(),
        T4,
        f"provenance sidecar missing: expected raw/{sidecar(T4)}",
    ),
    Case(
        "sidecar-disagrees",
        "a sidecar disagreeing with its CSV",
        lambda r, o: rename_sidecar_column(r, T4, "female", "women"),
        sidecar(T4),
        "its 'columns' (year, total, male, women) disagree with the CSV header (year, total, male, female)",
    ),
    Case(
        "raw-file-missing",
        "a raw file missing",
        lambda r, o: (r / T7).unlink(),
        T7,
        "raw file missing: expected $KZKR_RAW_DIR/" + T7,
    ),
    Case(
        "unknown-partner",
        "an unknown partner name",
        lambda r, o: set_cell(r, TRADE, 5, "name", "Атлантида"),
        TRADE,
        "unknown partner name 'Атлантида': add it to dbt_project/seeds/partner_names.csv",
        line=5,
        column='"name"',
    ),
    Case(
        "release-mismatch",
        "a row of one release in another release's file",
        lambda r, o: set_cell(r, TRADE, 4, "release", RELEASES[1].rsplit("_", 1)[1].removesuffix(".csv")),
        TRADE,
        "is not this file's release; expected " + TRADE.rsplit("_", 1)[1].removesuffix(".csv"),
        line=4,
        column='"release" (1)',
    ),
    Case(
        "release-file-misnamed",
        "a release file whose name gives no release",
        lambda r, o: rename_release_file(r, TRADE, "foreign_trade_by_partner_latest.csv"),
        "bureau/foreign_trade_by_partner_latest.csv",
        "a release file's name must give its release: foreign_trade_by_partner_<release>.csv",
    ),
    Case(
        "no-release-file",
        "no bureau release file at all",
        lambda r, o: remove_release_files(r),
        TRADE_PATTERN,
        "no release file: expected at least one raw/" + TRADE_PATTERN,
    ),
    Case(
        "sdmx-truncated",
        "an API response cut off half-way (truncated download)",
        lambda r, o: truncate_response(r, WITS),
        WITS,
        "(truncated response?)",
    ),
    Case(
        "sdmx-sha256-mismatch",
        "an API response that is not the bytes its sidecar's sha256 records",
        lambda r, o: edit_response(
            r, WITS, '"observations":{"0":[76653.097,0]}', '"observations":{"0":[76653.098,0]}', resign=False
        ),
        WITS,
        "but its sidecar records",
    ),
    Case(
        "sdmx-observation-index",
        "an observation index outside the file's own TIME_PERIOD list",
        lambda r, o: edit_response(
            r, WITS, '"observations":{"0":[76653.097,0]}', '"observations":{"99":[76653.097,0]}'
        ),
        WITS,
        'JSON path $.dataSets[0].series["0:0:0:0:0"].observations["99"]: observation index \'99\' is not an index of TIME_PERIOD',
    ),
    Case(
        "sdmx-value-not-a-number",
        "an observation value that is a string, not a number",
        lambda r, o: edit_response(
            r, WITS, '"observations":{"0":[76653.097,0]}', '"observations":{"0":["76653.097",0]}'
        ),
        WITS,
        'JSON path $.dataSets[0].series["0:0:0:0:0"].observations["0"][0]: expected a number (thousand USD)',
    ),
    Case(
        "sdmx-year-malformed",
        "a TIME_PERIOD value that is not a year",
        lambda r, o: edit_response(r, WITS, '"id":"2010","name":"2010"}', '"id":"20x0","name":"2010"}'),
        WITS,
        "JSON path $.structure.dimensions.observation[0].values[0].id: '20x0' is not a year (YYYY)",
    ),
    Case(
        "sdmx-unknown-partner",
        "a WITS partner code the partner dimension does not know",
        lambda r, o: edit_response(r, WITS, '{"id":"ABW","name":"Aruba"}', '{"id":"XAB","name":"Atlantis"}'),
        WITS,
        "JSON path $.structure.dimensions.series[2].values[0].id: unknown partner 'XAB' (Atlantis): add it to dbt_project/seeds/partner_wits_codes.csv",
    ),
    Case(
        "sdmx-dimension-missing",
        "a response without the PARTNER dimension",
        lambda r, o: edit_response(r, WITS, '"id":"PARTNER"', '"id":"COUNTERPART"'),
        WITS,
        "JSON path $.structure.dimensions.series: lacks the dimension(s) PARTNER",
    ),
    Case(
        "processed-unknown-partner",
        "an unknown partner name in the processed bureau figures",
        lambda r, o: set_cell(r, PROCESSED, 3, "item_name", "Атлантида"),
        PROCESSED,
        "unknown partner name 'Атлантида': add it to dbt_project/seeds/partner_names.csv",
        line=3,
        column='"item_name"',
    ),
    Case(
        "processed-code-disagrees",
        "a partner code of the processed figures that disagrees with the partner dimension",
        lambda r, o: set_cell(r, PROCESSED, 3, "item_code", "BLX"),
        PROCESSED,
        "partner code 'BLX' disagrees with the partner dimension",
        line=3,
        column='"item_code"',
    ),
    Case(
        "symlink-outside-raw",
        "a raw file that is a symlink to outside the raw directory",
        lambda r, o: symlink_outside(r, T4, o),
        T4,
        f"resolves to $OUTSIDE/{T4}, outside the raw directory $KZKR_RAW_DIR (symlink?)",
    ),
    Case(
        "share-over-100pct",
        "parses, but fails a blocking data check (a population larger than the country's)",
        lambda r, o: set_cell(r, T1, 2, "Kazakhs", "99,292,242"),
        "population_by_ethnicity",
        "share_of_total_pct",
        exit_code=1,
    ),
]
FAST_CASES = [c for c in CASES if c.exit_code == 2]
SLOW_CASES = [c for c in CASES if c.exit_code != 2]


@dataclass(frozen=True)
class Outcome:
    case: Case
    exit_code: int
    message: str
    published_unchanged: bool
    raw_unchanged: bool


RESULTS: dict[str, Outcome] = {}


@pytest.fixture(scope="module")
def published(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse directory holding a published build, shared by the cases of this module."""
    return copy_warehouse(built_warehouse, tmp_path_factory.mktemp("bad-input-warehouse"))


def _warehouse_state(wh: Path) -> tuple[str, list[str], list[str]]:
    builds = wh / ".builds"
    history = wh / "history"
    return (
        sha256_file(wh / "kzkr.duckdb"),
        sorted(p.name for p in builds.iterdir()) if builds.exists() else [],
        sorted(p.name for p in history.iterdir()) if history.exists() else [],
    )


def _normalise(text: str, replacements: dict[Path, str]) -> str:
    # Longest path first, real (resolved) paths too: the message must not depend on tmp names.
    pairs = {str(p.resolve()): name for p, name in replacements.items()}
    pairs.update({str(p): name for p, name in replacements.items()})
    for path in sorted(pairs, key=len, reverse=True):
        text = text.replace(path, pairs[path])
    return text


def _message(stderr: str) -> str:
    """The line of stderr that says what is wrong."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith("error: bad input: "):
            return ln.removeprefix("error: bad input: ")
    failed = [ln for ln in lines if "check failed" in ln or "step failed" in ln or "FAILED" in ln]
    return " / ".join(failed) if failed else (lines[0] if lines else "")


def _run_case(case: Case, tmp_path: Path, published: Path) -> Outcome:
    raw = tmp_path / "raw"
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copytree(REPO / "raw", raw, symlinks=True)
    case.mutate(raw, outside)
    raw_before = sha256_tree(raw)
    before = _warehouse_state(published)
    proc = run_kzkr("build", raw_dir=raw, warehouse_dir=published)
    after = _warehouse_state(published)
    names = {raw: "$KZKR_RAW_DIR", outside: "$OUTSIDE", published: "$KZKR_WAREHOUSE_DIR"}
    out = Outcome(
        case=case,
        exit_code=proc.returncode,
        message=_normalise(_message(proc.stderr), names),
        published_unchanged=before == after,
        raw_unchanged=sha256_tree(raw) == raw_before,
    )
    RESULTS[case.id] = out
    detail = f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
    assert out.exit_code == case.exit_code, detail
    assert out.published_unchanged, f"the published warehouse changed: {before} -> {after}\n{detail}"
    assert out.raw_unchanged, "the build modified the raw directory"
    return out


def _assert_message(out: Outcome) -> None:
    case, msg = out.case, out.message
    assert case.file in msg, f"the message does not name {case.file}: {msg}"
    assert case.expect in msg, f"expected {case.expect!r} in: {msg}"
    if case.line is not None:
        assert f", line {case.line}" in msg, f"the message does not name line {case.line}: {msg}"
    if case.column is not None:
        assert f", column {case.column}" in msg, f"the message does not name column {case.column}: {msg}"
    if case.exit_code == 2:
        assert msg.startswith(f"raw/{case.file}"), msg


@pytest.mark.parametrize("case", FAST_CASES, ids=[c.id for c in FAST_CASES])
def test_bad_input_is_rejected(case: Case, tmp_path: Path, published: Path) -> None:
    _assert_message(_run_case(case, tmp_path, published))


@pytest.mark.e2e
@pytest.mark.parametrize("case", SLOW_CASES, ids=[c.id for c in SLOW_CASES])
def test_failing_data_check_blocks_publish(case: Case, tmp_path: Path, published: Path) -> None:
    _assert_message(_run_case(case, tmp_path, published))


def test_corpus_covers_the_required_kinds() -> None:
    assert len(FAST_CASES) >= 15
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.file for c in CASES} >= {T1, T2, T3, T4, TRADE, EVENTS}


def _table(outcomes: list[Outcome]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    rows = [
        "# Bad input: what `kzkr build` does with it",
        "",
        "Generated by `tests/test_bad_input.py` (the last test of the module writes it when the whole",
        "corpus ran); do not edit by hand. Each case damages one thing in a copy of `raw/`, runs",
        "`kzkr build` against a warehouse that already holds a published build, and compares the",
        "sha256 of the published file (and the list of build and history files) and a hash of the whole",
        "raw directory before and after. Exit codes: 2 bad input, 1 blocked by a failing data check.",
        "Paths are shown as `$KZKR_RAW_DIR` (the raw directory) and `$OUTSIDE` (a directory outside it).",
        "",
        "| case | what is wrong | exit code | message (stderr) | published unchanged | raw/ unchanged |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for o in outcomes:
        rows.append(
            f"| `{o.case.id}` | {cell(o.case.kind)} | {o.exit_code} | {cell(o.message)} | "
            f"{'yes' if o.published_unchanged else 'NO'} | {'yes' if o.raw_unchanged else 'NO'} |"
        )
    return "\n".join(rows) + "\n"


def test_write_bad_input_table() -> None:
    """Writes docs/bad_input_cases.md from this session's results (runs last in this module)."""
    if len(RESULTS) != len(CASES):
        pytest.skip(f"only {len(RESULTS)} of {len(CASES)} cases ran in this session; table not rewritten")
    unexpected = [o.case.id for o in RESULTS.values() if o.exit_code != o.case.exit_code]
    assert not unexpected, f"cases with an unexpected exit code (table not rewritten): {unexpected}"
    text = _table([RESULTS[c.id] for c in CASES])
    if os.environ.get("KZKR_DOCS_READONLY") != "1" and (not DOC.exists() or DOC.read_text() != text):
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
    assert all(o.published_unchanged and o.raw_unchanged for o in RESULTS.values())
