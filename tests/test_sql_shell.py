"""`make sql`: the DuckDB CLI on the published warehouse, read-only, driven as a user drives it.

Both tests run `make sql` itself from a plain shell environment (PATH of the system only, no venv),
on a copy of the session's reference build: once piped, once in a pseudo-terminal (stdlib ``pty``)
that answers the terminal queries of the CLI's line editor like a terminal emulator does.
Expected values come from the published file opened with the Python driver, not from the shell.
"""

from __future__ import annotations

import csv
import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, sha256_file

PLAIN_PATH = "/usr/bin:/bin"
ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07\x1b]*(\x07|\x1b\\)|[=>])")
PROMPT = re.compile(r"D $", re.MULTILINE)
PAGER = re.compile(r"\n(:|\(END\))\Z")  # `less` waiting at the end of a screen
NEVER = "select count(*) from range(1000000000000) a, range(1000000) b;"  # runs until interrupted


def plain_env(warehouse: Path, home: Path) -> dict[str, str]:
    return {
        "PATH": PLAIN_PATH,
        "HOME": str(home),
        "TERM": "xterm",
        "LANG": "C.UTF-8",
        "KZKR_WAREHOUSE_DIR": str(warehouse),
    }


def published_tables(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select table_name from duckdb_tables() where schema_name not in ('raw') order by 1"
        ).fetchall()
    return [r[0] for r in rows]


def korea_rows(db: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select year, turnover_kusd from trade.kazakhstan_korea_trade order by year"
        ).fetchall()
    return [(str(y), str(t)) for y, t in rows]


