"""A build killed at any step loses nothing.

Each test starts ``kzkr build --force`` in its own process group and SIGKILLs the whole group (the
build, Dagster and dbt's subprocess) at one step: during ingest, during dbt, at the checks and at the
publish step. Afterwards the published warehouse is intact and readable: byte-identical to before
or — if the kill landed after the atomic rename — a complete new build; the build lock died with
its holder; and the next build removes the killed build's leftovers. The steps run one after
another on one warehouse (each killed build is the "next build" of the previous one), and the last
test runs a build to completion: it succeeds and leaves ``.builds/`` empty.

The kill point: with the test hook ``KZKR_TEST_PAUSE_AT=<step>`` (``pipelines.publish.warehouse.pause_point``)
the build prints ``KZKR_TEST_PAUSED <step>`` and sleeps there. Where a step has no hook yet, the test
kills when the step's progress line appears instead (``  ingest``, ``  dbt``, the dbt summary line
for the checks, ``  publish``) — same step, a less exact moment.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from conftest import (
    KZKR,
    PUBLISHED_NAME,
    REPO,
    BuiltWarehouse,
    build_info,
    copy_warehouse,
    kzkr_env,
    missing_rows,
    run_kzkr,
    sha256_file,
    sha256_tree,
)

from pipelines.publish.warehouse import build_lock
from pipelines.settings import Settings
from pipelines.summary import mart_row_counts

pytestmark = pytest.mark.e2e

STEPS = ("ingest", "dbt", "checks", "publish")
# Progress lines that show a step is under way, used where the step has no pause hook (yet).
FALLBACK: dict[str, re.Pattern[str]] = {
    "ingest": re.compile(r"^  ingest   "),
    "dbt": re.compile(r"^  dbt      (?!build \(log)(?!\d+ nodes built)\S"),
    "checks": re.compile(r"^  dbt      \d+ nodes built"),
    "publish": re.compile(r"^  publish  "),
}
WAIT_FOR_STEP = 900.0


def hooked_steps() -> set[str]:
    """The steps whose code calls ``pause_point`` (then the test waits for the hook, not the fallback)."""
    sources = [p.read_text(encoding="utf-8") for p in (REPO / "pipelines").rglob("*.py")]
    return {step for step in STEPS if any(f'pause_point("{step}")' in src for src in sources)}


class BuildProcess:
    """``kzkr build`` in its own process group, its stdout read line by line in a thread."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [KZKR, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, patterns: list[re.Pattern[str]], timeout: float) -> str:
        """The first line matching one of ``patterns``; fails if the process ends first."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {patterns} within {timeout} s:\n" + self.output())
            try:
                line = self._queue.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait()
                raise AssertionError(
                    f"the build ended (exit {self.proc.returncode}) before {patterns}:\n" + self.output()
                )
            if any(p.search(line) for p in patterns):
                return line

    def kill_group(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=60)
        self._reader.join(timeout=10)

    def output(self) -> str:
        return "\n".join(self.lines[-60:])


@dataclass
class CrashState:
    warehouse: Path
    raw: Path
    reference_counts: dict[str, int]
    raw_sha: str
    leftovers: list[Path] = field(default_factory=list)  # files the last killed build left behind
    published_ids: list[str] = field(default_factory=list)


def _counts(published: Path) -> dict[str, int]:
    with duckdb.connect(str(published), read_only=True) as con:
        return dict(mart_row_counts(con))


@pytest.fixture(scope="module")
def crash(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> CrashState:
    wh = copy_warehouse(built_warehouse, tmp_path_factory.mktemp("crash") / "warehouse")
    return CrashState(
        warehouse=wh,
        raw=built_warehouse.raw_dir,
        reference_counts=_counts(built_warehouse.published),
        raw_sha=sha256_tree(built_warehouse.raw_dir),
        published_ids=[built_warehouse.build_id],
    )


def _assert_published_intact(state: CrashState, sha_before: str, id_before: str) -> str:
    """The published file is the old build, byte for byte, or a complete new build. Returns its id."""
    published = state.warehouse / PUBLISHED_NAME
    assert published.exists(), "the published warehouse is gone"
    assert not published.with_name(PUBLISHED_NAME + ".wal").exists(), "the published file has a WAL"
    build_id, _ = build_info(published)  # opens read-only: fails if the file is not a readable database
    if sha256_file(published) == sha_before:
        assert build_id == id_before
        return build_id
    assert build_id != id_before, "the published file changed but claims to be the same build"
    gaps = missing_rows(_counts(published), state.reference_counts)
    assert not gaps, f"the new published build is incomplete: {gaps}"
    return build_id


def _build_files(state: CrashState) -> list[Path]:
    builds = state.warehouse / ".builds"
    return sorted(builds.iterdir()) if builds.exists() else []


@pytest.mark.parametrize("step", STEPS)
def test_kill_during_step_keeps_published_intact(step: str, crash: CrashState) -> None:
    published = crash.warehouse / PUBLISHED_NAME
    sha_before = sha256_file(published)
    id_before = build_info(published)[0]
    previous_leftovers = list(crash.leftovers)

    env = kzkr_env(crash.raw, crash.warehouse, {"KZKR_TEST_PAUSE_AT": step})
    build = BuildProcess(["build", "--force", "--wait", "60"], env)
    marker = re.compile(rf"^KZKR_TEST_PAUSED {step}\b")
    try:
        line = build.wait_for([marker] if step in hooked_steps() else [FALLBACK[step]], WAIT_FOR_STEP)
    finally:
        build.kill_group()
    how = "pause hook" if marker.search(line) else f"progress line {line.strip()!r}"
    print(f"killed the build at {step} ({how})")

    # The killed build had started by cleaning up what the previous killed build left.
    still_there = [p for p in previous_leftovers if p.exists()]
    assert not still_there, f"leftovers of the previous killed build were not removed: {still_there}"

    crash.published_ids.append(_assert_published_intact(crash, sha_before, id_before))

    # flock died with its holder: the lock is free at once.
    with build_lock(Settings(raw_dir=crash.raw, warehouse_dir=crash.warehouse), wait_seconds=0):
        pass

    crash.leftovers = _build_files(crash)
    if step in ("ingest", "dbt"):
        assert crash.leftovers, f"expected the killed build's file under .builds/ after a kill at {step}"


def test_next_build_cleans_up_and_succeeds(crash: CrashState) -> None:
    published = crash.warehouse / PUBLISHED_NAME
    id_before = build_info(published)[0]
    leftovers = _build_files(crash)
    proc = run_kzkr("build", "--force", "--wait", "60", raw_dir=crash.raw, warehouse_dir=crash.warehouse)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for p in leftovers:
        assert not p.exists(), f"{p} was not cleaned up"
        assert f"removed leftover of an interrupted build: {p}" in proc.stdout
    assert _build_files(crash) == [], "warehouse/.builds/ is not empty after a successful build"
    new_id = build_info(published)[0]
    assert new_id != id_before
    assert not missing_rows(_counts(published), crash.reference_counts)
    assert sha256_tree(crash.raw) == crash.raw_sha, "a build wrote under the raw directory"
