"""Small pieces of the build that keep it lean: bounded DuckDB memory, dbt's partial parse
reused through one stable database path, and dagster-dbt's per-run target directories pruned."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.duck import connect
from pipelines.transform.project import DBT_STABLE_DB, dbt_database_path, prune_run_targets


def test_ingest_connections_have_a_memory_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KZKR_DUCKDB_MEMORY_LIMIT", raising=False)
    with connect() as con:
        default = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
        progress = con.execute("select current_setting('enable_progress_bar')").fetchall()[0][0]
    assert default in ("1.0 GiB", "953.6 MiB", "1GB", "1.0 GB"), default
    assert progress is False
    monkeypatch.setenv("KZKR_DUCKDB_MEMORY_LIMIT", "300MB")
    with connect(tmp_path / "x.duckdb") as con:
        limit = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    assert limit != default and ("286" in limit or "300" in limit), limit


def test_prune_run_targets_keeps_the_newest(tmp_path: Path) -> None:
    made = []
    for i in range(5):
        d = tmp_path / f"kzkr_dbt-run{i}-abc"
        d.mkdir()
        (d / "manifest.json").write_text("{}")
        os.utime(d, (time.time() - 7200 + i, time.time() - 7200 + i))
        made.append(d)
    (tmp_path / "kzkr_build").mkdir()  # not a run's target: never pruned
    removed = prune_run_targets(tmp_path, keep=2)
    assert sorted(removed) == sorted(made[:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "kzkr_build",
        "kzkr_dbt-run3-abc",
        "kzkr_dbt-run4-abc",
    ]


def test_prune_run_targets_spares_a_run_that_may_still_be_going(tmp_path: Path) -> None:
    """Beyond the newest ``keep``, a target touched in the last hour may be a run of another
    warehouse directory of this checkout that is still building: it stays."""
    dirs = []
    for i, age in enumerate((7200, 600, 60, 30)):
        d = tmp_path / f"kzkr_dbt-run{i}-abc"
        d.mkdir()
        os.utime(d, (time.time() - age, time.time() - age))
        dirs.append(d)
    removed = prune_run_targets(tmp_path, keep=2)
    assert removed == [dirs[0]]
    assert all(d.exists() for d in dirs[1:])


def test_dbt_opens_the_build_file_under_one_stable_path(tmp_path: Path) -> None:
    build = tmp_path / "build-1.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create table t as select 1 as x")
    with dbt_database_path(build) as path:
        assert path == DBT_STABLE_DB
        assert path.stat().st_ino == build.stat().st_ino  # the same file, not a copy
        with duckdb.connect(str(path)) as con:  # what dbt writes lands in the build file
            con.execute("insert into t values (2)")
        # a second build of this checkout in its dbt step at the same time: its own path
        other = tmp_path / "build-2.duckdb"
        with dbt_database_path(other) as second:
            assert second == other
    assert not DBT_STABLE_DB.exists()
    with duckdb.connect(str(build), read_only=True) as con:
        assert con.execute("select sum(x) from t").fetchall() == [(3,)]


def test_a_long_failed_check_text_is_clipped_and_points_to_the_report() -> None:
    from pipelines.cli import CHECK_TEXT_LIMIT, _clip

    report = Path("/w/reports/latest.md")
    cells = "; ".join(
        f"2024, P{i:03}, imports: bureau_release vs bureau_processed: {i}.5 vs {i}.1" for i in range(200)
    )
    text = f"200 of 2,217 rows unexpected: {cells}"
    clipped = _clip(text, report)
    assert len(text) > 5 * CHECK_TEXT_LIMIT
    assert clipped.startswith("200 of 2,217 rows unexpected: 2024, P000, imports") and text.startswith(
        clipped.split(" … (")[0]
    )
    assert len(clipped) < CHECK_TEXT_LIMIT + 120
    assert clipped.endswith(f"({len(text):,} characters; all of it in {report})")
    one_cell = "1 of 2,217 rows unexpected: 2019, KOR, exports: bureau_release vs un_comtrade: 3.5 vs 3.4"
    assert _clip(one_cell, report) == one_cell  # a short text is printed whole