def read_csv(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["year", "turnover_kusd"], rows[:1]
    return [(y, t) for y, t in rows[1:]]


def test_make_sql_piped(warehouse_copy: Path, tmp_path: Path) -> None:
    db = warehouse_copy / "kzkr.duckdb"
    before = sha256_file(db)
    tables_before = published_tables(db)
    export = warehouse_copy / "exports" / "korea.csv"
    script = "\n".join(
        [
            ".tables",
            "select count(*) as n_years from trade.kazakhstan_korea_trade;",
            ";",
            "-- a comment only",
            f"copy (select year, turnover_kusd from trade.kazakhstan_korea_trade order by year) to '{export}';",
            f".output {warehouse_copy / 'exports' / 'out.txt'}",
            "select 'to the file' as what;",
            ".output",
            "create table trade.not_allowed as select 1 as x;",
            "insert into meta.build_info select * from meta.build_info;",
            f"copy (select 1) to '{db}';",
            f"attach '{tmp_path / 'other.duckdb'}' as other;",
            "select 'still running' as after_errors;",
            ".quit",
        ]
    )
    proc = subprocess.run(
        ["make", "--no-print-directory", "sql"],
        cwd=REPO,
        env=plain_env(warehouse_copy, tmp_path),
        input=script + "\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out, err = proc.stdout, proc.stderr
    assert "Traceback" not in out + err, err
    for table in ("kazakhstan_korea_trade", "check_results", "build_info"):
        assert table in tables_before
        assert table in out, f".tables does not list {table}:\n{out}"
    assert re.search(rf"│\s+{len(korea_rows(db))}\s+│", out), out
    assert read_csv(export) == korea_rows(db)
    assert "to the file" in (warehouse_copy / "exports" / "out.txt").read_text()
    assert err.count("read-only mode") == 2, err  # create and insert refused
    assert re.search(r"Permission Error: Cannot access file .*kzkr", err), err  # copy onto the file
    assert re.search(r"Permission Error: Cannot access file .*other\.duckdb", err), err  # attach
    assert "still running" in out
    assert proc.returncode != 0  # piped: the CLI's exit code says that statements failed
    assert sha256_file(db) == before
    assert published_tables(db) == tables_before
    assert not (tmp_path / "other.duckdb").exists()


class Terminal:
    """A pseudo-terminal running a command as its controlling terminal, answering the queries a
    terminal emulator answers (background colour, device attributes, cursor position)."""

    ANSWERS = (
        (b"\x1b]11;?", b"\x1b]11;rgb:0000/0000/0000\x1b\\"),
        (b"\x1b[c", b"\x1b[?1;2c"),
        (b"\x1b[6n", b"\x1b[40;1R"),
    )

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))

        def controlling_tty() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, preexec_fn=controlling_tty
        )
        os.close(slave)
        self.raw = b""
        self.seen = 0  # the part of the screen text already matched by expect()
        self.pager_keys = 0
        self.paged = 0  # the screen text up to the last pager prompt answered

    def _pump(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return False
        if not data:
            return False
        self.raw += data
        for query, answer in self.ANSWERS:
            if query in data:
                os.write(self.master, answer)
        return True

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.decode(errors="replace")).replace("\r", "")

    def expect(self, pattern: str | re.Pattern[str], timeout: float = 60.0) -> str:
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            text = self.text
            page = PAGER.search(text, max(self.seen, self.paged))
            if page:  # a long result in the CLI's pager: page through it, then leave it, as a user does
                self.paged = page.end()
                self.send("q" if page.group(1) == "(END)" else " ")
                self.pager_keys += 1
                continue
            m = regex.search(text, max(self.seen, self.paged))
            if m:
                chunk = text[min(self.seen, m.start()) : m.end()]
                self.seen = m.end()
                return chunk
            if time.monotonic() > deadline or not self._pump(0.2):
                raise AssertionError(f"expected {regex.pattern!r}; the terminal shows:\n{self.text[-3000:]}")

    def settle(self, seconds: float = 0.5) -> None:
        """Read what the program prints until it is quiet for ``seconds``."""
        before = -1
        while before != len(self.raw):
            before = len(self.raw)
            self._pump(seconds)

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def run(self, line: str, then: str | re.Pattern[str] = PROMPT, timeout: float = 60.0) -> str:
        self.send(line + "\r")
        return self.expect(then, timeout)

    def close(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._pump(0.2)
        if self.proc.poll() is None:
            self.proc.kill()
        os.close(self.master)
        return self.proc.wait()


@pytest.fixture
def transcript_dir(tmp_path: Path) -> Path:
    return Path(os.environ.get("KZKR_TRANSCRIPT_DIR", tmp_path))


def test_make_sql_in_a_terminal(warehouse_copy: Path, tmp_path: Path, transcript_dir: Path) -> None:
    db = warehouse_copy / "kzkr.duckdb"
    before = sha256_file(db)
    export = warehouse_copy / "exports" / "korea_pty.csv"
    term = Terminal(["make", "--no-print-directory", "sql"], REPO, plain_env(warehouse_copy, tmp_path))
    try:
        term.expect("read-only")
        term.expect(PROMPT)
        assert "kazakhstan_korea_trade" in term.run(".tables")  # longer than the screen: paged
        assert ".tables" in term.run(".help")  # the CLI's own help lists its commands
        n = len(korea_rows(db))
        assert re.search(
            rf"│\s+{n}\s+│", term.run("select count(*) as n_years from trade.kazakhstan_korea_trade;")
        )
        assert "Error" not in term.run(";")  # a lone `;`: nothing to run, no error, the shell goes on
        assert "Error" not in term.run("-- only a comment")
        term.send("select 'typed, then abandoned'\x03")  # Ctrl-C while typing: the line is dropped
        term.expect(PROMPT)
        term.send(NEVER + "\r")  # Ctrl-C while a query runs: it is cancelled, the shell goes on
        term.settle(1.0)
        term.send("\x03")
        term.expect(PROMPT, timeout=30)
        assert "still here" in term.run("select 'still ' || 'here' as after_interrupt;")
        term.run(
            f"copy (select year, turnover_kusd from trade.kazakhstan_korea_trade order by year) to '{export}';"
        )
        refused = term.run("create table trade.not_allowed as select 1 as x;")
        assert "read-only mode" in refused, refused
        term.send(".quit\r")
        code = term.close()
    finally:
        if term.proc.poll() is None:
            term.close(timeout=1)
        (transcript_dir / "make_sql_pty_transcript.txt").write_text(term.text)
    text = term.text
    assert "Traceback" not in text and "make: ***" not in text, text[-3000:]
    assert code == 0, text[-3000:]  # a session ended with .quit is a success, whatever failed in it
    assert "typed, then abandoned" not in (tmp_path / ".duckdb_history").read_text()
    history = (tmp_path / ".duckdb_history").read_text()  # the CLI's own history, in $HOME
    assert "select count(*) as n_years from trade.kazakhstan_korea_trade;" in history
    assert read_csv(export) == korea_rows(db)
    assert sha256_file(db) == before
