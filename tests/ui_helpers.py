"""`make ui` as a user starts it, for the UI tests: a plain shell's environment (nothing on PATH but
the system's directories: no activated venv), the README's command, the Dagster GraphQL API to wait
for the code location and to follow runs, and a clean stop of the whole process group.

tests/test_ui.py drives the started UI in headless Chromium; other tests may start their own
(e.g. to watch the daemon's schedule and sensor runs) with :func:`start_make_ui`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CODE_LOCATION = "kzkr"
START_TIMEOUT = 300.0  # seconds for `make ui` to serve the UI with the code location loaded
PLAIN_PATH = "/usr/local/bin:/usr/bin:/bin"  # a plain shell: python3, make, git; not .venv/bin


@dataclass(frozen=True)
class MakeUI:
    proc: subprocess.Popen[bytes]
    base_url: str
    log: Path
    warehouse_dir: Path
    dagster_home: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        raw = _post(self.base_url + "/graphql", body)
        if raw is None:
            raise AssertionError(f"no answer from {self.base_url}/graphql")
        return dict(json.loads(raw))

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, data: bytes | None = None, timeout: float = 10) -> bytes | None:
    headers = {"Content-Type": "application/json"} if data else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=timeout) as resp:
            return bytes(resp.read())
    except (urllib.error.URLError, OSError):
        return None


def plain_shell_env(raw_dir: Path, warehouse_dir: Path, port: int) -> dict[str, str]:
    """What a user's fresh shell has, plus the README's variables for where raw/ and the warehouse are."""
    env = {
        "PATH": PLAIN_PATH,
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "KZKR_RAW_DIR": str(raw_dir),
        "KZKR_WAREHOUSE_DIR": str(warehouse_dir),
        "KZKR_UI_PORT": str(port),
    }
    if "TMPDIR" in os.environ:
        env["TMPDIR"] = os.environ["TMPDIR"]
    return env


LOCATIONS_QUERY = (
    "{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus "
    "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
)


def wait_until_loaded(ui: MakeUI, timeout: float = START_TIMEOUT) -> None:
    """Poll the GraphQL API until the code location ``kzkr`` has loaded; fail with its error (or
    the log) if it does not, or if `make ui` exits."""
    deadline = time.monotonic() + timeout
    status = "no answer from /server_info"
    while time.monotonic() < deadline:
        if ui.proc.poll() is not None:
            raise AssertionError(f"`make ui` exited with {ui.proc.returncode}:\n{ui.log_text()[-4000:]}")
        if _post(ui.base_url + "/server_info") is not None:
            data = ui.graphql(LOCATIONS_QUERY)["data"]["workspaceOrError"]
            entries = data.get("locationEntries", [])
            status = f"code locations: {entries}"
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                errors = [
                    e for e in entries if e["locationOrLoadError"]["__typename"] != "RepositoryLocation"
                ]
                assert not errors, f"the code location failed to load: {errors}\n{ui.log_text()[-4000:]}"
                assert [e["name"] for e in entries] == [CODE_LOCATION], entries
                return
        time.sleep(1.0)
    raise AssertionError(f"the UI was not ready after {timeout:.0f} s ({status}):\n{ui.log_text()[-4000:]}")


def stop(proc: subprocess.Popen[bytes], grace: float = 30.0) -> None:
    """Stop `make ui` and everything it started (its own process group): Ctrl-C, then KILL."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
        os.killpg(proc.pid, signal.SIGKILL)  # the webserver, daemon and code servers too
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)


@contextlib.contextmanager
def start_make_ui(raw_dir: Path, warehouse_dir: Path, log: Path) -> Iterator[MakeUI]:
    """`make ui` from a plain shell on ``raw_dir`` / ``warehouse_dir``, until the code location is
    loaded; stopped (with its daemon and code servers) on exit."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["make", "ui"],
            cwd=REPO,
            env=plain_shell_env(raw_dir, warehouse_dir, port),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ui = MakeUI(proc, f"http://127.0.0.1:{port}", log, warehouse_dir, warehouse_dir / ".dagster")
    try:
        wait_until_loaded(ui)
        yield ui
    finally:
        stop(proc)


RUNS_QUERY = (
    "{ runsOrError(limit: 20) { __typename ... on Runs { results { runId status jobName "
    "tags { key value } } } } }"
)
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


def runs(ui: MakeUI) -> list[dict[str, Any]]:
    return list(ui.graphql(RUNS_QUERY)["data"]["runsOrError"]["results"])


def wait_for_new_run(ui: MakeUI, known: set[str], timeout: float) -> dict[str, Any]:
    """The first run not in ``known``, once it has finished."""
    deadline = time.monotonic() + timeout
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        new = [r for r in runs(ui) if r["runId"] not in known]
        if new:
            seen = new[-1]
            if seen["status"] in FINISHED:
                return seen
        time.sleep(3.0)
    raise AssertionError(
        f"no new run finished within {timeout:.0f} s (last seen: {seen}):\n{ui.log_text()[-3000:]}"
    )
