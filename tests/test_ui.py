"""The Dagster UI, tested as a person would: `make ui`, open it in headless Chromium, look, click.

The session's reference build (``kzkr build``, tests/conftest.py) recorded its run and every asset-check
evaluation in ``<warehouse>/.dagster``. A copy of that warehouse directory is served by ``make ui``,
started from a plain shell (no activated venv, nothing on PATH but the system's directories: what a
user has on a fresh clone; tests/ui_helpers.py), on a free port of 127.0.0.1. It must load the code
location ``kzkr`` without error (GraphQL), and Debian's chromium, driven by Playwright, opens

- the asset lineage with the mart groups expanded: every mart and ``warehouse/published`` is drawn,
  materialized, with its checks passed;
- a mart's Checks tab: every check of the asset shows its result from the build, the same results
  the run recorded in the instance, and a registered paper discrepancy shows as a warning;
- the run list: the build's run succeeded;
- last, the asset graph's "Materialize all" button: the run it starts (queued, launched by the daemon
  `make ui` started) succeeds and publishes a new build.

Screenshots go to ``docs/screenshots/`` (``KZKR_SCREENSHOT_DIR`` overrides). Without chromium
(``scripts/ensure_browser.sh`` installs it as root; `make test` calls it) the tests are skipped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import BuiltWarehouse, build_info
from ui_helpers import MakeUI, runs, start_make_ui, wait_for_new_run

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("KZKR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("KZKR_SCREENSHOT_DIR") or REPO / "docs" / "screenshots")
MATERIALIZE_TIMEOUT = 1800.0  # seconds for the "Materialize all" run to finish (two busy cores)
UI_TIMEOUT = 60_000  # milliseconds for any one element to show (the test machines are busy)

# The mart groups and, in each, marts the graph must show (tests/test_definitions.py checks the wiring).
MART_GROUPS = ("demography", "migration", "education", "trade", "analytics", "publish")
MARTS = (
    "population_by_ethnicity",
    "korean_diaspora",
    "kazakhstani_citizens_in_korea",
    "ethnic_korean_arrivals_f4",
    "h_university_exchange",
    "kazakhstan_trade_by_partner",
    "kazakhstan_korea_trade",
    "yearly_overview",
    "published",
)
ASSET_NODE = '[class*="AssetNode_assetNodeContainer"]'
MINIMAL_ASSET_NODE = '[class*="AssetNode_minimalAssetNodeContainer"]'
GRAPH_VIEWPORTS = ((1800, 3000), (2300, 3800), (2900, 4800))
CHECKED_ASSET = ("migration", "kazakhstani_citizens_in_korea")
# A quality-gate check that warns: Table 3 prints totals that differ from M + F, registered as the
# paper's own discrepancies (expectations/known_discrepancies.yml).
WARNED_CHECK = "t3_sex_sum_equals_total"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Nothing but the UI under test: every other host name fails to resolve.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
# Dagster's one-time "join the community" dialog, marked as already seen.
SKIP_COMMUNITY_DIALOG = "window.localStorage.setItem('communityNux', '\"1\"');"
# name, status and icon of every row of the Checks tab's list (each row: icon, name [title], status).
CHECK_ROWS_JS = """() => Array.from(document.querySelectorAll('[title] + span')).map(s => {
  const icon = s.parentElement.parentElement.querySelector('[role=img]');
  return [s.previousElementSibling.getAttribute('title'), s.innerText.trim(),
          icon ? icon.getAttribute('aria-label') : null];
})"""

pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

expect.set_options(timeout=UI_TIMEOUT)

pytestmark = [
    pytest.mark.ui,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no chromium at {CHROMIUM}: run scripts/ensure_browser.sh as root "
        "(apt-get install chromium), or point KZKR_CHROMIUM at a Chromium binary",
    ),
]


@dataclass(frozen=True)
class UI:
    make_ui: MakeUI
    dagster_home: Path
    run_id: str  # the reference build's run

    @property
    def base_url(self) -> str:
        return self.make_ui.base_url

    def url(self, path: str) -> str:
        return self.make_ui.url(path)


@pytest.fixture(scope="module")
def ui(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UI]:
    """`make ui` on a copy of the reference build's warehouse (instance included)."""
    wh = tmp_path_factory.mktemp("ui") / "warehouse"
    shutil.copytree(
        built_warehouse.warehouse_dir,
        wh,
        symlinks=True,
        ignore=shutil.ignore_patterns(".builds", ".build.lock"),
    )
    home = wh / ".dagster"
    assert (home / "dagster.yaml").exists(), f"the reference build recorded no Dagster instance in {home}"
    with start_make_ui(built_warehouse.raw_dir, wh, wh.parent / "make-ui.log") as started:
        yield UI(started, home, build_info(wh / "kzkr.duckdb")[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.add_init_script(SKIP_COMMUNITY_DIALOG)
    context.set_default_timeout(UI_TIMEOUT)
    try:
        yield context.new_page()
    finally:
        context.close()


def settle(page: Page) -> None:
    """Wait for the page's requests to finish (bounded: Dagster polls, so it may never be idle)."""
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_load_state("networkidle", timeout=15_000)


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG of the settled page."""
    settle(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path} is suspiciously small"
    return path


def recorded_check_results(ui: UI, asset: tuple[str, ...]) -> dict[str, tuple[bool, str]]:
    """{check name: (passed, severity)} of the asset's check evaluations the build's run recorded."""
    import dagster as dg

    results: dict[str, tuple[bool, str]] = {}
    with dg.DagsterInstance.from_config(str(ui.dagster_home)) as instance:
        for entry in instance.all_logs(ui.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
            ev = entry.get_dagster_event().asset_check_evaluation_data
            if ev.asset_key == dg.AssetKey(list(asset)):
                results[ev.check_name] = (ev.passed, ev.severity.value)
    return results


def open_mart_graph(page: Page, url: str) -> None:
    """The lineage page, in a viewport large enough for the fitted graph to draw full asset nodes.

    Dagster zooms the graph to fit and, below 60 %, draws bare name boxes instead of nodes with
    their materialization and check status; a larger viewport is tried until the nodes are full.
    """
    for width, height in GRAPH_VIEWPORTS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(url)
        published = page.locator(ASSET_NODE).filter(has=page.get_by_text("published", exact=True))
        expect(published).to_have_count(1)
        settle(page)
        if page.locator(MINIMAL_ASSET_NODE).count() == 0:
            return
    pytest.fail(f"even at {width}x{height} the asset graph only draws minimal nodes (zoomed out below 60 %)")


def test_asset_graph_shows_the_marts_materialized_and_checked(ui: UI, page: Page) -> None:
    selection = urllib.parse.quote(" or ".join(f"group:{g}" for g in MART_GROUPS), safe="")
    expanded = urllib.parse.quote(",".join(f"global@global:{g}" for g in MART_GROUPS), safe="")
    open_mart_graph(page, ui.url(f"/asset-groups~{selection}/?expanded={expanded}"))
    for name in MARTS:
        node = page.locator(ASSET_NODE).filter(has=page.get_by_text(name, exact=True))
        expect(node).to_have_count(1)
        expect(node).to_be_visible()
        expect(node).to_contain_text("Materialized")
        if name != "published":
            expect(node).to_contain_text("Passed")  # the node's "Asset checks: n / m Passed"
    for group in MART_GROUPS:
        expect(page.get_by_text(group, exact=True).first).to_be_visible()
    screenshot(page, "ui-asset-graph.png")


def test_checks_tab_shows_the_builds_check_results(ui: UI, page: Page) -> None:
    recorded = recorded_check_results(ui, CHECKED_ASSET)
    assert WARNED_CHECK in recorded and any(n.startswith("not_null_") for n in recorded), recorded
    # Tall enough for the whole list of checks (it only renders the rows in view).
    page.set_viewport_size({"width": 1600, "height": max(1000, 300 + 50 * len(recorded))})
    path = "/".join(CHECKED_ASSET)
    page.goto(ui.url(f"/assets/{path}?view=checks&checkDetail={WARNED_CHECK}"))
    expect(page.get_by_text(f"Checks ({len(recorded)})")).to_be_visible()
    expect(page.get_by_text("t3_grain_unique", exact=True).first).to_be_visible()
    page.wait_for_function("n => document.querySelectorAll('[title] + span').length >= n", arg=len(recorded))
    rows = {name: (status, icon) for name, status, icon in page.evaluate(CHECK_ROWS_JS)}
    assert set(rows) == set(recorded), (
        f"the UI lists other checks than the run evaluated: {rows} vs {recorded}"
    )
    for name, (passed, severity) in recorded.items():
        status, icon = rows[name]
        # Every check succeeded: a failed ERROR check would have blocked the publish, and a warned rule
        # (registered paper discrepancies) is a finding, never shown as a (blocking) failure.
        assert passed and (status, icon) == ("Succeeded", "check_circle"), (name, severity, status, icon)
    assert rows["not_null_kazakhstani_citizens_in_korea_year"][0] == "Succeeded"  # a dbt test
    assert rows["t3_grain_unique"][0] == "Succeeded"  # a quality-gate rule
    # The selected check's latest evaluation: the registered paper discrepancies, status warned.
    expect(page.get_by_text("Latest execution")).to_be_visible()
    expect(page.get_by_text("registered paper discrepancies").first).to_be_visible()
    expect(page.get_by_text("warned", exact=True)).to_be_visible()
    screenshot(page, "ui-checks.png")


def test_publish_asset_shows_the_builds_status(ui: UI, page: Page) -> None:
    """The status line of `kzkr build` and the report, on the publish asset's page (its metadata)."""
    from test_one_status import status_line_from_tables

    line = status_line_from_tables(ui.dagster_home.parent / "kzkr.duckdb")
    page.set_viewport_size({"width": 1600, "height": 1400})
    page.goto(ui.url("/assets/warehouse/published"))
    expect(page.get_by_text(line, exact=True).first).to_be_visible()
    screenshot(page, "ui-published-status.png")


def test_runs_list_shows_the_build_succeeded(ui: UI, page: Page) -> None:
    page.set_viewport_size({"width": 1600, "height": 600})
    page.goto(ui.url("/runs"))
    row = page.locator('[class*="RunsFeedRow_rowGrid"]').filter(has_text=ui.run_id[:8])
    expect(row).to_have_count(1)
    expect(row).to_contain_text("warehouse_job")
    expect(row).to_contain_text("Success")
    screenshot(page, "ui-runs.png")


AUTOMATION_QUERY = """{
  schedulesOrError(repositorySelector: {repositoryName: "__repository__", repositoryLocationName: "kzkr"}) {
    ... on Schedules { results { name cronSchedule scheduleState { status } } }
  }
  sensorsOrError(repositorySelector: {repositoryName: "__repository__", repositoryLocationName: "kzkr"}) {
    ... on Sensors { results { name minIntervalSeconds sensorState { status } } }
  }
}"""
SCHEDULE = "daily_warehouse_build"
SENSORS = ("raw_files_changed", "alert_on_run_failure", "published_freshness")


def test_schedule_sensors_and_freshness_check_show_in_the_ui(ui: UI, page: Page) -> None:
    """The daemon's automation, as the UI lists it: the schedule and the sensors, all running; the
    sensor's debounce and the schedule's cron in their descriptions; the freshness check on
    ``warehouse/published``."""
    data = ui.make_ui.graphql(AUTOMATION_QUERY)["data"]
    schedules = {s["name"]: s for s in data["schedulesOrError"]["results"]}
    sensors = {s["name"]: s for s in data["sensorsOrError"]["results"]}
    assert schedules[SCHEDULE]["cronSchedule"] == "0 3 * * *", schedules
    assert schedules[SCHEDULE]["scheduleState"]["status"] == "RUNNING", schedules
    assert set(SENSORS) <= set(sensors), sensors
    assert all(sensors[n]["sensorState"]["status"] == "RUNNING" for n in SENSORS), sensors
    page.set_viewport_size({"width": 1600, "height": 900})
    page.goto(ui.url("/automation"))
    for name in (SCHEDULE, *SENSORS):
        expect(page.get_by_text(name, exact=True).first).to_be_visible()
    screenshot(page, "ui-automation.png")
    page.goto(ui.url(f"/locations/kzkr/sensors/{SENSORS[0]}"))
    expect(page.get_by_text("stayed unchanged for 60 s", exact=False).first).to_be_visible()
    screenshot(page, "ui-sensor.png")
    page.goto(ui.url(f"/locations/kzkr/schedules/{SCHEDULE}"))
    expect(page.get_by_text("0 3 * * *", exact=False).first).to_be_visible()
    page.goto(ui.url("/assets/warehouse/published?view=checks"))
    expect(page.get_by_text("published_is_fresh", exact=True).first).to_be_visible()
    screenshot(page, "ui-freshness-check.png")


def test_materialize_all_publishes(ui: UI, page: Page) -> None:
    """The most prominent button of the UI: one run, every asset, its checks green, a new build published."""
    published = ui.make_ui.warehouse_dir / "kzkr.duckdb"
    before = build_info(published)
    known = {r["runId"] for r in runs(ui.make_ui)}
    page.set_viewport_size({"width": 1800, "height": 1200})
    page.goto(ui.url("/asset-groups"))
    button = page.get_by_role("button", name="Materialize all")
    expect(button).to_be_enabled()
    button.click()
    run = wait_for_new_run(ui.make_ui, known, MATERIALIZE_TIMEOUT)
    page.goto(ui.url(f"/runs/{run['runId']}"))
    expect(page.get_by_text("Success").first).to_be_visible()
    screenshot(page, "ui-materialize-all.png")
    assert run["status"] == "SUCCESS", f"the Materialize all run {run}:\n{ui.make_ui.log_text()[-3000:]}"
    assert run["jobName"] == "__ASSET_JOB", run
    after = build_info(published)
    assert after != before and after[1] == run["runId"], (before, after, run)
    failed = [e for e in _check_evaluations(ui, run["runId"]) if not e.passed and e.severity.value == "ERROR"]
    assert not failed, f"red checks on good data: {failed}"


def _check_evaluations(ui: UI, run_id: str) -> list[object]:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(ui.dagster_home)) as instance:
        entries = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        return [e.get_dagster_event().asset_check_evaluation_data for e in entries]


def test_kzkr_status_shows_the_ui_run(ui: UI) -> None:
    """After "Materialize all" (the test before), `kzkr status` names the UI's run and its outcome."""
    import subprocess
    import sys

    from conftest import kzkr_env

    env = kzkr_env(REPO / "raw", ui.make_ui.warehouse_dir, {"DAGSTER_HOME": str(ui.dagster_home)})
    kzkr = str(Path(sys.executable).with_name("kzkr"))
    proc = subprocess.run([kzkr, "status"], env=env, capture_output=True, text=True, timeout=300, check=False)
    ui_line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("  ui ")), "")
    assert "SUCCESS, published build" in ui_line and "__ASSET_JOB" in ui_line, proc.stdout + proc.stderr
