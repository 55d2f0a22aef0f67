"""The Dagster code location loads with its job, schedule, sensor and the asset graph wired up."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import CONCURRENCY_TAG, JOB_NAME, load_defs, raw_files_changed
from pipelines.ingest.specs import RAW_FILES

ROOT = Path(__file__).resolve().parents[1]


def test_job_schedule_and_sensor_load() -> None:
    job = load_defs().resolve_job_def(JOB_NAME)
    assert job.tags.get(CONCURRENCY_TAG) == "build"
    schedule = load_defs().resolve_schedule_def("daily_warehouse_build")
    assert schedule.cron_schedule == "0 3 * * *" and schedule.job_name == JOB_NAME
    sensor = load_defs().resolve_sensor_def("raw_files_changed")
    assert sensor.job_name == JOB_NAME


def test_asset_graph_links_raw_files_to_dbt_and_publish() -> None:
    graph = load_defs().resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    for spec in RAW_FILES:
        assert dg.AssetKey(["raw", spec.name]) in keys
    # The dbt sources point at the ingest assets (meta: dagster: asset_key), so the ingest asset is
    # an upstream of its staging model rather than a separate, unconnected node.
    stg = dg.AssetKey(["staging", "stg_paper__kazakhstani_citizens_in_korea"])
    assert dg.AssetKey(["raw", "paper_table3_kazakhstani_citizens_in_korea"]) in graph.get(stg).parent_keys
    published = graph.get(dg.AssetKey(["warehouse", "published"]))
    for mart in (
        ["demography", "population_by_ethnicity"],
        ["migration", "kazakhstani_citizens_in_korea"],
        ["education", "h_university_exchange"],
        ["trade", "kazakhstan_trade_by_partner"],
        ["analytics", "yearly_overview"],
    ):
        assert dg.AssetKey(mart) in published.parent_keys


def test_dbt_tests_become_asset_checks() -> None:
    graph = load_defs().resolve_asset_graph()
    checks = graph.get(dg.AssetKey(["migration", "kazakhstani_citizens_in_korea"])).check_keys
    assert any("not_null" in c.name for c in checks)


def test_sensor_requests_a_run_only_when_raw_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    monkeypatch.setenv("KZKR_RAW_DIR", str(raw))
    monkeypatch.setenv("KZKR_SENSOR_QUIET_SECONDS", "0")
    first = raw_files_changed(dg.build_sensor_context())
    assert isinstance(first, dg.SensorResult) and not first.run_requests and first.cursor
    same = raw_files_changed(dg.build_sensor_context(cursor=first.cursor))
    assert not same.run_requests and "unchanged" in str(same.skip_reason)
    target = raw / "paper_table4_ethnic_korean_arrivals_f4.csv"
    target.write_text(target.read_text(encoding="utf-8").replace("368", "369"), encoding="utf-8")
    seen = raw_files_changed(dg.build_sensor_context(cursor=same.cursor))  # the change, first seen
    assert not seen.run_requests and "waiting" in str(seen.skip_reason)
    changed = raw_files_changed(dg.build_sensor_context(cursor=seen.cursor))  # quiet since (0 s)
    assert len(changed.run_requests or []) == 1 and changed.cursor != first.cursor
    again = raw_files_changed(dg.build_sensor_context(cursor=changed.cursor))
    assert not again.run_requests


# Imports the definitions with the audit hooks watching: any dbt process or any file of
# raw/, expectations/ or dbt_project/ opened while importing is a failure. Then it loads them, with
# a dbt that fails and a project copy never parsed: the load must call that dbt (and fail), which
# shows the hooks would have seen a call made at import time.
IMPORT_THEN_LOAD = r"""
import json, sys
from pathlib import Path
root, project_copy, fake_dbt = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
watched = [root / "raw", root / "expectations", root / "dbt_project", project_copy]
seen = {"spawned": [], "opened": []}
def hook(event, args):
    if event in ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.system"):
        if "dbt" in Path(str(args[0])).name:  # (platform.architecture() runs `file`: not ours)
            seen["spawned"].append(str(args[0]))
    elif event == "open" and isinstance(args[0], str):
        if any(Path(args[0]).is_relative_to(w) for w in watched):
            seen["opened"].append(args[0])
import pipelines.settings
pipelines.settings.DBT_PROJECT_DIR = project_copy  # before anything else imports it
sys.addaudithook(hook)
import pipelines.definitions
import pipelines.transform.project as project
at_import = {k: list(v) for k, v in seen.items()}
project.DBT_EXECUTABLE = fake_dbt
try:
    pipelines.definitions.load_defs()
    loaded = "loaded"
except Exception as exc:
    loaded = f"{type(exc).__name__}: {exc}"
print(json.dumps({"at_import": at_import, "at_load": seen, "loaded": loaded}))
"""


def test_importing_the_definitions_runs_nothing(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    calls = tmp_path / "dbt-calls.txt"
    fake = tmp_path / "dbt"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\necho "this dbt always fails" >&2\nexit 1\n')
    fake.chmod(0o755)
    project_copy = tmp_path / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", project_copy, ignore=shutil.ignore_patterns("target", "logs"))
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_THEN_LOAD, str(ROOT), str(project_copy), str(fake)],
        cwd=tmp_path,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["at_import"] == {"spawned": [], "opened": []}, report["at_import"]
    # Loading (what Dagster does with the code location) parses the never-parsed copy with our dbt.
    assert str(fake) in report["at_load"]["spawned"], report
    assert "parse" in calls.read_text() and "dbt parse failed" in report["loaded"], report


NEW_MART_GRAPH = r"""
import json, sys
from pathlib import Path
import pipelines.settings
pipelines.settings.DBT_PROJECT_DIR = Path(sys.argv[1])  # before anything else imports it
from pipelines.definitions import load_defs
graph = load_defs().resolve_asset_graph()
node = graph.get(__import__("dagster").AssetKey(["warehouse", "published"]))
print(json.dumps({
    "publish_deps": sorted(k.to_user_string() for k in node.parent_keys),
    "groups": {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()},
}))
"""


def test_a_mart_schema_added_in_dbt_alone_is_gated_by_publish(tmp_path: Path) -> None:
    """A new domain added the dbt way only (a model under models/marts/<schema>/ and its +schema in
    dbt_project.yml, nothing in Python): its mart is upstream of warehouse/published, so its
    blocking checks gate publishing."""
    import json
    import subprocess
    import sys

    project = tmp_path / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models" / "marts" / "tourism").mkdir()
    (project / "models" / "marts" / "tourism" / "visitor_arrivals.sql").write_text(
        "select year, count from {{ ref('ethnic_korean_arrivals_f4') }}\n", encoding="utf-8"
    )
    config = project / "dbt_project.yml"
    text = config.read_text(encoding="utf-8")
    anchor = "      analytics:\n        +schema: analytics\n"
    assert anchor in text
    config.write_text(
        text.replace(anchor, anchor + "      tourism:\n        +schema: tourism\n"), encoding="utf-8"
    )
    proc = subprocess.run(
        [sys.executable, "-c", NEW_MART_GRAPH, str(project)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    graph = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "tourism/visitor_arrivals" in graph["publish_deps"], graph["publish_deps"]
    assert graph["groups"]["tourism/visitor_arrivals"] == "tourism"
    # and the marts that were there before are still gated
    assert "migration/ethnic_korean_arrivals_f4" in graph["publish_deps"]
