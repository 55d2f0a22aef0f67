"""Concurrent readers and overlapping builds.

One scenario (a module fixture) on a private warehouse holding a published build:

1. three reader processes (separate Pythons, DuckDB ``read_only`` connections) query the published
   file in a loop — two reconnect for every read, one keeps its connection for a while — each read
   one transaction: ``meta.build_info``, the row count of every mart, and the ``run_id`` of every
   table that has one;
2. two ``kzkr build --force --wait 0`` start at the same moment: one builds, the other exits 3
   naming the holder of the lock;
3. while the winner runs, ``kzkr build --wait 600`` (no --force) queues on the lock and, once the
   winner has published, finds nothing changed since the winner's build;
4. a second ``kzkr build --force`` publishes another new build;
5. the readers stop. Every read must have succeeded and seen one complete, consistent build.

Also: the Dagster warehouse job carries the ``kzkr/warehouse`` tag and the instance that
``kzkr build`` / ``make ui`` use limits that tag to one run at a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import (
    KZKR,
    PUBLISHED_NAME,
    BuiltWarehouse,
    build_info,
    copy_warehouse,
    kzkr_env,
    missing_rows,
    run_kzkr,
)

from pipelines.settings import Settings
from pipelines.summary import mart_row_counts

READERS = 3

READER = r"""
import json, sys, time
from pathlib import Path
import duckdb

path, out, stop, hold = sys.argv[1], sys.argv[2], Path(sys.argv[3]), float(sys.argv[4])
SCHEMAS = json.loads(sys.argv[5])  # the schemas mart_row_counts reads: the manifest's marts + quality

def read(con):
    # One transaction: build_info, every mart's row count, every run_id column, all from one snapshot.
    con.execute("begin transaction")
    try:
        build_id, run_id = con.execute("select build_id, run_id from meta.build_info").fetchone()
        tables = con.execute(
            "select schema_name, table_name, list_contains(list(column_name), 'run_id') "
            "from duckdb_columns() where database_name = current_database() "
            "and list_contains(?::varchar[], schema_name) group by all order by 1, 2",
            [SCHEMAS],
        ).fetchall()
        parts = []
        for schema, table, has_run_id in tables:
            q = f'"{schema}"."{table}"'
            rid = f"list(distinct run_id::varchar)" if has_run_id else "[]::varchar[]"
            parts.append(f"select '{schema}.{table}' as t, count(*) as n, {rid} as r from {q}")
        rows = con.execute(" union all ".join(parts)).fetchall() if parts else []
    finally:
        con.execute("commit")
    counts = {t: n for t, n, _ in rows}
    run_ids = {t: sorted(x for x in r if x is not None) for t, n, r in rows}
    return {"build_id": build_id, "run_id": run_id, "counts": counts, "run_ids": run_ids}

with open(out, "a") as fh:
    con, opened = None, 0.0
    while not stop.exists():
        rec = {"t": time.time()}
        try:
            if con is None or time.monotonic() - opened > hold:
                if con is not None:
                    con.close()
                con, opened = duckdb.connect(path, read_only=True), time.monotonic()
            rec.update(read(con))
        except Exception as exc:
            rec["error"] = f"{type(exc).__name__}: {exc}"
            if con is not None:
                con.close()
            con = None
        rec["seconds"] = time.time() - rec["t"]
        fh.write(json.dumps(rec) + "\n")
        fh.flush()
        time.sleep(0.25)  # leave the CPU to the builds: two cores
