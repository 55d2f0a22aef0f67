"""The build's process-level speed-ups (pipelines/publish/speed.py) change how Dagster's SQLite storage
works, never what it stores: a run with them leaves the same events as one without, readable by a
fresh instance; the engine cache really reuses one engine per database; connections really get
``synchronous=NORMAL``. Each run happens in its own process (the patches are process-wide)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RUN_A_JOB = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    home = Path(sys.argv[1]); home.mkdir(parents=True, exist_ok=True)
    from pipelines.cli import DAGSTER_YAML
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    import dagster as dg
    from pipelines.publish import speed
    patched = []
    if sys.argv[2] == "tuned":
        speed.tune_dagster_sqlite()
        patched = speed.cache_dagster_sqlite_engines()
    n = int(sys.argv[3])
    specs = [dg.AssetCheckSpec(f"c{i}", asset="a") for i in range(n)]

    @dg.asset(check_specs=specs)
    def a():
        yield dg.Output(1)
        for i in range(n):
            yield dg.AssetCheckResult(check_name=f"c{i}", passed=i % 3 != 0)

    job = dg.Definitions(assets=[a]).resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.get() as inst:
        for _ in range(2):
            res = job.execute_in_process(
                instance=inst, raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
            )
    engines = {}
    from dagster._core.storage.event_log.sqlite import sqlite_event_log
    cache = getattr(sqlite_event_log.create_engine, "engines", None)
    if cache is not None:
        engines = {"n_engines": len(cache), "urls": sorted({k[0] for k in cache})}
    with dg.DagsterInstance.get() as fresh:  # a new instance object reads what the run stored
        types = [e.dagster_event.event_type_value for e in fresh.all_logs(res.run_id) if e.is_dagster_event]
        checks = fresh.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("a"), f"c{i}") for i in range(n)]
        )
        passed = sum(1 for c in checks.values() if c.evaluation and c.evaluation.passed)
        n_runs = len(fresh.get_runs())
    print(json.dumps({"types": types, "passed": passed, "n_checks": len(checks), "runs": n_runs,
                      "patched": patched, **engines}))
    """
)


def _run(home: Path, mode: str, n: int = 12) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", RUN_A_JOB, str(home), mode, str(n)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    base = tmp_path_factory.mktemp("speed")
    return _run(base / "plain", "plain"), _run(base / "tuned", "tuned")


def test_the_tuned_storage_stores_what_the_plain_one_does(runs: tuple[dict, dict]) -> None:
    plain, tuned = runs
    assert tuned["types"] == plain["types"]  # the same events, in the same order
    assert tuned["types"].count("ASSET_CHECK_EVALUATION") == 12
    assert (
        (tuned["n_checks"], tuned["passed"], tuned["runs"])
        == (12, 8, 2)
        == (
            plain["n_checks"],
            plain["passed"],
            plain["runs"],
        )
    )


def test_one_engine_per_database_file(runs: tuple[dict, dict]) -> None:
    _, tuned = runs
    assert "dagster._core.storage.event_log.sqlite.sqlite_event_log" in tuned["patched"]
    # two runs of ~25 events each, but one engine per SQLite file of the event log: the index shard
    # and one shard per run (without the cache: a new engine per event)
    urls = tuned["urls"]
    assert tuned["n_engines"] == len(urls) == 1 + tuned["runs"], urls
    assert sum(u.endswith("/index.db") for u in urls) == 1


def test_connections_get_synchronous_normal(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        import sqlalchemy as sa
        from pipelines.publish.speed import tune_dagster_sqlite
        if sys.argv[2] == "tuned":
            tune_dagster_sqlite()
        engine = sa.create_engine("sqlite:///" + sys.argv[1], poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            conn.exec_driver_sql("pragma journal_mode = wal")
        with engine.connect() as conn:
            print(conn.exec_driver_sql("pragma synchronous").scalar())
        """
    )
    levels = {}
    for mode in ("plain", "tuned"):
        proc = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / f"{mode}.db"), mode],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        levels[mode] = int(proc.stdout.strip())
    assert levels == {"plain": 2, "tuned": 1}  # FULL by default, NORMAL when tuned
