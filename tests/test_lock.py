"""The one warehouse lock and the ownership of build files.

- cleanup removes the files of a build whose owner is dead, never those of a live build (before,
  ``clean_stale_builds`` deleted everything under ``.builds/``: a `kzkr build` deleted a running
  daemon run's build file);
- the lock is re-entrant in one process (``kzkr build`` holds it, then runs the job in-process);
- a Dagster run that uses the warehouse resource holds the lock from its first step to its last, and
  a second run waits for it (a multi-step in-process run, the real resource).
"""

# No `from __future__ import annotations`: Dagster inspects the asset functions' annotations.

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.publish.lock import (
    build_lock,
    claim_build,
    clean_stale_builds,
    run_lock,
)
from pipelines.resources import WarehouseResource
from pipelines.settings import Settings

LOCK_FREE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pipelines.publish.lock import BuildLockedError, build_lock
    from pipelines.settings import Settings
    s = Settings(raw_dir=Path(sys.argv[1]), warehouse_dir=Path(sys.argv[2]))
    try:
        with build_lock(s, wait_seconds=0):
            print("free")
    except BuildLockedError as exc:
        print("held:", exc)
    """
)


def lock_state(settings: Settings) -> str:
    """'free' or 'held: …', as another process sees the lock."""
    proc = subprocess.run(
        [sys.executable, "-c", LOCK_FREE, str(settings.raw_dir), str(settings.warehouse_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return proc.stdout.strip()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(raw_dir=tmp_path / "raw", warehouse_dir=tmp_path / "warehouse")
    s.raw_dir.mkdir()
    s.warehouse_dir.mkdir()
    return s


def _build_files(settings: Settings, run_id: str) -> list[Path]:
    db = settings.build_db(run_id)
    db.parent.mkdir(parents=True, exist_ok=True)
    files = [db, db.with_name(db.name + ".wal")]
    for f in files:
        f.write_bytes(b"data")
    return files


def test_cleanup_spares_live_owners_and_removes_dead_ones(settings: Settings) -> None:
    live = _build_files(settings, "live-run")
    claim_build(settings, "live-run")  # this process: alive
    dead = _build_files(settings, "dead-run")
    claimer = (
        "import sys; from pathlib import Path; from pipelines.publish.lock import claim_build; "
        "from pipelines.settings import Settings; "
        "claim_build(Settings(raw_dir=Path(sys.argv[1]), warehouse_dir=Path(sys.argv[2])), 'dead-run')"
    )
    subprocess.run(
        [sys.executable, "-c", claimer, str(settings.raw_dir), str(settings.warehouse_dir)], check=True
    )
    orphan = _build_files(settings, "no-owner-run")  # e.g. left by a build of the code before owners
    removed = clean_stale_builds(settings)
    assert all(p.exists() for p in live), "a live build's files were removed"
    assert not any(p.exists() for p in dead + orphan)
    assert settings.build_db("dead-run").with_suffix(".owner") in removed
    assert set(dead + orphan) <= set(removed)


def test_a_recycled_pid_is_not_the_owner(settings: Settings) -> None:
    files = _build_files(settings, "old-run")
    owner = claim_build(settings, "old-run")
    record = json.loads(owner.read_text())
    record["start"] = "1"  # same pid (alive: this process), but started at another time
    owner.write_text(json.dumps(record))
    clean_stale_builds(settings)
    assert not any(p.exists() for p in files)


def test_the_lock_is_reentrant_in_one_process_and_exclusive_across_processes(settings: Settings) -> None:
    assert lock_state(settings) == "free"
    with build_lock(settings, holder="kzkr build"):
        with build_lock(settings, wait_seconds=0):  # the run's resource, inside `kzkr build`
            held = lock_state(settings)
        assert held.startswith("held: another build is running (pid ") and "(kzkr build)" in held, held
        assert lock_state(settings).startswith("held:"), "leaving the inner holder released the lock"
    assert lock_state(settings) == "free"


def test_run_lock_waits_for_the_holder_then_cleans_claims_and_discards(settings: Settings) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from pipelines.publish.lock import run_lock; "
            "from pipelines.settings import Settings; "
            "s = Settings(raw_dir=Path(sys.argv[1]), warehouse_dir=Path(sys.argv[2]))\n"
            "with run_lock(s, 'first-run', 0):\n    print('locked', flush=True); time.sleep(3)",
            str(settings.raw_dir),
            str(settings.warehouse_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    waits: list[str] = []
    t0 = time.monotonic()
    with run_lock(settings, "second-run", 60, on_wait=waits.append):
        waited = time.monotonic() - t0
        assert holder.wait(timeout=60) == 0
        assert settings.build_db("second-run").with_suffix(".owner").exists()
        _build_files(settings, "second-run")
    assert waited > 1.0, "the second run did not wait for the first"
    assert len(waits) == 1 and "(run first-run)" in waits[0], waits
    assert not settings.builds_dir.exists() or list(settings.builds_dir.iterdir()) == []


def test_the_lock_wait_gives_up_naming_the_holder(settings: Settings) -> None:
    with build_lock(settings, holder="run abc"):
        proc = subprocess.run(
            [sys.executable, "-c", LOCK_FREE, str(settings.raw_dir), str(settings.warehouse_dir)],
            capture_output=True,
            text=True,
            check=True,
        )
    assert f"pid {os.getpid()} since " in proc.stdout and "(run abc)" in proc.stdout


def _probe_job(settings: Settings) -> dg.JobDefinition:
    """Three steps, each asking another process whether the warehouse lock is free."""

    @dg.asset
    def first(warehouse: WarehouseResource) -> str:
        return lock_state(warehouse.settings())

    @dg.asset
    def second(first: str, warehouse: WarehouseResource) -> str:
        time.sleep(1.0)
        return lock_state(warehouse.settings())

    @dg.asset_check(asset=second)
    def third(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        state = lock_state(warehouse.settings())
        return dg.AssetCheckResult(passed=state.startswith("held"), metadata={"state": state})

    defs = dg.Definitions(
        assets=[first, second],
        asset_checks=[third],
        jobs=[dg.define_asset_job("probe", executor_def=dg.in_process_executor)],
        resources={
            "warehouse": WarehouseResource(
                raw_dir=str(settings.raw_dir), warehouse_dir=str(settings.warehouse_dir)
            )
        },
    )
    return defs.resolve_job_def("probe")


def test_a_run_holds_the_lock_from_its_first_step_to_its_last(settings: Settings) -> None:
    result = _probe_job(settings).execute_in_process(raise_on_error=False)
    assert result.success
    states = [result.output_for_node("first"), result.output_for_node("second")]
    assert all(s.startswith("held:") and f"(run {result.run_id})" in s for s in states), states
    evaluation = result.get_asset_check_evaluations()[0]
    assert evaluation.passed, evaluation.metadata
    assert lock_state(settings) == "free", "the run did not release the lock"
    assert list(settings.builds_dir.iterdir()) == [], "the run left its owner record"


PROBE = (
    "import sys, time; from pathlib import Path; from pipelines.settings import Settings; "
    "from tests.test_lock import _probe_job; "
    "s = Settings(raw_dir=Path(sys.argv[1]), warehouse_dir=Path(sys.argv[2])); t0 = time.monotonic(); "
    "r = _probe_job(s).execute_in_process(raise_on_error=False); "
    "print('success', r.success, 'after', round(time.monotonic() - t0, 1), flush=True)"
)


def _probe(settings: Settings, wait: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", PROBE, str(settings.raw_dir), str(settings.warehouse_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "KZKR_LOCK_WAIT_SECONDS": wait},
    )


def test_a_run_waits_for_a_build_that_holds_the_lock(settings: Settings) -> None:
    seen = []
    with build_lock(settings, holder="kzkr build"):
        waiting = _probe(settings, "600")
        assert waiting.stdout is not None
        for line in waiting.stdout:  # the run's log, until it says it waits for the lock
            seen.append(line)
            if "waiting for the warehouse lock" in line:
                break
        time.sleep(2.0)
        assert waiting.poll() is None, "the run did not wait for the lock:\n" + "".join(seen)[-3000:]
    out, _ = waiting.communicate(timeout=300)
    out = "".join(seen) + out
    assert "success True" in out, out[-3000:]
    waited = [ln for ln in out.splitlines() if "waiting for the warehouse lock" in ln]
    assert len(waited) == 1 and "(kzkr build)" in waited[0], out[-3000:]


def test_a_run_gives_up_after_the_lock_wait_naming_the_holder(settings: Settings) -> None:
    with build_lock(settings, holder="kzkr build"):
        out, _ = _probe(settings, "1").communicate(timeout=300)
    assert "success False" in out, out[-3000:]
    assert "another build is running (pid " in out and "(kzkr build)" in out, out[-3000:]
