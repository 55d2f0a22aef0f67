"""The raw-file sensor's debounce: a burst of edits starts one build, after the files are quiet."""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.ingest.watch import debounce, raw_dir_state

QUIET = 60.0


def evaluate(states: list[tuple[float, str]], quiet: float = QUIET) -> list[tuple[float, str]]:
    """Feed (time, state) evaluations through the debounce; the (time, state) of each request."""
    cursor: str | None = None
    requests = []
    for now, state in states:
        decision = debounce(cursor, state, now, quiet)
        cursor = decision.cursor
        if decision.request:
            requests.append((now, state))
    return requests


def test_first_evaluation_only_records_the_state() -> None:
    assert evaluate([(0, "a"), (30, "a"), (3600, "a")]) == []


def test_a_burst_of_edits_starts_one_build_after_the_quiet_time() -> None:
    # evaluations every 10 s; raw/ changes at 20, 30, 40, 50 (a user saving a file repeatedly)
    states = [(0, "a"), (10, "a"), (20, "b"), (30, "c"), (40, "d"), (50, "e")]
    states += [(t, "e") for t in range(60, 200, 10)]
    assert evaluate(states) == [(110, "e")]  # e first seen at 50, quiet for 60 s at 110


def test_no_build_while_edits_keep_coming() -> None:
    states = [(0, "a")] + [(t, f"s{t}") for t in range(10, 600, 10)]
    assert evaluate(states) == []


def test_an_edit_undone_within_the_quiet_time_builds_nothing() -> None:
    assert evaluate([(0, "a"), (10, "b"), (20, "a"), (200, "a")]) == []


def test_a_later_change_builds_again_and_an_old_state_is_not_deduplicated() -> None:
    states = [(0, "a"), (10, "b"), (80, "b"), (90, "a"), (160, "a"), (300, "a")]
    assert evaluate(states) == [(80, "b"), (160, "a")]
    # the run keys differ even when a state repeats, so Dagster does not drop the second request
    c1 = debounce(None, "a", 0, QUIET).cursor
    c2 = debounce(c1, "b", 10, QUIET).cursor
    first = debounce(c2, "b", 80, QUIET)
    c3 = debounce(first.cursor, "a", 90, QUIET).cursor
    second = debounce(c3, "a", 160, QUIET)
    assert first.run_key and second.run_key and first.run_key != second.run_key


def test_the_cursor_of_the_sensor_before_the_debounce_still_works() -> None:
    # the old sensor stored the bare state hash
    assert debounce("a", "a", 0, QUIET).request is False
    d = debounce("a", "b", 0, QUIET)
    assert not d.request and "waiting" in d.reason


def test_raw_dir_state_sees_edits_additions_and_removals(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.csv").write_text("x\n1\n")
    s0 = raw_dir_state(raw)
    assert raw_dir_state(raw) == s0
    st = (raw / "a.csv").stat()
    os.utime(raw / "a.csv", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    s1 = raw_dir_state(raw)
    (raw / "sub").mkdir()
    (raw / "sub" / "b.csv").write_text("y\n")
    s2 = raw_dir_state(raw)
    (raw / "sub" / "b.csv").unlink()
    s3 = raw_dir_state(raw)
    assert len({s0, s1, s2, s3}) == 4
