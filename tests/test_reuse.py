"""A new release costs the reading of one file: unchanged release files come from the published build.

``kzkr build`` from a plain environment, as a user runs it: a warehouse published without the latest
release, then the release file put back (the README's "add a year" step) and ``kzkr build`` again;
then ``kzkr build --full-refresh``. The raw table built from copies must be the one built by reading
every file. Then, without Dagster, :func:`load_table` on edited inputs: a changed file, another
ingest version, a published record that disagrees with its table. Nothing here names a release: the
files are the ones present in raw/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import PUBLISHED_NAME, run_kzkr, sha256_file

from pipelines.ingest import reuse
from pipelines.ingest.specs import TRADE
from pipelines.ingest.validate import connect, load_table, sidecar_path

pytestmark = pytest.mark.e2e

COPIED = "(unchanged: copied from the published build)"
TABLE = f"raw.{TRADE.name}"


def _ingest_lines(stdout: str) -> dict[str, str]:
    """{raw/… file: its ingest progress line} of the bureau's release files."""
    out = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) > 1 and parts[0] == "ingest" and parts[1].startswith(f"raw/{TRADE.group}/"):
            out[parts[1]] = line
    return out


def _rows(db: Path, table: str = TABLE) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"select * from {table} order by _source_file, _source_line").fetchall()


def _read_every_file(raw_dir: Path, db: Path) -> Path:
    with connect(str(db)) as con:
        load_table(con, TRADE, raw_dir)
    return db


def test_a_new_release_reads_one_file_and_builds_the_same_table(raw_copy: Path, tmp_path: Path) -> None:
    files = [f"raw/{f.filename}" for f in TRADE.files(raw_copy)]
    assert len(files) > 1, "the test needs several release files"
    latest = raw_copy / files[-1].removeprefix("raw/")
    aside = tmp_path / "aside"
    aside.mkdir()
    for p in (latest, sidecar_path(latest)):
        shutil.move(p, aside / p.name)
    wh = tmp_path / "warehouse"
    first = run_kzkr("build", raw_dir=raw_copy, warehouse_dir=wh)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert COPIED not in first.stdout  # nothing published yet to copy from
    for p in aside.iterdir():
        shutil.move(p, latest.parent / p.name)

    second = run_kzkr("build", raw_dir=raw_copy, warehouse_dir=wh)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    lines = _ingest_lines(second.stdout)
    assert list(lines) == files
    assert [f for f, line in lines.items() if COPIED in line] == files[:-1], second.stdout
    published = wh / PUBLISHED_NAME
    expected = _rows(_read_every_file(raw_copy, tmp_path / "every-file.duckdb"))
    assert _rows(published) == expected
    with duckdb.connect(str(published), read_only=True) as con:
        loads = con.execute(
            "select file, sha256, rows, copied from meta.raw_loads where table_name = ? order by file",
            [TRADE.name],
        ).fetchall()
    assert loads == [
        (
            f,
            sha256_file(raw_copy / f.removeprefix("raw/")),
            sum(1 for r in expected if r[-2] == f),
            f != files[-1],
        )
        for f in files
    ]

    third = run_kzkr("build", "--full-refresh", raw_dir=raw_copy, warehouse_dir=wh)
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
    assert list(_ingest_lines(third.stdout)) == files and COPIED not in third.stdout
    assert _rows(published) == expected
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from meta.raw_loads where copied").fetchone() == (0,)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(raw directory, a database standing in for the published build: every file read)."""
    base = tmp_path_factory.mktemp("reuse")
    raw = base / "raw"
    shutil.copytree(Path(__file__).resolve().parents[1] / "raw", raw)
    return raw, _read_every_file(raw, base / PUBLISHED_NAME)


def _load(raw: Path, published: Path, db: Path) -> list[bool]:
    with connect(str(db)) as con:
        return [r.reused for r in load_table(con, TRADE, raw, reuse_from=published)]


def test_only_unchanged_files_are_copied(published: tuple[Path, Path], tmp_path: Path) -> None:
    raw, pub = published
    assert all(_load(raw, pub, tmp_path / "same.duckdb"))
    assert _rows(tmp_path / "same.duckdb") == _rows(pub)

    edited = tmp_path / "raw"
    shutil.copytree(raw, edited)
    files = TRADE.files(edited)
    middle = edited / files[len(files) // 2].filename
    text = middle.read_text(encoding="utf-8")
    # the same rows with the period reworded: valid for the ingest, different bytes
    head, first, rest = text.split("\n", 2)
    cells = first.split(",")
    cells[TRADE.header.index("period")] += " (revised)"
    middle.write_text("\n".join([head, ",".join(cells), rest]), encoding="utf-8")
    reused = _load(edited, pub, tmp_path / "edited.duckdb")
    assert reused == [i != len(files) // 2 for i in range(len(files))]
    with duckdb.connect(str(tmp_path / "edited.duckdb"), read_only=True) as con:
        copied = con.execute(
            "select copied from meta.raw_loads where table_name = ? order by file", [TRADE.name]
        ).fetchall()
    assert [c for (c,) in copied] == reused
    assert _rows(tmp_path / "edited.duckdb") == _rows(_read_every_file(edited, tmp_path / "every.duckdb"))


def test_another_ingest_version_reads_every_file(
    published: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, pub = published
    monkeypatch.setattr(reuse, "ingest_version", lambda: "another version of the ingest")
    assert not any(_load(raw, pub, tmp_path / "b.duckdb"))
    assert _rows(tmp_path / "b.duckdb") == _rows(pub)


def test_a_record_that_disagrees_with_its_table_reads_the_files(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    raw, pub = published
    broken = tmp_path / PUBLISHED_NAME
    shutil.copy2(pub, broken)
    first = f"raw/{TRADE.files(raw)[0].filename}"
    with duckdb.connect(str(broken)) as con:
        con.execute(f"delete from {TABLE} where _source_file = ? and _source_line = 2", [first])
    reused = _load(raw, broken, tmp_path / "c.duckdb")
    assert not any(reused)  # the files of that one copy are read again
    assert _rows(tmp_path / "c.duckdb") == _rows(pub)


def test_no_published_build_reads_every_file(published: tuple[Path, Path], tmp_path: Path) -> None:
    raw, _ = published
    assert not any(_load(raw, tmp_path / "none" / PUBLISHED_NAME, tmp_path / "d.duckdb"))
