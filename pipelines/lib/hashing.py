"""One way to hash a tree of files (the build fingerprint, the dbt sources digest, the sensor's
cheap view of raw/)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


def hash_tree(
    digest: Any, root: Path, pattern: str = "**/*", label: str = "", *, contents: bool = True
) -> None:
    """Feed every file of ``root`` matching ``pattern`` into ``digest``, in name order: its path
    relative to ``root`` (under ``label``), where a symlink points, and its bytes, or with
    ``contents=False`` only its size and modification time (cheap at any size)."""
    if not root.exists():
        return
    for path in sorted(p for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f"{label}/{path.relative_to(root)}\0".encode())
        if path.is_symlink():  # where it points matters too: the ingest refuses links out of raw/
            digest.update(f"-> {path.resolve()}\0".encode())
        if not contents:
            st = path.stat()
            digest.update(f"{st.st_size}\0{st.st_mtime_ns}\n".encode())
            continue
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes (streamed)."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def tree_digest(root: Path, pattern: str = "**/*", *, contents: bool = True) -> str:
    digest = hashlib.sha256()
    hash_tree(digest, root, pattern, contents=contents)
    return digest.hexdigest()
