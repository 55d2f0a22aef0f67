"""Pass 1 of the ingest: what a raw file's bytes, first line and sidecar say, whatever its size.

A raw file must be a plain file inside the raw directory (no path or symlink out of it), not empty,
UTF-8 without a BOM and with one kind of line ending, have exactly its spec's header and a sidecar
whose ``file`` and ``columns`` agree; a release file must give its release in its name. Every
rejection is a :class:`RawInputError` naming file, line and column. Cells, keys and the typed load
are pass 2 (:mod:`pipelines.ingest.validate`).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from pathlib import Path

import yaml

from pipelines.ingest.specs import RAW_FILES, RawFile


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


def sidecar_path(path: Path) -> Path:
    """A raw file's provenance sidecar: ``name.csv`` / ``name.json`` → ``name.meta.yml``."""
    return path.with_name(path.name.removesuffix(".csv").removesuffix(".json") + ".meta.yml")


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


def check_start(head: bytes, label: str) -> None:
    """The file's first bytes: not empty, no byte-order mark."""
    if not head:
        raise RawInputError(label, "the file is empty (expected a header line and data rows)", line=1)
    if head.startswith(codecs.BOM_UTF8):
        raise RawInputError(
            label, "starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without BOM", 1, "1"
        )


def not_utf8(label: str, byte: int, line: int, col: int) -> RawInputError:
    return RawInputError(
        label,
        f"is not valid UTF-8 (byte 0x{byte:02X}); the file must be UTF-8 "
        "(was it saved as cp1251 / Windows-1251?)",
        line,
        f"{col} (character position)",
    )


def check_bytes(path: Path, label: str) -> tuple[str, str]:
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
        check_start(fh.read(3), label)
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
                raise not_utf8(label, chunk[exc.start], line, col) from None
            consumed += len(chunk)
            newlines += chunk.count(b"\n")
            prev_last = chunk[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            last = newlines + (0 if prev_last == b"\n" else 1)
            raise RawInputError(label, "ends inside a UTF-8 character (truncated file?)", last) from None
    return digest.hexdigest(), first_line.decode("utf-8").rstrip("\r")


def check_header(spec: RawFile, first_line: str, label: str) -> None:
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


def check_sidecar(spec: RawFile, path: Path, label: str) -> None:
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


def check_release_name(spec: RawFile) -> None:
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


def precheck_file(spec: RawFile, raw_dir: Path) -> None:
    """What can be checked from a file's first line, whatever its size: it is inside the raw
    directory, not empty, has no BOM, has exactly the expected header, and its sidecar agrees.
    Cells, keys and the encoding of the rest are checked when the file is ingested."""
    check_release_name(spec)
    if spec.format == "sdmx_json":
        from pipelines.ingest.responses import precheck_response

        return precheck_response(spec, raw_dir)
    label = f"raw/{spec.filename}"
    path = resolve_raw_path(raw_dir, spec.filename)
    with path.open("rb") as fh:
        head = fh.readline(1 << 20)
    check_start(head, label)
    try:
        first_line = head.decode("utf-8").rstrip("\n").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise not_utf8(label, head[exc.start], 1, exc.start + 1) from None
    check_header(spec, first_line, label)
    check_sidecar(spec, path, label)


def precheck_all(raw_dir: Path) -> list[RawFile]:
    """:func:`precheck_file` for every raw file, in order; the first problem raises."""
    files = all_files(raw_dir)
    for f in files:
        precheck_file(f, raw_dir)
    return files
