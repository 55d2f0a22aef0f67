"""Markdown table cells."""

from __future__ import annotations


def md_cell(text: object) -> str:
    """``text`` as one Markdown table cell: whitespace collapsed, ``|`` escaped, None empty."""
    return " ".join(str(text if text is not None else "").split()).replace("|", "\\|")
