"""Validate a raw CSV against its explicit schema and load it into DuckDB.

Every rejection is a :class:`RawInputError` naming the file, line and column, and saying what
was expected. Validation happens in two passes so that it stays cheap at any file size:

1. Python streams the bytes once: the file is inside the raw directory, exists, is not empty,
   is UTF-8 without a BOM, has exactly the expected header, has a sidecar whose ``columns``
   match, and has at least one data row.
2. DuckDB reads the file with every column as VARCHAR (no type guessing) and checks each cell
   against its column's pattern and range in SQL; then keys, then the typed load.

Nothing here builds SQL from file contents: paths are bound as parameters, identifiers come
from :mod:`pipelines.ingest.specs` only, and file values are only ever compared as data.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import hashlib
import io
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from pipelines.ingest.specs import BY_NAME, RAW_FILES, TRADE, Column, RawFile
from pipelines.publish.compat import CONNECT_CONFIG

# A count as printed: well-placed comma thousands separators, or plain digits.
COUNT_RE = r"^([0-9]{1,3}(,[0-9]{3})+|[0-9]+)$"
INT_RE = r"^[0-9]{1,9}$"
PCT_RE = r"^[0-9]{1,3}\.[0-9]{1,4}$"
DECIMAL_RE = r"^[0-9]{1,15}(\.[0-9]{1,5})?$"
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DMY_RE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"

EXPECTED: dict[str, str] = {
    "int": "a whole number without separators",
    "count": "a count as printed (e.g. 6,854 or 1509: digits, commas only as thousands separators)",
    "pct": "a percentage such as 0.62",
    "decimal": "a non-negative decimal number with at most 5 decimals (e.g. 11501.38616)",
    "text": "non-empty text",
    "date": "a date YYYY-MM-DD",
    "dmy": "a date DD.MM.YYYY",
}
PATTERN: dict[str, str] = {
    "int": INT_RE,
    "count": COUNT_RE,
    "pct": PCT_RE,
    "decimal": DECIMAL_RE,
    "date": DATE_RE,
    "dmy": DMY_RE,
}


DEFAULT_MEMORY_LIMIT = "1GB"


_SPILL: list[tempfile.TemporaryDirectory[str]] = []


def connect(database: str | Path = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection for ingesting: bounded memory (``KZKR_DUCKDB_MEMORY_LIMIT``, default
    1GB; DuckDB's own default is 80 % of RAM) and no progress bar in the build's output. A file
    database spills next to itself (``<file>.tmp``, DuckDB's default); an in-memory one into a
    private temporary directory removed when the process exits."""
    config: dict[str, str] = {
        "memory_limit": os.environ.get("KZKR_DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
    }
    if str(database) != ":memory:":
        # A new build file is written in DuckDB 1.4's storage format, which it keeps: readable by
        # DuckDB 1.4+ (the CLI of `make sql`, BI tools), not only by this 2.x (pipelines/publish/compat.py).
        config.update(CONNECT_CONFIG)
    if str(database) == ":memory:":
        if not _SPILL:
            _SPILL.append(tempfile.TemporaryDirectory(prefix="kzkr-duckdb-spill-"))
        config["temp_directory"] = _SPILL[0].name
    con = duckdb.connect(str(database), config=config)
    con.execute("set enable_progress_bar = false")  # a session option: not accepted in `config`
    return con


class RawInputError(Exception):
    """Bad raw input: says which file, line and column, and what was expected."""

    def __init__(self, file: str, message: str, line: int | None = None, column: str | None = None):
        self.file = file
        self.line = line
        self.column = column
        self.detail = message
        where = file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class LoadResult:
    name: str
    file: str
    rows: int
    sha256: str


def sidecar_path(csv_path: Path) -> Path:
    return csv_path.with_name(csv_path.name.removesuffix(".csv") + ".meta.yml")


def resolve_raw_path(raw_dir: Path, filename: str) -> Path:
    """The file's path, refusing anything that resolves outside the raw directory."""
    label = f"raw/{filename}"
    if Path(filename).is_absolute() or ".." in Path(filename).parts:
        raise RawInputError(label, "a raw file name must be a plain name inside the raw directory")
    root = raw_dir.resolve()
    path = raw_dir / filename
    if not path.exists() and not path.is_symlink():
        raise RawInputError(label, f"raw file missing: expected {path}")
    real = path.resolve()
    if root not in real.parents:
        raise RawInputError(label, f"resolves to {real}, outside the raw directory {root} (symlink?)")
    if not real.is_file():
        raise RawInputError(label, "is not a regular file")
    return real


def _line_col_of_offset(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, offset - start + 1


def _other_line_ending(chunk: bytes, prev_last: bytes, crlf: bool) -> int | None:
    """Offset in ``chunk`` of the first LF that ends its line differently from line 1, if any."""
    at_start = chunk[:1] == b"\n" and (prev_last == b"\r") != crlf
    if at_start:
        return 0
    if crlf:  # an LF without a CR before it (the CR may end the previous chunk)
        i = chunk.replace(b"\r\n", b"\0\0").find(b"\n", 1)
    else:
        i = chunk.find(b"\r\n")
        i = i + 1 if i >= 0 else -1
    return i if i >= 0 else None


def _check_start(head: bytes, label: str) -> None:
    """The file's first bytes: not empty, no byte-order mark."""
    if not head:
        raise RawInputError(label, "the file is empty (expected a header line and data rows)", line=1)
    if head.startswith(codecs.BOM_UTF8):
        raise RawInputError(
            label, "starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM", 1, "1"
        )


def _not_utf8(label: str, byte: int, line: int, col: int) -> RawInputError:
    return RawInputError(
        label,
        f"is not valid UTF-8 (byte 0x{byte:02X}); the file must be UTF-8 "
        "(was it saved as cp1251 / Windows-1251?)",
        line,
        f"{col} (character position)",
    )


def _check_bytes(path: Path, label: str) -> tuple[str, str]:
    """Stream the file once: sha256, UTF-8 validity, BOM. Returns (sha256, first line)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    consumed = 0
    newlines = 0  # line breaks before the current chunk
    first_line = b""
    have_first = False
    crlf: bool | None = None  # whether line 1 ends with CRLF; every line must end the same way
    prev_last = b""
    with path.open("rb") as fh:
        _check_start(fh.read(3), label)
        fh.seek(0)
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            if not have_first:
                first_line += chunk
                if b"\n" in first_line:
                    first_line = first_line.split(b"\n", 1)[0]
                    have_first = True
                    crlf = first_line.endswith(b"\r")
            if crlf is not None and (bad := _other_line_ending(chunk, prev_last, crlf)) is not None:
                line = newlines + chunk.count(b"\n", 0, bad) + 1
                raise RawInputError(
                    label,
                    f"mixed line endings: this line ends with {'LF' if crlf else 'CRLF'} but line 1 ends "
                    f"with {'CRLF' if crlf else 'LF'}; use one kind of line ending throughout",
                    line,
                )
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                window = chunk
                line, col = _line_col_of_offset(window, exc.start)
                if consumed:  # count the lines of earlier chunks too
                    with path.open("rb") as again:
                        before = again.read(consumed)
                    line += before.count(b"\n")
                    if b"\n" not in window[: exc.start]:
                        col += consumed - (before.rfind(b"\n") + 1)
                raise _not_utf8(label, chunk[exc.start], line, col) from None
            consumed += len(chunk)
            newlines += chunk.count(b"\n")
            prev_last = chunk[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            last = newlines + (0 if prev_last == b"\n" else 1)
            raise RawInputError(label, "ends inside a UTF-8 character (truncated file?)", last) from None
    return digest.hexdigest(), first_line.decode("utf-8").rstrip("\r")


def _check_header(spec: RawFile, first_line: str, label: str) -> None:
    expected = spec.header
    got = next(csv.reader(io.StringIO(first_line)), [])
    if got == expected:
        return
    if len(got) == 1 and any(d in first_line for d in (";", "\t", "|")):
        raise RawInputError(
            label,
            f"the header is not comma-delimited (found {first_line[:60]!r}); expected {','.join(expected)}",
            1,
        )
    missing = [c for c in expected if c not in got]
    extra = [c for c in got if c not in expected]
    if missing and extra and len(missing) == len(extra):
        pairs = ", ".join(f"{e!r} where {m!r} was expected" for m, e in zip(missing, extra, strict=True))
        raise RawInputError(label, f"renamed column: found {pairs}", 1, extra[0])
    if missing:
        raise RawInputError(
            label,
            f"missing column(s) {', '.join(missing)}; expected header {','.join(expected)}",
            1,
            missing[0],
        )
    if extra:
        raise RawInputError(
            label,
            f"unexpected column(s) {', '.join(extra)}; expected header {','.join(expected)}",
            1,
            extra[0],
        )
    for i, (e, g) in enumerate(zip(expected, got, strict=True), start=1):
        if e != g:
            raise RawInputError(
                label, f"columns out of order: found {g!r} at position {i}, expected {e!r}", 1, g
            )


def _check_sidecar(spec: RawFile, path: Path, label: str) -> None:
    side = sidecar_path(path)
    side_label = label.removesuffix(".csv") + ".meta.yml"
    if not side.exists():
        raise RawInputError(label, f"provenance sidecar missing: expected {side_label}")
    real = side.resolve()
    if real.parent != path.parent and path.parent not in real.parents:
        raise RawInputError(side_label, f"resolves to {real}, outside the raw directory (symlink?)")
    try:
        meta = yaml.safe_load(side.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RawInputError(
            side_label, f"is not valid YAML: {exc}", mark.line + 1 if mark else None
        ) from None
    cols = list((meta or {}).get("columns") or {})
    if cols != spec.header:
        raise RawInputError(
            side_label,
            f"its 'columns' ({', '.join(cols) or 'none'}) disagree with the CSV header "
            f"({', '.join(spec.header)})",
        )
    if (meta or {}).get("file") != path.name:
        raise RawInputError(side_label, f"its 'file' is {meta.get('file')!r}, expected {path.name!r}")


def _check_release_name(spec: RawFile) -> None:
    """A file of a per-release table must say its release in its name."""
    if spec.pattern and spec.release is None:
        expected = Path(spec.pattern).name.replace("{release}", "<release>")
        raise RawInputError(
            f"raw/{spec.filename}",
            f"a release file's name must give its release: {expected}, where <release> is the release's "
            "year (four digits)",
        )
    if spec.release is None and spec.per_release:
        raise ValueError(f"{spec.name}: validate its files (RawFile.files), not the table's pattern")


def _cell_problems_sql(c: Column, ident: str) -> str:
    """A SQL boolean that is true when the cell of column ``c`` is invalid."""
    v = ident
    blank = f"{v} is null"
    conds: list[str] = []
    if c.kind == "text":
        return "false" if c.optional else blank
    pattern = PATTERN[c.kind]
    valid = f"regexp_full_match({v}, '{pattern}')"
    if c.dash:
        valid = f"({valid} or {v} = '-')"
    if c.kind == "int":
        lo = -(10**18) if c.lo is None else c.lo
        hi = 10**18 if c.hi is None else c.hi
        # try_cast: DuckDB may evaluate both sides of `and`, so `cast` would raise on '6x'
        valid = f"({valid} and try_cast({v} as bigint) between {lo} and {hi})"
    if c.kind == "date":
        valid = f"({valid} and try_cast({v} as date) is not null)"
    if c.kind == "dmy":
        valid = f"({valid} and try_strptime({v}, '%d.%m.%Y') is not null)"
    conds.append(f"not coalesce({valid}, false)")
    bad = " and ".join(conds)
    if c.optional:
        return f"({v} is not null and {bad})"
    return f"({blank} or {bad})"


def _explain(c: Column, value: str | None) -> str:
    if value is None:
        return f"empty cell; expected {EXPECTED[c.kind]}"
    expected = EXPECTED[c.kind]
    if c.dash:
        expected += ', or "-"'
    if c.optional:
        expected += ", or an empty cell"
    if c.kind == "int" and regexp_int(value) and (c.lo is not None or c.hi is not None):
        return f"{value!r} is out of range; expected a value from {c.lo} to {c.hi}"
    if c.kind == "count" and value.startswith("-") and value != "-":
        return f"{value!r} is negative; expected {expected}"
    return f"{value!r} is not valid; expected {expected}"


def regexp_int(value: str) -> bool:
    return value.isdigit()


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _typed_expr(c: Column) -> list[str]:
    v = _q(c.name)
    if c.kind == "int":
        return [f"cast({v} as bigint) as {v}"]
    if c.kind == "count":
        return [
            f"case when {v} = '-' then null else cast(replace({v}, ',', '') as bigint) end as {v}",
            f"coalesce({v}, '') as {_q(c.name + '_printed')}",
        ]
    if c.kind == "pct":
        return [
            f"case when {v} = '-' then null else cast({v} as decimal(6, 2)) end as {v}",
            f"coalesce({v}, '') as {_q(c.name + '_printed')}",
        ]
    if c.kind == "decimal":
        return [f"cast({v} as decimal(20, 5)) as {v}"]
    if c.kind == "date":
        return [f"cast({v} as date) as {v}"]
    if c.kind == "dmy":
        return [f"cast(strptime({v}, '%d.%m.%Y') as date) as {v}"]
    return [f"{v} as {v}"]


def known_partner_names(project_root: Path) -> set[str]:
    seed = project_root / "dbt_project" / "seeds" / "partner_names.csv"
    with seed.open(encoding="utf-8", newline="") as fh:
        return {row["name_ru"] for row in csv.DictReader(fh)}


def project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def validate_and_load(
    con: duckdb.DuckDBPyConnection, spec: RawFile, raw_dir: Path, *, schema: str = "raw", append: bool = False
) -> LoadResult:
    """Validate ``spec``'s file under ``raw_dir`` and (re)create ``<schema>.<spec.name>`` from it, or
    with ``append`` add its rows (the next release file of a per-release table)."""
    _check_release_name(spec)
    label = f"raw/{spec.filename}"
    path = resolve_raw_path(raw_dir, spec.filename)
    sha, first_line = _check_bytes(path, label)
    _check_header(spec, first_line, label)
    _check_sidecar(spec, path, label)

    tmp = f"_ingest_{spec.name}"
    rejects, scan = f"_rej_{spec.name}", f"_scan_{spec.name}"
    columns = "{" + ", ".join(f"'{c.name}': 'VARCHAR'" for c in spec.columns) + "}"
    con.execute(f"drop table if exists {tmp}")
    try:
        con.execute(
            f"create temp table {tmp} as select row_number() over () + 1 as _line, * from read_csv(?, "
            f"header = true, auto_detect = false, all_varchar = true, columns = {columns}, delim = ',', "
            f"quote = '\"', escape = '\"', strict_mode = true, store_rejects = true, "
            f"rejects_table = '{rejects}', rejects_scan = '{scan}', max_line_size = 1048576)",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise RawInputError(label, f"cannot be read as CSV: {str(exc).splitlines()[0]}") from None
    rej = con.execute(
        f"select line, column_name, error_type, error_message, csv_line from {rejects} order by line limit 1"
    ).fetchone()
    con.execute(f"drop table if exists {rejects}; drop table if exists {scan}")
    if rej is not None:
        line, col, etype, msg, text = rej
        hint = {
            "MISSING COLUMNS": "the row has too few cells (truncated line, or a different delimiter?)",
            "TOO MANY COLUMNS": "the row has too many cells (an unquoted comma?)",
            "UNQUOTED VALUE": "a quote is not closed (truncated line?)",
        }.get(etype, msg)
        raise RawInputError(
            label,
            f"{hint}; expected {len(spec.columns)} cells: {','.join(spec.header)}. Read: {text!r:.80}",
            int(line),
            col or None,
        )
    n = con.execute(f"select count(*) from {tmp}").fetchone()[0]  # type: ignore[index]
    if n == 0:
        raise RawInputError(label, "has a header but no data rows", 2)

    # A quoted cell spanning lines would shift every later line number: refuse it.
    newline = " or ".join(f"contains({_q(c.name)}, chr(10))" for c in spec.columns)
    hit = con.execute(f"select _line from {tmp} where {newline} order by _line limit 1").fetchone()
    if hit:
        raise RawInputError(label, "a cell contains a line break; cells must be on one line", int(hit[0]))

    checks = [(c, _cell_problems_sql(c, _q(c.name))) for c in spec.columns]
    union = " union all ".join(
        f"select _line, {i} as col_idx, {_q(c.name)}::varchar as value from {tmp} where {cond}"
        for i, (c, cond) in enumerate(checks)
        if cond != "false"
    )
    bad = (
        con.execute(f"select * from ({union}) order by _line, col_idx limit 1").fetchone() if union else None
    )
    if bad:
        line, idx, value = bad
        c = spec.columns[idx]
        raise RawInputError(label, _explain(c, value), int(line), f'"{c.name}" ({idx + 1})')

    keys = ", ".join(_q(k) for k in spec.key)
    # The first duplicated key (by its first line); its lines are fetched for that key only, so
    # no list is built per key of a large file.
    dup = con.execute(
        f"select {keys} from {tmp} group by all having count(*) > 1 order by min(_line) limit 1"
    ).fetchone()
    if dup:
        match = " and ".join(f"{_q(k)} is not distinct from ?" for k in spec.key)
        rows = con.execute(f"select _line from {tmp} where {match} order by _line", list(dup)).fetchall()
        lines = [int(r[0]) for r in rows]
        keyval = ", ".join(f"{k}={v!r}" for k, v in zip(spec.key, dup, strict=True))
        raise RawInputError(
            label,
            f"duplicate key ({keyval}): also on line(s) {', '.join(map(str, lines[:-1]))}",
            lines[-1],
            ", ".join(spec.key),
        )

    if spec.release is not None:
        col = spec.column(spec.release_column)
        other = con.execute(
            f"select _line, {_q(col.name)} from {tmp} where cast({_q(col.name)} as bigint) <> ? "
            "order by _line limit 1",
            [spec.release],
        ).fetchone()
        if other:
            raise RawInputError(
                label,
                f"{other[1]!r} is not this file's release; expected {spec.release}, the release in its name "
                f"(each release has its own file, {spec.label})",
                int(other[0]),
                f'"{col.name}" ({spec.header.index(col.name) + 1})',
            )

    if spec.name == TRADE.name:
        names = known_partner_names(project_root())
        con.execute("create or replace temp table _known_partners (name varchar)")
        con.executemany("insert into _known_partners values (?)", [[x] for x in sorted(names)])
        unknown = con.execute(
            f"select _line, name from {tmp} where name not in (select name from _known_partners) "
            f"order by _line limit 1"
        ).fetchone()
        if unknown:
            raise RawInputError(
                label,
                f"unknown partner name {unknown[1]!r}: add it to dbt_project/seeds/partner_names.csv "
                "(English name, ISO 3166 alpha-3 code, aggregate flag)",
                int(unknown[0]),
                '"name"',
            )

    typed = ", ".join(e for c in spec.columns for e in _typed_expr(c))
    con.execute(f"create schema if not exists {schema}")
    select = f"select {typed}, ?::varchar as _source_file, _line::bigint as _source_line from {tmp}"
    if append:
        con.execute(f"insert into {schema}.{spec.name} {select} order by _line", [label])
    else:  # in line order already
        con.execute(f"create or replace table {schema}.{spec.name} as {select}", [label])
    con.execute(f"drop table {tmp}")
    return LoadResult(spec.name, label, int(n), sha)


def table_files(spec: RawFile, raw_dir: Path) -> list[RawFile]:
    """The files ``spec``'s table is loaded from (:meth:`RawFile.files`); a per-release table
    without any release file is refused like a missing file."""
    files = spec.files(raw_dir)
    if not files:
        raise RawInputError(spec.label, f"no release file: expected at least one {spec.label} in {raw_dir}")
    return files


def all_files(raw_dir: Path) -> list[RawFile]:
    """Every raw file the ingest reads, table by table (releases in release order)."""
    if not raw_dir.is_dir():
        raise RawInputError(str(raw_dir), "the raw directory does not exist")
    return [f for spec in RAW_FILES for f in table_files(spec, raw_dir)]


def load_table(con: duckdb.DuckDBPyConnection, spec: RawFile, raw_dir: Path) -> list[LoadResult]:
    """Validate every file of ``spec``'s table and load them into ``raw.<spec.name>``, one result a file."""
    files = table_files(spec, raw_dir)
    return [validate_and_load(con, f, raw_dir, append=i > 0) for i, f in enumerate(files)]


def validate_file(spec: RawFile, raw_dir: Path) -> LoadResult:
    """Validate one file without a warehouse (an in-memory database)."""
    with connect() as con:
        return validate_and_load(con, spec, raw_dir)


def validate_all(raw_dir: Path) -> list[LoadResult]:
    """Validate every raw file; the first problem raises :class:`RawInputError`."""
    if not raw_dir.is_dir():
        raise RawInputError(str(raw_dir), "the raw directory does not exist")
    with connect() as con:
        return [res for spec in RAW_FILES for res in load_table(con, spec, raw_dir)]


def precheck_file(spec: RawFile, raw_dir: Path) -> None:
    """What can be checked from a file's first line, whatever its size: it is inside the raw
    directory, not empty, has no BOM, has exactly the expected header, and its sidecar agrees.
    Cells, keys and the encoding of the rest are checked when the file is ingested."""
    _check_release_name(spec)
    label = f"raw/{spec.filename}"
    path = resolve_raw_path(raw_dir, spec.filename)
    with path.open("rb") as fh:
        head = fh.readline(1 << 20)
    _check_start(head, label)
    try:
        first_line = head.decode("utf-8").rstrip("\n").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise _not_utf8(label, head[exc.start], 1, exc.start + 1) from None
    _check_header(spec, first_line, label)
    _check_sidecar(spec, path, label)


def precheck_all(raw_dir: Path) -> list[RawFile]:
    """:func:`precheck_file` for every raw file, in order; the first problem raises."""
    files = all_files(raw_dir)
    for f in files:
        precheck_file(f, raw_dir)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate raw/ and load it into a DuckDB file (schema raw).")
    parser.add_argument("--raw-dir", type=Path, default=Path("raw"))
    parser.add_argument("--db", type=Path, help="DuckDB file to load into (omit to only validate)")
    parser.add_argument("--only", choices=sorted(BY_NAME), action="append")
    args = parser.parse_args(argv)
    specs = [BY_NAME[n] for n in args.only] if args.only else list(RAW_FILES)
    try:
        with connect(args.db or ":memory:") as con:
            for spec in specs:
                for res in load_table(con, spec, args.raw_dir):
                    print(f"{res.file}: {res.rows} rows")
    except RawInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
