"""`make sql` / `kzkr sql`: the DuckDB CLI itself on the published warehouse, read-only.

The CLI is the project's own (the ``duckdb-cli`` package installed by ``make env``), a version that
reads the published file (it is written in DuckDB 1.4's storage format: pipelines/publish/compat.py).
It is started

- ``-readonly``: every write to the database (``create``, ``insert``, ``attach`` read-write …) is refused;
- with file access from SQL limited to ``<warehouse>/exports/`` (``allowed_directories`` and
  ``enable_external_access = false``, which cannot be switched back on in the session), so
  ``copy (…) to 'warehouse/exports/result.csv'`` works while nothing else on disk can be written
  or attached from SQL: not the published file, not ``raw/``;
- in a terminal, as the terminal's foreground process group (:func:`run_interactive`), so Ctrl-C
  reaches the CLI alone: it cancels the running query or the line being typed and the session goes
  on; ``make`` and ``kzkr`` never see it. Piped, the CLI replaces the process (``exec``).

Everything else is the CLI's own: line editing and history (``~/.duckdb_history``), ``.tables``,
``.help``, ``.mode``, and ``.output FILE`` to send results to a file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

from pipelines.settings import Settings


def exports_dir(settings: Settings) -> Path:
    """Where SQL may write files: ``<warehouse>/exports/``."""
    return settings.warehouse_dir / "exports"


def cli_binary() -> Path | None:
    """The DuckDB CLI binary of the ``duckdb-cli`` package (not its Python wrapper script, which runs
    the binary as a child and would die on Ctrl-C with a traceback)."""
    spec = importlib.util.find_spec("duckdb_cli")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        exe = Path(location) / "duckdb"
        if exe.is_file() and os.access(exe, os.X_OK):
            return exe
    return None


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def cli_args(exe: Path, settings: Settings) -> list[str]:
    """The command line of the shell (without reading ``~/.duckdbrc``: the session is ours)."""
    exports = exports_dir(settings)
    # The published file is opened by -readonly before these run; ATTACH of any other file is refused.
    return [
        str(exe),
        "-readonly",
        "-no-init",
        "-cmd",
        f"set allowed_directories = [{_quote(str(exports) + os.sep)}]",
        "-cmd",
        "set enable_external_access = false",
        "-cmd",
        ".print " + '"' + read_only_banner(settings).replace('"', "'") + '"',  # .print drops bare quotes
        str(settings.published),
    ]


def read_only_banner(settings: Settings) -> str:
    exports = exports_dir(settings)
    rel = os.path.relpath(exports) if exports.is_relative_to(Path.cwd()) else str(exports)
    return (
        f"kzkr: {settings.published} read-only. .tables lists tables, .help the commands, .quit leaves. "
        f"Export: copy (select …) to '{rel}/result.csv'; or .output FILE"
    )


def _foreground(tty: int, parent_group: int) -> None:
    """In the child, before exec: its own process group, made the terminal's foreground group (or,
    if the terminal refuses, back in the parent's group, as a plain child)."""
    os.setpgid(0, 0)
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(tty, os.getpgrp())
    except OSError:
        os.setpgid(0, parent_group)
    finally:
        signal.signal(signal.SIGTTOU, previous)


def run_interactive(argv: list[str], tty: int) -> int:
    """Run the CLI as the terminal's foreground process group, as a job-control shell runs a job: the
    terminal's Ctrl-C then reaches the CLI (which cancels the running query) and not ``make`` or
    ``kzkr``, which would otherwise die of it while the CLI runs on. A session that ends with
    ``.quit`` or Ctrl-D exits 0, however many of its statements failed."""
    group = os.getpgrp()
    proc = subprocess.Popen(argv, preexec_fn=lambda: _foreground(tty, group))  # kzkr runs no threads
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        code = proc.wait()
        with contextlib.suppress(OSError):
            os.tcsetpgrp(tty, group)
    finally:
        signal.signal(signal.SIGTTOU, previous)
    return 128 - code if code < 0 else 0


def main(settings: Settings) -> int:
    if not settings.published.exists():
        print(f"error: {settings.published} does not exist yet; run `make run` first", file=sys.stderr)
        return 1
    exe = cli_binary()
    if exe is None:
        print(
            "error: the DuckDB CLI (package duckdb-cli) is not installed in this environment; "
            "run `make env` (or `make sql`, which installs it)",
            file=sys.stderr,
        )
        return 1
    exports_dir(settings).mkdir(parents=True, exist_ok=True)
    argv = cli_args(exe, settings)
    sys.stdout.flush()
    if os.isatty(0):
        return run_interactive(argv, 0)
    # Piped: the CLI itself, its exit code (1 if a statement failed) passed on to scripts.
    os.execv(exe, argv)
    return 0  # not reached
