"""Validate a raw CSV against its explicit schema and load it into DuckDB.

Every rejection is a :class:`RawInputError` naming the file, line and column, and saying what
was expected. Validation happens in two passes so that it stays cheap at any file size:

1. Python streams the bytes once (:mod:`pipelines.ingest.files`): the file is inside the raw
   directory, exists, is not empty, is UTF-8 without a BOM, has exactly the expected header, has a
   sidecar whose ``columns`` match, and (a release file) gives its release in its name.
2. DuckDB reads the file with every column as VARCHAR (no type guessing) and checks each cell
   against its column's pattern and range in SQL; then keys, then the typed load.

Nothing here builds SQL from file contents: paths are bound as parameters, identifiers come
from :mod:`pipelines.ingest.specs` only, and file values are only ever compared as data.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.ingest import reuse
from pipelines.ingest.files import (
    RawInputError,
    all_files,
    check_bytes,
    check_header,
    check_release_name,
    check_sidecar,
    precheck_all,
    precheck_file,
    resolve_raw_path,
    sidecar_path,
    table_files,
)
from pipelines.ingest.partners import unmapped_label
from pipelines.ingest.specs import BY_NAME, RAW_FILES, Column, RawFile
from pipelines.lib.duck import connect
from pipelines.lib.hashing import file_sha256

__all__ = [  # pass 1 lives in pipelines.ingest.files; its names are used from here too
    "LoadResult",
    "RawInputError",
    "all_files",
    "connect",
    "load_table",
    "precheck_all",
    "precheck_file",
    "resolve_raw_path",
    "sidecar_path",
    "table_files",
    "validate_all",
    "validate_and_load",
    "validate_file",
]

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


@dataclass(frozen=True)
class LoadResult:
    name: str
    file: str
    rows: int
    sha256: str
    reused: bool = False  # copied from the published build, unchanged since (pipelines.ingest.reuse)


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
    check_release_name(spec)
    if spec.format == "sdmx_json":
        from pipelines.ingest.responses import load_response

        return load_response(con, spec, raw_dir, schema=schema)
    label = f"raw/{spec.filename}"
    path = resolve_raw_path(raw_dir, spec.filename)
    sha, first_line = check_bytes(path, label)
    check_header(spec, first_line, label)
    check_sidecar(spec, path, label)
    tmp = f"_ingest_{spec.name}"
    n = _read_as_text(con, spec, path, label, tmp)
    _check_cells(con, spec, label, tmp)
    _check_keys(con, spec, label, tmp)
    if spec.release is not None:
        _check_release_column(con, spec, label, tmp)
    unmapped = unmapped_label(con, spec, tmp)  # every trade source's partner labels
    if unmapped:
        raise RawInputError(label, unmapped[2], unmapped[0], unmapped[1])
    typed = ", ".join(e for c in spec.columns for e in _typed_expr(c))
    con.execute(f"create schema if not exists {schema}")
    select = f"select {typed}, ?::varchar as _source_file, _line::bigint as _source_line from {tmp}"
    # In line order already (the scan keeps the file's order): no sort.
    if append:
        con.execute(f"insert into {schema}.{spec.name} {select}", [label])
    else:
        con.execute(f"create or replace table {schema}.{spec.name} as {select}", [label])
    con.execute(f"drop view {tmp}; drop table {tmp}_cells")
    return LoadResult(spec.name, label, int(n), sha)


def _read_as_text(con: duckdb.DuckDBPyConnection, spec: RawFile, path: Path, label: str, tmp: str) -> int:
    """Every cell as VARCHAR into the temp table ``<tmp>_cells``, read through the view ``tmp`` with
    each row's file line ``_line``; returns the rows."""
    rejects, scan = f"_rej_{spec.name}", f"_scan_{spec.name}"
    columns = "{" + ", ".join(f"'{c.name}': 'VARCHAR'" for c in spec.columns) + "}"
    con.execute(f"drop view if exists {tmp}; drop table if exists {tmp}_cells")
    try:
        # The table keeps the file's row order (insertion order is preserved), so a row's line is
        # its rowid + 2 (after the header): no window over the whole file (a third of the read).
        con.execute(
            f"create temp table {tmp}_cells as select * from read_csv(?, "
            f"header = true, auto_detect = false, all_varchar = true, columns = {columns}, delim = ',', "
            f"quote = '\"', escape = '\"', strict_mode = true, store_rejects = true, "
            f"rejects_table = '{rejects}', rejects_scan = '{scan}', max_line_size = 1048576)",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise RawInputError(label, f"cannot be read as CSV: {str(exc).splitlines()[0]}") from None
    con.execute(f"create temp view {tmp} as select rowid + 2 as _line, * from {tmp}_cells")
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
    return int(n)


def _check_cells(con: duckdb.DuckDBPyConnection, spec: RawFile, label: str, tmp: str) -> None:
    """The first invalid cell (by line, then column) raises."""
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


def _check_keys(con: duckdb.DuckDBPyConnection, spec: RawFile, label: str, tmp: str) -> None:
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


def _check_release_column(con: duckdb.DuckDBPyConnection, spec: RawFile, label: str, tmp: str) -> None:
    """Every row of a release file carries the release of its name."""
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


def load_table(
    con: duckdb.DuckDBPyConnection, spec: RawFile, raw_dir: Path, *, reuse_from: Path | None = None
) -> list[LoadResult]:
    """Validate every file of ``spec``'s table and load them into ``raw.<spec.name>``, one result a file.

    With ``reuse_from`` (the published build) a release file unchanged since that build is copied
    from it instead (:mod:`pipelines.ingest.reuse`; ``LoadResult.reused``). Either way the build
    records what it loaded in ``meta.raw_loads``."""
    files = table_files(spec, raw_dir)
    known = reuse.published_loads(con, reuse_from, spec.name) if reuse_from and spec.per_release else {}
    results: list[LoadResult] = []
    pending: list[RawFile] = []  # unchanged files not yet copied: consecutive ones in one scan

    def flush() -> None:
        if not pending:
            return
        start = len(results) - len(pending)  # the pending files' results are the last ones
        labels = [r.file for r in results[start:]]
        n = reuse.copy_published(con, "raw", spec.name, labels, append=start > 0)
        if n != sum(r.rows for r in results[start:]):  # the record and the table disagree: read them
            marks = ", ".join("?" for _ in labels)
            con.execute(f"delete from raw.{spec.name} where _source_file in ({marks})", labels)
            del results[start:]
            for f in pending:
                results.append(validate_and_load(con, f, raw_dir, append=bool(results)))
        pending.clear()

    for f in files:
        label = f"raw/{f.filename}"
        seen = known.get(label)
        if seen is not None:
            path = resolve_raw_path(raw_dir, f.filename)
            check_release_name(f)
            check_sidecar(f, path, label)
            if file_sha256(path) == seen.sha256:
                results.append(LoadResult(spec.name, label, seen.rows, seen.sha256, reused=True))
                pending.append(f)
                continue
        flush()
        results.append(validate_and_load(con, f, raw_dir, append=bool(results)))
    flush()
    reuse.detach(con)
    reuse.record_loads(con, spec.name, [(r.file, r.sha256, r.rows, r.reused) for r in results])
    return results


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
