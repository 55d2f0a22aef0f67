"""The one warehouse lock and the ownership of build files.

Every build — ``kzkr build``, a run the UI, the schedule or the sensor started — holds the lock
for its whole run (:func:`run_lock`, entered by the run's warehouse resource when the run starts);
a second build waits for it. Each build file ``.builds/build-<run>.duckdb`` has an owner record
``build-<run>.owner`` (pid and process start time); cleanup removes only the files of builds
whose owner is dead, never those of a build that is still running.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pipelines.settings import Settings


class BuildLockedError(Exception):
    pass


OWNER_SUFFIX = ".owner"


def _process_start(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot, /proc/<pid>/stat field 22), so
    that a recycled pid is not taken for the build's owner; None where /proc does not tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()[19]


def _alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    now_start = _process_start(pid)
    return start is None or now_start is None or now_start == start


def claim_build(settings: Settings, run_id: str) -> Path:
    """Record this process as the owner of run ``run_id``'s build file (``build-<run>.owner``);
    :func:`clean_stale_builds` leaves a build alone while its owner lives."""
    settings.builds_dir.mkdir(parents=True, exist_ok=True)
    owner = settings.build_db(run_id).with_suffix(OWNER_SUFFIX)
    record = {"pid": os.getpid(), "start": _process_start(os.getpid()), "run_id": run_id}
    tmp = owner.with_name(owner.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record) + "\n")
    os.replace(tmp, owner)
    return owner


def _owner_alive(owner: Path) -> bool:
    try:
        record = json.loads(owner.read_text())
        return _alive(int(record["pid"]), record.get("start"))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _build_stem(path: Path) -> str:
    """``build-<run>`` of every file a build leaves (``.duckdb``, ``.duckdb.wal``, ``.owner``, …)."""
    return path.name.split(".", 1)[0]


def discard_build(settings: Settings, run_id: str) -> list[Path]:
    """Remove what run ``run_id`` left under ``.builds/`` (its build file if it was not published,
    the write-ahead log, the owner record): the run is over."""
    stem = settings.build_db(run_id).name.split(".", 1)[0]
    removed = []
    if settings.builds_dir.exists():
        for p in settings.builds_dir.iterdir():
            if _build_stem(p) == stem:
                p.unlink(missing_ok=True)
                removed.append(p)
    return removed


def clean_stale_builds(settings: Settings, keep: Path | None = None) -> list[Path]:
    """Remove the files of builds whose owner is dead (a crashed or killed build): every file of
    ``build-<run>`` unless ``build-<run>.owner`` names a live process. Call while holding the build
    lock; builds of live owners (and ``keep``) are never touched."""
    removed: list[Path] = []
    if settings.builds_dir.exists():
        files = sorted(settings.builds_dir.iterdir())
        live = {
            _build_stem(p)
            for p in files
            if p.name.endswith(OWNER_SUFFIX) and not p.name.endswith(".tmp") and _owner_alive(p)
        }
        if keep is not None:
            live.add(_build_stem(keep))
        for p in files:
            if _build_stem(p) in live:
                continue
            p.unlink(missing_ok=True)
            removed.append(p)
    for p in settings.warehouse_dir.glob(".rollback-*.duckdb"):
        pid = p.name.removeprefix(".rollback-").removesuffix(".duckdb")
        if pid.isdigit() and _alive(int(pid), None):
            continue
        p.unlink(missing_ok=True)
        removed.append(p)
    return removed


def _lock_holder(fh: IO[str], patience: float = 2.0) -> str:
    """Who holds the lock, as written by the holder. The holder writes its pid just after
    acquiring the lock, so a racer that lost by milliseconds may find the file still empty:
    give the holder a moment before falling back to an anonymous message."""
    deadline = time.monotonic() + patience
    while True:
        fh.seek(0)
        text = fh.read().strip()
        if text or time.monotonic() >= deadline:
            return text or "another process"
        time.sleep(0.05)


# Locks this process holds: lock file -> how many nested holders. A process that holds the lock
# (``kzkr build``, which checks and cleans before it runs the job in-process) and then asks again
# (the run's warehouse resource) is let through instead of deadlocking on its own flock.
_HELD: dict[Path, int] = {}


@contextlib.contextmanager
def build_lock(
    settings: Settings,
    wait_seconds: float = 0.0,
    holder: str = "",
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """The one warehouse lock: an exclusive ``flock`` on ``<warehouse>/.build.lock``, held by every
    build, whoever started it, for its whole run. The OS drops it when the holder dies, so a
    crashed build never leaves a stale lock behind. ``holder`` (e.g. ``run <id>``) is written into
    the file next to the pid for whoever waits; ``on_wait`` is called once, with the current
    holder, if the lock is taken. Re-entrant within one process."""
    key = settings.lock_file.absolute()
    if _HELD.get(key):
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    fh = settings.lock_file.open("a+")
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                current = _lock_holder(fh)
                fh.close()
                raise BuildLockedError(
                    f"another build is running ({current}); it holds {settings.lock_file}. "
                    "Wait for it, or pass --wait SECONDS."
                ) from None
            if on_wait is not None and not told:
                on_wait(_lock_holder(fh))
                told = True
            time.sleep(0.5)
    try:
        fh.seek(0)
        fh.truncate()
        who = f" ({holder})" if holder else ""
        fh.write(f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}{who}\n")
        fh.flush()
        _HELD[key] = 1
        yield
    finally:
        _HELD.pop(key, None)
        fh.seek(0)
        fh.truncate()
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


@contextlib.contextmanager
def run_lock(
    settings: Settings,
    run_id: str,
    wait_seconds: float,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[list[Path]]:
    """What every build run does from its first step to its end (the warehouse resource enters it
    when the run starts and leaves it when the run ends): take the warehouse lock (waiting up to
    ``wait_seconds`` for another build), remove the files of dead builds, claim this run's build
    file, and at the end remove whatever of it was not published. Yields the removed leftovers."""
    with build_lock(settings, wait_seconds=wait_seconds, holder=f"run {run_id}", on_wait=on_wait):
        removed = clean_stale_builds(settings)
        claim_build(settings, run_id)
        try:
            yield removed
        finally:
            discard_build(settings, run_id)


def enter_run_lock(
    settings: Settings, run_id: str, wait_seconds: float, on_wait: Callable[[str], None] | None = None
) -> contextlib.ExitStack:
    """:func:`run_lock`, entered now and left when the returned stack is closed (for a resource's
    setup and teardown). Raises :class:`BuildLockedError` if the lock stays taken."""
    stack = contextlib.ExitStack()
    stack.enter_context(run_lock(settings, run_id, wait_seconds, on_wait))
    return stack