"""


@dataclass
class Scenario:
    reference_counts: dict[str, int]
    initial_id: str
    reads: list[list[dict[str, object]]]  # per reader
    racers: list[subprocess.CompletedProcess[str]]  # the two builds started at once
    racer_pids: list[int]
    waiter: subprocess.CompletedProcess[str]
    waiter_started: float
    winner_done: float
    first_id: str
    second: subprocess.CompletedProcess[str]
    second_id: str


def _popen_build(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [KZKR, "build", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(p: subprocess.Popen[str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    out, err = p.communicate(timeout=timeout)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


@pytest.fixture(scope="module")
def scenario(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    tmp = tmp_path_factory.mktemp("concurrency")
    wh = copy_warehouse(built_warehouse, tmp / "warehouse")
    published = wh / PUBLISHED_NAME
    env = kzkr_env(built_warehouse.raw_dir, wh)
    with duckdb.connect(str(published), read_only=True) as con:
        reference = dict(mart_row_counts(con))
    schemas = json.dumps(sorted({t.split(".", 1)[0] for t in reference}))
    stop = tmp / "stop"
    outs = [tmp / f"reader-{i}.jsonl" for i in range(READERS)]
    holds = ["0", "0", "3"]  # the third reader keeps its connection for 3 s at a time
    readers = [
        subprocess.Popen([sys.executable, "-c", READER, str(published), str(out), str(stop), hold, schemas])
        for out, hold in zip(outs, holds, strict=True)
    ]
    try:
        deadline = time.monotonic() + 120
        while not all(o.exists() and o.stat().st_size for o in outs):
            assert time.monotonic() < deadline, "the readers did not start"
            assert all(r.poll() is None for r in readers), "a reader died"
            time.sleep(0.2)

        racers = [_popen_build(["--force", "--wait", "0"], env) for _ in range(2)]
        # The loser exits 3 within seconds; then queue a third build behind the winner.
        deadline = time.monotonic() + 300
        while all(p.poll() is None for p in racers):
            assert time.monotonic() < deadline, "neither racing build finished or gave up"
            time.sleep(0.1)
        waiter_started = time.time()
        waiter = _popen_build(["--wait", "600"], env)
        done = [_finish(p) for p in racers]
        winner_done = time.time()
        first_id = build_info(published)[0]
        waited = _finish(waiter)
        second = run_kzkr("build", "--force", raw_dir=built_warehouse.raw_dir, warehouse_dir=wh)
        second_id = build_info(published)[0]
        time.sleep(1.0)  # a few reads of the second build
    finally:
        stop.touch()
        for r in readers:
            r.wait(timeout=60)
    reads = [[json.loads(x) for x in o.read_text().splitlines()] for o in outs]
    yield Scenario(
        reference_counts=reference,
        initial_id=built_warehouse.build_id,
        reads=reads,
        racers=done,
        racer_pids=[p.pid for p in racers],
        waiter=waited,
        waiter_started=waiter_started,
        winner_done=winner_done,
        first_id=first_id,
        second=second,
        second_id=second_id,
    )


@pytest.mark.e2e
def test_readers_never_fail(scenario: Scenario) -> None:
    for i, reads in enumerate(scenario.reads):
        assert len(reads) >= 10, f"reader {i} made only {len(reads)} reads"
        errors = [r["error"] for r in reads if "error" in r]
        assert not errors, f"reader {i}: {len(errors)} of {len(reads)} reads failed, e.g. {errors[:3]}"
    builds = len({r["build_id"] for reads in scenario.reads for r in reads})
    print(
        f"{sum(map(len, scenario.reads))} reads by {len(scenario.reads)} readers, 0 errors, {builds} builds seen"
    )


@pytest.mark.e2e
def test_each_read_sees_one_complete_build(scenario: Scenario) -> None:
    known = {scenario.initial_id, scenario.first_id, scenario.second_id}
    for reads in scenario.reads:
        for r in reads:
            if "error" in r:
                continue
            assert r["build_id"] in known, r["build_id"]
            counts = r["counts"]
            assert isinstance(counts, dict)
            gaps = missing_rows(counts, scenario.reference_counts)
            assert not gaps, f"read of build {r['build_id']} is incomplete: {gaps}"
            run_ids = r["run_ids"]
            assert isinstance(run_ids, dict)
            for table, ids in run_ids.items():
                assert ids in ([], [r["run_id"]]), (
                    f"{table} holds run(s) {ids}, build_info says {r['run_id']}"
                )


@pytest.mark.e2e
def test_readers_saw_the_builds_change(scenario: Scenario) -> None:
    seen = {r["build_id"] for reads in scenario.reads for r in reads if "error" not in r}
    assert scenario.initial_id in seen
    assert scenario.second_id in seen
    assert len(seen) >= 2
    # Build ids only move forward in each reader: a reader never sees an older build again.
    order = {scenario.initial_id: 0, scenario.first_id: 1, scenario.second_id: 2}
    for reads in scenario.reads:
        ranks = [order[str(r["build_id"])] for r in reads if "error" not in r]
        assert ranks == sorted(ranks)


@pytest.mark.e2e
def test_two_builds_at_once_one_runs_the_other_exits_3(scenario: Scenario) -> None:
    codes = sorted(p.returncode for p in scenario.racers)
    detail = "\n".join(
        f"exit {p.returncode}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}" for p in scenario.racers
    )
    assert codes == [0, 3], detail
    loser = next(p for p in scenario.racers if p.returncode == 3)
    winner_pid = next(
        pid for pid, p in zip(scenario.racer_pids, scenario.racers, strict=True) if p.returncode == 0
    )
    assert "error: another build is running (pid " in loser.stderr
    assert f"pid {winner_pid} since " in loser.stderr, loser.stderr
    assert "--wait SECONDS" in loser.stderr
    assert loser.stdout == "", "the build that gave up did something"
    assert scenario.first_id not in (scenario.initial_id, scenario.second_id)


@pytest.mark.e2e
def test_a_queued_build_waits_for_the_lock(scenario: Scenario) -> None:
    p = scenario.waiter
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    # It ran after the winner had published: it saw the winner's build as current.
    assert f"nothing changed since build {scenario.first_id}" in p.stdout, p.stdout


@pytest.mark.e2e
def test_force_rebuilds_when_nothing_changed(scenario: Scenario) -> None:
    assert scenario.second.returncode == 0, scenario.second.stdout[-2000:] + scenario.second.stderr[-2000:]
    assert scenario.second_id != scenario.first_id


def test_warehouse_job_limited_to_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dagster as dg

    from pipelines.cli import prepare_dagster_home
    from pipelines.definitions import CONCURRENCY_TAG, JOB_NAME, load_defs

    assert CONCURRENCY_TAG == "kzkr/warehouse"
    job = load_defs().resolve_job_def(JOB_NAME)
    assert CONCURRENCY_TAG in job.tags

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = prepare_dagster_home(Settings(raw_dir=tmp_path / "raw", warehouse_dir=tmp_path / "wh"))
    assert home == tmp_path / "wh" / ".dagster"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None, "no run queue: runs would not be limited"
        limits = [dict(x) for x in queue.tag_concurrency_limits]
        assert {"key": CONCURRENCY_TAG, "limit": 1} in limits, limits
        coordinator = instance.run_coordinator
        assert type(coordinator).__name__ == "QueuedRunCoordinator"


def test_lock_message_names_a_holder_that_has_not_written_its_pid_yet(tmp_path: Path) -> None:
    """The race CI once hit: the loser reads the lock file in the instant between the winner's
    flock and the winner writing its pid. The loser must wait for the pid, not say 'another
    process'."""
    import fcntl
    import threading

    from pipelines.publish.warehouse import BuildLockedError, build_lock

    settings = Settings(raw_dir=tmp_path / "raw", warehouse_dir=tmp_path / "warehouse")
    settings.warehouse_dir.mkdir()
    holder = settings.lock_file.open("a+")
    fcntl.flock(holder.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # locked, nothing written yet

    def write_pid_late() -> None:
        time.sleep(0.3)
        holder.write("pid 4242 since 2026-01-01T00:00:00+00:00\n")
        holder.flush()

    writer = threading.Thread(target=write_pid_late)
    writer.start()
    try:
        with (
            pytest.raises(BuildLockedError, match=r"another build is running \(pid 4242 since"),
            build_lock(settings, wait_seconds=0),
        ):
            pass
    finally:
        writer.join()
        fcntl.flock(holder.fileno(), fcntl.LOCK_UN)
        holder.close()
