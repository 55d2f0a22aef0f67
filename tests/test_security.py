"""Security: the UI binds to localhost, the SQL shell cannot write, file contents never become SQL,
raw paths cannot leave the raw directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, BuiltWarehouse, run_kzkr, sha256_file, sha256_tree

from pipelines.ingest.specs import TABLE4, TABLE5, TRADE
from pipelines.ingest.validate import RawInputError, resolve_raw_path, sidecar_path, validate_and_load
from pipelines.publish.warehouse import fingerprint
from pipelines.settings import Settings

INJECTION = "'); drop table x; --"


# ---- the Dagster UI ------------------------------------------------------------------------------------------


def test_ui_binds_to_localhost_by_default() -> None:
    ui = pytest.importorskip("pipelines.ui", reason="pipelines/ui.py (make ui) is not there yet")
    cmd: list[str] = ui.ui_command({})
    assert "dev" in cmd
    assert "-h" in cmd and cmd[cmd.index("-h") + 1] == "127.0.0.1", cmd
    assert "-p" in cmd and cmd[cmd.index("-p") + 1] == "3000", cmd
    assert "0.0.0.0" not in cmd


def test_ui_host_only_changes_when_asked() -> None:
    ui = pytest.importorskip("pipelines.ui", reason="pipelines/ui.py (make ui) is not there yet")
    cmd: list[str] = ui.ui_command({"KZKR_UI_HOST": "0.0.0.0", "KZKR_UI_PORT": "3111"})
    assert cmd[cmd.index("-h") + 1] == "0.0.0.0"
    assert cmd[cmd.index("-p") + 1] == "3111"
    # Unrelated variables (e.g. Dagster's own) do not open it up.
    cmd = ui.ui_command({"DAGSTER_WEBSERVER_HOST": "0.0.0.0", "HOST": "0.0.0.0"})
    assert cmd[cmd.index("-h") + 1] == "127.0.0.1"


def test_make_ui_goes_through_the_guarded_launcher() -> None:
    makefile = (REPO / "Makefile").read_text()
    ui_recipe = makefile.split("\nui:", 1)[1].split("\n\n", 1)[0]
    assert "pipelines.ui" in ui_recipe and "dagster dev" not in ui_recipe


# ---- the SQL shell is read-only ------------------------------------------------------------------------------

WRITES = [
    "create table x(a int);",
    "insert into demography.korean_diaspora select * from demography.korean_diaspora;",
    "drop schema trade cascade;",
    "update meta.build_info set build_id = 'forged';",
]


def test_sql_shell_refuses_writes(built_warehouse: BuiltWarehouse, tmp_path: Path) -> None:
    wh = tmp_path / "warehouse"
    wh.mkdir()
    published = wh / "kzkr.duckdb"
    shutil.copy2(built_warehouse.published, published)
    before = sha256_file(published)
    attach = f"attach '{published}' as rw (read_only false); create table rw.x(a int);"
    probe = "select 'probe-' || count(*) as probe from meta.build_info;"
    script = "\n".join([*WRITES, attach, probe, ".quit", ""])
    proc = run_kzkr("sql", raw_dir=built_warehouse.raw_dir, warehouse_dir=wh, stdin=script, timeout=120)
    out = proc.stdout + proc.stderr
    # piped, the DuckDB CLI runs the script to the end and exits 1 when any statement failed (here: every write)
    assert proc.returncode == 1, out
    errors = [ln for ln in out.splitlines() if "error" in ln.lower()]
    assert len(errors) >= len(WRITES) + 1, out  # one refusal per write, the read-write attach included
    assert all("read-only" in e or "Unique file handle conflict" in e for e in errors), errors
    assert "probe-1" in out, out  # reading still works
    assert sha256_file(published) == before
    assert not published.with_name("kzkr.duckdb.wal").exists()
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(
            "select count(*) from information_schema.tables where table_name = 'x'"
        ).fetchone() == (0,)


# ---- file contents are data, never SQL -----------------------------------------------------------------------


def _con_with_canary() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create table x (a int); insert into x values (42)")
    return con


def _canary_alive(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("select a from x").fetchall() == [(42,)]


def _replace_in_line(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_bytes().decode("utf-8").split("\n")
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_bytes("\n".join(lines).encode("utf-8"))


def test_injection_in_a_text_cell_is_stored_verbatim(raw_copy: Path) -> None:
    path = raw_copy / TABLE5.filename
    text_with_quotes = 'Dept. "Turkish" O\'Neil Studies ' + INJECTION
    _replace_in_line(
        path,
        2,
        "Dept. Turkish Studies → Dept. Turkish-Azerbaijani Studies",
        f'"{text_with_quotes.replace(chr(34), chr(34) * 2)}"',
    )
    _replace_in_line(path, 3, "Busan University of Foreign Studies", "Busan'); drop table x; --")
    with _con_with_canary() as con:
        res = validate_and_load(con, TABLE5, raw_copy)
        assert res.rows == 4
        assert _canary_alive(con)
        rows = con.execute(
            f"select department_name, university_name from raw.{TABLE5.name} order by _source_line"
        ).fetchall()
    assert rows[0][0] == text_with_quotes
    assert rows[1][1] == "Busan'); drop table x; --"


def test_injection_in_a_partner_name_is_rejected_not_run(raw_copy: Path) -> None:
    first = TRADE.files(raw_copy)[0]
    path = raw_copy / first.filename
    _replace_in_line(path, 5, ",Армения,", f",Армения{INJECTION},")
    with _con_with_canary() as con:
        with pytest.raises(RawInputError) as err:
            validate_and_load(con, first, raw_copy)
        assert _canary_alive(con)
    assert err.value.line == 5 and err.value.column == '"name"'
    assert f"unknown partner name {'Армения' + INJECTION!r}" in str(err.value)


def test_partner_name_with_quotes_is_rejected_by_the_build(raw_copy: Path, tmp_path: Path) -> None:
    first = TRADE.files(raw_copy)[0]
    path = raw_copy / first.filename
    _replace_in_line(path, 6, ",Беларусь,", ',"Бела""русь\'",')
    before = sha256_tree(raw_copy)
    proc = run_kzkr("build", raw_dir=raw_copy, warehouse_dir=tmp_path / "wh", timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f'raw/{first.filename}, line 6, column "name": unknown partner name' in proc.stderr
    assert not (tmp_path / "wh" / "kzkr.duckdb").exists()
    assert sha256_tree(raw_copy) == before


def test_injection_in_a_header_is_rejected(raw_copy: Path) -> None:
    path = raw_copy / TABLE4.filename
    _replace_in_line(path, 1, "female", f'"female{INJECTION.replace(chr(34), chr(34) * 2)}"')
    with _con_with_canary() as con:
        with pytest.raises(RawInputError) as err:
            validate_and_load(con, TABLE4, raw_copy)
        assert _canary_alive(con)
    assert err.value.line == 1
    assert "renamed column" in str(err.value)


# ---- raw paths stay inside the raw directory ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../paper_table4_ethnic_korean_arrivals_f4.csv", "/etc/passwd", "a/../../b.csv"]
)
def test_raw_names_cannot_escape(name: str, raw_copy: Path) -> None:
    with pytest.raises(RawInputError, match="must be a plain name inside the raw directory"):
        resolve_raw_path(raw_copy, name)


def test_symlink_out_of_the_raw_dir_is_refused_by_the_build(raw_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / TABLE4.filename
    shutil.copy2(raw_copy / TABLE4.filename, target)  # valid content: only the location is wrong
    (raw_copy / TABLE4.filename).unlink()
    (raw_copy / TABLE4.filename).symlink_to(target)
    before = sha256_tree(raw_copy)
    proc = run_kzkr("build", raw_dir=raw_copy, warehouse_dir=tmp_path / "wh", timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"raw/{TABLE4.filename}: resolves to {target.resolve()}, outside the raw directory" in proc.stderr
    assert sha256_tree(raw_copy) == before
    assert not (tmp_path / "wh" / "kzkr.duckdb").exists()


def test_a_symlink_out_of_raw_is_a_change_even_with_identical_bytes(raw_copy: Path, tmp_path: Path) -> None:
    """Otherwise `kzkr build` would say "nothing changed" and never validate the link."""
    settings = Settings(raw_dir=raw_copy, warehouse_dir=tmp_path / "wh")
    before = fingerprint(settings)
    target = tmp_path / TABLE4.filename
    shutil.copy2(raw_copy / TABLE4.filename, target)
    (raw_copy / TABLE4.filename).unlink()
    (raw_copy / TABLE4.filename).symlink_to(target)
    assert fingerprint(settings) != before


def test_symlinked_sidecar_out_of_the_raw_dir_is_refused(raw_copy: Path, tmp_path: Path) -> None:
    side = sidecar_path(raw_copy / TABLE4.filename)
    target = tmp_path / side.name
    shutil.copy2(side, target)
    side.unlink()
    side.symlink_to(target)
    with pytest.raises(RawInputError, match="outside the raw directory") as err:
        validate_and_load(duckdb.connect(), TABLE4, raw_copy)
    assert err.value.file == f"raw/{side.name}"


def test_symlink_inside_the_raw_dir_is_fine(raw_copy: Path) -> None:
    (raw_copy / "sub").mkdir()
    real = raw_copy / "sub" / TABLE4.filename
    (raw_copy / TABLE4.filename).rename(real)
    (raw_copy / TABLE4.filename).symlink_to(real)
    shutil.copy2(sidecar_path(raw_copy / TABLE4.filename), sidecar_path(real))
    assert resolve_raw_path(raw_copy, TABLE4.filename) == real.resolve()
    with duckdb.connect() as con:
        assert validate_and_load(con, TABLE4, raw_copy).rows == 10


def test_a_changed_or_added_release_file_is_a_change(raw_copy: Path, tmp_path: Path) -> None:
    """The release files sit in a folder (raw/bureau/): `kzkr build` must not call their change
    "nothing changed"."""
    settings = Settings(raw_dir=raw_copy, warehouse_dir=tmp_path / "wh")
    before = fingerprint(settings)
    first = raw_copy / TRADE.files(raw_copy)[0].filename
    data = first.read_bytes()
    first.write_bytes(data.replace(b",6,", b",7,", 1) if b",6," in data else data + b"\r\n")
    changed = fingerprint(settings)
    assert changed != before
    first.write_bytes(data)
    assert fingerprint(settings) == before
    added = first.with_name("foreign_trade_by_partner_0001.csv")
    added.write_bytes(data)
    assert fingerprint(settings) != before
