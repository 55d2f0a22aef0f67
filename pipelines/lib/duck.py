"""DuckDB connections: the one place that applies the memory limit."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

_SPILL: list[tempfile.TemporaryDirectory[str]] = []


def connect(
    database: str | Path = ":memory:", *, memory_limit: str | None = None, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A connection with bounded memory (``memory_limit``, default ``KZKR_DUCKDB_MEMORY_LIMIT`` or
    1GB; DuckDB's own default is 80 % of RAM) and no progress bar in the build's output. A file
    database spills next to itself (``<file>.tmp``, DuckDB's default); an in-memory one into a
    private temporary directory removed when the process exits."""
    if memory_limit is None:
        from pipelines.settings import Settings

        memory_limit = Settings.from_env().memory_limit
    config: dict[str, str] = {"memory_limit": memory_limit}
    if str(database) != ":memory:" and not read_only:
        # A new build file is written in DuckDB 1.4's storage format, which it keeps: readable by
        # DuckDB 1.4+ (the CLI of `make sql`, BI tools), not only by this 2.x (pipelines/publish/compat.py).
        from pipelines.publish.compat import CONNECT_CONFIG

        config.update(CONNECT_CONFIG)
    if str(database) == ":memory:":
        if not _SPILL:
            _SPILL.append(tempfile.TemporaryDirectory(prefix="kzkr-duckdb-spill-"))
        config["temp_directory"] = _SPILL[0].name
    con = duckdb.connect(str(database), read_only=read_only, config=config)
    con.execute("set enable_progress_bar = false")  # a session option: not accepted in `config`
    return con
