"""Process-level speed-ups of ``kzkr build`` (issue 14): nothing here changes what a build stores.

- **Dagster's SQLite storage.** The run's ~1,700 events (one per asset, check, step output and
  evaluation) are each stored by a new SQLite connection that commits and closes. In WAL mode, with
  SQLite's default ``synchronous=FULL``, every commit waits for an fsync of the WAL, and closing a
  file's last connection checkpoints the WAL into the database (more fsyncs): a build made ~20,000
  ``fdatasync`` calls, 10–20 ms an event on this machine's shared disk. :func:`tune_dagster_sqlite`
  gives every SQLite connection SQLAlchemy opens in this process ``synchronous=NORMAL`` (in WAL mode
  a commit no longer waits for the disk; the database stays consistent after any crash, an OS crash
  or power loss may only lose the last transactions: https://www.sqlite.org/pragma.html#pragma_synchronous)
  and keeps one idle connection open per WAL database until the process exits, so that a closing
  connection is not the last one and does not checkpoint (SQLite still checkpoints every 1,000
  pages, and at exit). Measured with strace: 20,256 ``fdatasync`` calls per build before, 835 after.
- **One SQLAlchemy engine per SQLite file.** Dagster's SQLite storages create a new engine for every
  connection (every event) and dispose of it. An engine owns SQLAlchemy's compiled-statement cache,
  so every insert was compiled again (a quarter of a build's event cost in a profile), on top of the
  engine's own creation. :func:`cache_dagster_sqlite_engines` makes those modules reuse one engine per
  database URL and options; the pool stays ``NullPool`` (a connection per use, as before), so what is
  stored and when it is committed are unchanged.
- **Great Expectations' import** (3–5 s) happens in a background thread while Dagster and dbt run
  (:func:`import_great_expectations_in_background`), instead of at the start of the checks step.
"""

from __future__ import annotations

import contextlib
import importlib
import sqlite3
import threading
from typing import Any

_keepers: dict[str, sqlite3.Connection] = {}
_lock = threading.Lock()


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("pragma synchronous = normal")
        database = cursor.execute("pragma database_list").fetchone()
        mode = cursor.execute("pragma journal_mode").fetchone()
    finally:
        cursor.close()
    path = database[2] if database else ""
    # a keeper only for a file already in WAL mode: one opened earlier would not share its WAL index
    if not path or not mode or mode[0] != "wal":
        return
    with _lock:
        if path not in _keepers:
            keeper = sqlite3.connect(path, check_same_thread=False)
            keeper.execute("select count(*) from sqlite_master").fetchone()  # opens the file and its WAL
            _keepers[path] = keeper


def tune_dagster_sqlite() -> None:
    """Apply the SQLite settings above to every connection SQLAlchemy opens from now on (idempotent)."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    if not event.contains(Pool, "connect", _on_connect):
        event.listen(Pool, "connect", _on_connect)


# Dagster's SQLite storage modules that bind ``create_engine`` at import (module path, attribute)
_SQLITE_STORAGE_MODULES = (
    "dagster._core.storage.event_log.sqlite.sqlite_event_log",
    "dagster._core.storage.event_log.sqlite.consolidated_sqlite_event_log",
    "dagster._core.storage.runs.sqlite.sqlite_run_storage",
    "dagster._core.storage.schedules.sqlite.sqlite_schedule_storage",
)


def _engine_key(url: Any, kwargs: dict[str, Any]) -> tuple[Any, ...]:
    connect_args = tuple(sorted((kwargs.get("connect_args") or {}).items()))
    rest = tuple(sorted((k, repr(v)) for k, v in kwargs.items() if k != "connect_args"))
    return (str(url), connect_args, rest)


def _caching(create_engine: Any) -> Any:
    engines: dict[tuple[Any, ...], Any] = {}

    def create_engine_once(url: Any, **kwargs: Any) -> Any:
        key = _engine_key(url, kwargs)
        with _lock:
            engine = engines.get(key)
            if engine is None:
                engine = engines[key] = create_engine(url, **kwargs)
        return engine

    create_engine_once.kzkr_caching = True  # type: ignore[attr-defined]
    create_engine_once.engines = engines  # type: ignore[attr-defined]
    return create_engine_once


def cache_dagster_sqlite_engines() -> list[str]:
    """Make Dagster's SQLite storages reuse one engine per database (idempotent); returns the modules
    patched. A module missing in another Dagster version is skipped: the build is then only slower."""
    patched = []
    for name in _SQLITE_STORAGE_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        create = getattr(module, "create_engine", None)
        if create is None:
            continue
        if not getattr(create, "kzkr_caching", False):
            module.create_engine = _caching(create)  # type: ignore[attr-defined]
        patched.append(name)
    return patched


def import_great_expectations_in_background() -> threading.Thread:
    """Start importing ``great_expectations``; a later ``import`` waits for it (Python's import lock)."""

    def target() -> None:
        # an error here is raised again, and reported, where the checks step imports it
        with contextlib.suppress(Exception):
            importlib.import_module("great_expectations")

    thread = threading.Thread(target=target, name="import-great-expectations", daemon=True)
    thread.start()
    return thread
