"""A test hook: stop a build at a known point so that a test can kill it there."""

from __future__ import annotations

import os
import sys
import time

from pipelines.settings import test_pause

TEST_PAUSE_STEPS = ("ingest", "dbt", "checks", "publish")


def pause_point(step: str) -> None:
    """A no-op unless ``KZKR_TEST_PAUSE_AT=<step>``: then print ``KZKR_TEST_PAUSED <step>`` and sleep
    here (at most ``KZKR_TEST_PAUSE_SECONDS``, default 600), so that a test can kill the build at a
    known point (tests/test_crash_safety.py)."""
    at, seconds = test_pause()
    if at != step:
        return
    out = sys.__stdout__ or sys.stdout
    print(f"KZKR_TEST_PAUSED {step} pid={os.getpid()}", file=out, flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.1)
