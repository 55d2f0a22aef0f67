"""Alerts: one JSON line per failed run or failed blocking check, for a pipeline nobody watches.

Each event is appended to ``<warehouse>/alerts/alerts.jsonl`` as one JSON object with the fields
``at, run_id, job, trigger, what, error, report`` (see INTERFACES.md). The file is only ever
appended to, never rewritten. An event already recorded (same ``run_id`` and ``what``) is not
appended again, so that two reporters of one failure (e.g. the run-failure sensor and
``kzkr build``) leave one line and send one notification. Where a webhook URL is configured
(``KZKR_ALERT_WEBHOOK``) each new line is also POSTed there as ``application/json``; a webhook that
fails is reported back, never raised: a broken notification channel must not fail a build.

Dagster-free: the sensors (pipelines/defs/automation.py), the quality gate and the CLI call it.
"""

from __future__ import annotations

import fcntl
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ALERT_FIELDS = ("at", "run_id", "job", "trigger", "what", "error", "report")
WEBHOOK_TIMEOUT_SECONDS = 10.0
MAX_ERROR_CHARS = 2000


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Alert:
    """One event. ``what`` says what happened in a few words (``run failed``, ``blocking check
    failed: <check> on <asset>``); ``error`` the message; ``report`` the quality report, if any."""

    run_id: str
    job: str
    trigger: str
    what: str
    error: str
    report: str | None = None
    at: str = field(default_factory=utc_now_iso)

    def to_json(self) -> str:
        record = asdict(self)
        record["error"] = record["error"][:MAX_ERROR_CHARS]
        return json.dumps({k: record[k] for k in ALERT_FIELDS}, ensure_ascii=False, sort_keys=False)


def alerts_file(warehouse_dir: Path) -> Path:
    return warehouse_dir / "alerts" / "alerts.jsonl"


def _records(lines: Iterator[str]) -> Iterator[dict[str, object]]:
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a full disk: skipped, never rewritten
        if isinstance(record, dict):
            yield record


def read_alerts(path: Path) -> list[dict[str, object]]:
    """Every alert of the file, oldest first ([] if there is none)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return list(_records(fh))


def append_alert(path: Path, alert: Alert) -> bool:
    """Append ``alert`` as one line, unless the same event (run_id, what) is already recorded.

    Returns True if the line was appended. Writers serialise on an exclusive lock of the file
    itself, so concurrent reporters neither interleave nor both append one event."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            fh.seek(0)
            for record in _records(fh):
                if record.get("run_id") == alert.run_id and record.get("what") == alert.what:
                    return False
            fh.seek(0, os.SEEK_END)
            fh.write(alert.to_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return True


def post_webhook(url: str, alert: Alert, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> str | None:
    """POST the alert's JSON to ``url``. Returns None on a 2xx answer, else what went wrong."""
    if not url.startswith(("http://", "https://")):
        return f"KZKR_ALERT_WEBHOOK must be an http(s) URL, not {url!r}"
    request = urllib.request.Request(
        url,
        data=alert.to_json().encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "kzkr-alerts"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"webhook {url} answered {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError) as exc:
        return f"webhook {url} unreachable: {exc}"
    return None if 200 <= status < 300 else f"webhook {url} answered {status}"


@dataclass(frozen=True)
class Raised:
    appended: bool
    webhook_error: str | None = None


def raise_alert(warehouse_dir: Path, alert: Alert, webhook: str | None = None) -> Raised:
    """Record the event (once) and, if it is new and a webhook is configured, notify it."""
    appended = append_alert(alerts_file(warehouse_dir), alert)
    if not appended or not webhook:
        return Raised(appended)
    return Raised(appended, post_webhook(webhook, alert))
