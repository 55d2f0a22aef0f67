"""What the raw-file sensor watches, and its debounce.

:func:`raw_dir_state` is a cheap fingerprint of ``raw/`` (names, sizes and modification times, not
contents: the sensor evaluates it every few seconds). :func:`debounce` turns a stream of such
states into build requests: a burst of edits starts **one** build, once the files have stayed the
same for ``quiet_seconds``, instead of one build per sensor evaluation that sees a change.

The sensor's cursor (a JSON object) remembers

- ``requested``: the state the last build was requested for;
- ``seen``: the newest state seen, and ``since``: when it was first seen (epoch seconds).

A change that is undone before the quiet time is over requests nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path


def raw_dir_state(raw_dir: Path) -> str:
    """Names, sizes and modification times of every file and directory under ``raw_dir``."""
    digest = hashlib.sha256()
    if raw_dir.exists():
        for p in sorted(raw_dir.rglob("*")):
            st = p.lstat()
            kind = "d" if p.is_dir() else "f"
            digest.update(f"{kind}\0{p.relative_to(raw_dir)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Cursor:
    requested: str
    seen: str
    since: float

    def dump(self) -> str:
        return json.dumps({"requested": self.requested, "seen": self.seen, "since": self.since})

    @classmethod
    def load(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(str(data["requested"]), str(data["seen"]), float(data["since"]))
        except (ValueError, KeyError, TypeError):
            # the cursor of the sensor before the debounce: the state of the last request
            return cls(text, text, 0.0)


@dataclass(frozen=True)
class Decision:
    request: bool
    cursor: str
    reason: str
    run_key: str | None = None


def debounce(cursor: str | None, state: str, now: float, quiet_seconds: float) -> Decision:
    """Whether to request a build now, given the sensor's cursor and the current state of raw/."""
    prev = Cursor.load(cursor)
    if prev is None:  # first evaluation: the schedule or `kzkr build` made the first build
        return Decision(False, Cursor(state, state, now).dump(), "recorded the current state of raw/")
    if state == prev.requested:
        return Decision(
            False, Cursor(state, state, now).dump(), "raw/ unchanged since the last build request"
        )
    if state != prev.seen:
        return Decision(
            False,
            Cursor(prev.requested, state, now).dump(),
            f"raw/ changed; waiting until it has been quiet for {quiet_seconds:g} s",
        )
    quiet_for = now - prev.since
    if quiet_for < quiet_seconds:
        return Decision(
            False, cursor or "", f"raw/ quiet for {quiet_for:.0f} s of {quiet_seconds:g} s; waiting"
        )
    return Decision(
        True,
        Cursor(state, state, now).dump(),
        f"raw/ changed and quiet for {quiet_for:.0f} s: build requested",
        # unique per request: a state seen before (an edit undone after its build) builds again
        run_key=f"{state[:16]}-{int(now)}",
    )
