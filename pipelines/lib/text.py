"""Text cut to a width for terminals, captions and check descriptions."""

from __future__ import annotations


def cut(text: object, width: int, *, one_line: bool = False) -> str:
    """``text`` (None: empty) in at most ``width`` characters, ending in "…" where it was cut;
    ``one_line`` collapses every run of whitespace (newlines included) into one space first."""
    s = str(text if text is not None else "")
    if one_line:
        s = " ".join(s.split())
    return s if len(s) <= width else s[: max(width - 1, 0)] + "…"
