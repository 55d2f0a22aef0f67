"""Alerts: appended one JSON line per event, never rewritten, and POSTed to a webhook where configured.

The webhook is a real HTTP server on 127.0.0.1 (a thread of this test process) that records what it
receives; an unreachable or failing webhook must not raise (a broken notification channel does not
fail a build) and must not lose the line in the file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipelines.publish.alerts import ALERT_FIELDS, Alert, alerts_file, append_alert, raise_alert, read_alerts


class Hook:
    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hook.received.append((self.path, dict(self.headers), body))
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/kzkr"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    try:
        yield h
    finally:
        h.close()


def _alert(run_id: str = "r-1", what: str = "run failed", **kw: str) -> Alert:
    return Alert(run_id=run_id, job="warehouse_job", trigger="sensor", what=what, error="boom", **kw)


def test_each_event_is_one_appended_json_line_with_the_contract_fields(tmp_path: Path) -> None:
    path = alerts_file(tmp_path)
    assert append_alert(path, _alert("r-1", report="/w/reports/quality-r-1.md"))
    first = path.read_bytes()
    assert append_alert(path, _alert("r-1", what="blocking check failed: t2_sum on demography/x"))
    assert append_alert(path, _alert("r-2"))
    data = path.read_bytes()
    assert data.startswith(first), "an earlier line was rewritten"
    lines = data.decode().splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    assert all(list(r) == list(ALERT_FIELDS) for r in records), records
    assert records[0]["report"] == "/w/reports/quality-r-1.md" and records[2]["report"] is None
    assert [r["run_id"] for r in read_alerts(path)] == ["r-1", "r-1", "r-2"]


def test_the_same_event_reported_twice_is_recorded_once(tmp_path: Path) -> None:
    path = alerts_file(tmp_path)
    assert append_alert(path, _alert())
    assert not append_alert(path, _alert())  # e.g. the run-failure sensor after `kzkr build`
    assert len(path.read_text().splitlines()) == 1


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    path = alerts_file(tmp_path)
    writer = (
        "import sys; from pathlib import Path; from pipelines.publish.alerts import Alert, append_alert\n"
        "for i in range(40): append_alert(Path(sys.argv[1]), Alert(run_id=f'{sys.argv[2]}-{i}', job='j', "
        "trigger='cli', what='run failed', error='x' * 3000))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", writer, str(path), f"w{n}"]) for n in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    lines = path.read_text().splitlines()
    assert len(lines) == 160
    assert len({json.loads(line)["run_id"] for line in lines}) == 160


def test_webhook_receives_the_same_json_as_the_file(tmp_path: Path, hook: Hook) -> None:
    result = raise_alert(tmp_path, _alert(), webhook=hook.url)
    assert result.appended and result.webhook_error is None
    assert len(hook.received) == 1
    path, headers, body = hook.received[0]
    assert path == "/hooks/kzkr"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == json.loads(alerts_file(tmp_path).read_text().splitlines()[0])
    # the same event again: not recorded, not sent again
    assert not raise_alert(tmp_path, _alert(), webhook=hook.url).appended
    assert len(hook.received) == 1


def test_a_failing_webhook_is_reported_not_raised(tmp_path: Path, hook: Hook) -> None:
    hook.status = 500
    result = raise_alert(tmp_path, _alert("r-500"), webhook=hook.url)
    assert result.appended and result.webhook_error and "500" in result.webhook_error
    hook.close()  # nobody listens any more
    result = raise_alert(tmp_path, _alert("r-down"), webhook=hook.url)
    assert result.appended and result.webhook_error and "unreachable" in result.webhook_error
    assert [r["run_id"] for r in read_alerts(alerts_file(tmp_path))] == ["r-500", "r-down"]


def test_no_webhook_no_request(tmp_path: Path, hook: Hook) -> None:
    assert raise_alert(tmp_path, _alert(), webhook=None).appended
    assert hook.received == []


def test_a_webhook_that_is_not_http_is_refused(tmp_path: Path) -> None:
    result = raise_alert(tmp_path, _alert(), webhook="file:///etc/passwd")
    assert result.appended and result.webhook_error and "http" in result.webhook_error
