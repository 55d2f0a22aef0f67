"""Shared fixtures: a copy of raw/ in a temporary directory, one real warehouse built once per session
with ``kzkr build``, copies of it for tests that write, and helpers to run ``kzkr`` against them.

Every build in the tests reads a temporary copy of raw/ and writes a temporary warehouse directory
(``KZKR_RAW_DIR`` / ``KZKR_WAREHOUSE_DIR``), with ``DAGSTER_HOME`` unset so that each warehouse
uses its own ``<warehouse>/.dagster``. Nothing here touches the repository's raw/ or warehouse/.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
# The raw data the tests check and build: raw/, or KZKR_RAW_DIR as for `kzkr build` (the tests that
# read the data are parametrised on it; tests/test_add_release.py runs them on a directory with a
# new release). Tests never write to it: builds read copies.
RAW = Path(os.environ.get("KZKR_RAW_DIR") or REPO / "raw").absolute()
KZKR = str(Path(sys.executable).with_name("kzkr"))
PUBLISHED_NAME = "kzkr.duckdb"
BUILD_TIMEOUT = 900.0


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_tree(root: Path) -> str:
    """One hash of a directory: every entry's relative path, type, mode, and content or link target."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        st = path.lstat()
        if path.is_symlink():
            digest.update(f"L {rel} -> {os.readlink(path)}\n".encode())
        elif path.is_dir():
            digest.update(f"D {rel} {st.st_mode:o}\n".encode())
        else:
            digest.update(f"F {rel} {st.st_mode:o} {sha256_file(path)}\n".encode())
    return digest.hexdigest()


def kzkr_env(raw_dir: Path, warehouse_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "KZKR_RAW_DIR": str(raw_dir), "KZKR_WAREHOUSE_DIR": str(warehouse_dir)}
    for var in ("DAGSTER_HOME", "KZKR_TEST_PAUSE_AT", "KZKR_LOCK_HELD"):
        env.pop(var, None)
    env.update(extra or {})
    return env


def run_kzkr(
    *args: str,
    raw_dir: Path,
    warehouse_dir: Path,
    stdin: str | None = None,
    timeout: float = BUILD_TIMEOUT,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KZKR, *args],
        env=kzkr_env(raw_dir, warehouse_dir, extra_env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def build_info(published: Path) -> tuple[str, str]:
    """(build_id, run_id) of a warehouse file, opened read-only."""
    with duckdb.connect(str(published), read_only=True) as con:
        row = con.execute("select build_id, run_id from meta.build_info").fetchone()
    assert row is not None, f"{published} has an empty meta.build_info"
    return str(row[0]), str(row[1])


def missing_rows(counts: dict[str, int], reference: dict[str, int]) -> dict[str, tuple[int | None, int]]:
    """Tables of ``reference`` that ``counts`` lacks or holds with another row count: {} for a complete
    build. (A table that only ``counts`` has is fine: the code may have grown during the session.)"""
    return {t: (counts.get(t), n) for t, n in reference.items() if counts.get(t) != n}


@dataclass(frozen=True)
class BuiltWarehouse:
    """The session's reference build. Treat as read-only: copy it (``warehouse_copy``) to write."""

    raw_dir: Path
    warehouse_dir: Path
    sha256: str
    build_id: str
    stdout: str
    stderr: str = ""

    @property
    def published(self) -> Path:
        return self.warehouse_dir / PUBLISHED_NAME


def copy_raw(dest: Path) -> Path:
    shutil.copytree(RAW, dest, symlinks=True)
    return dest


def copy_warehouse(built: BuiltWarehouse, dest: Path) -> Path:
    """A fresh warehouse directory whose published file is a copy of the reference build."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(built.published, dest / PUBLISHED_NAME)
    return dest


@pytest.fixture(scope="session")
def pristine_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide copy of raw/ that no test modifies (the reference build reads it)."""
    return copy_raw(tmp_path_factory.mktemp("pristine") / "raw")


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A private copy of raw/ that the test may modify."""
    return copy_raw(tmp_path / "raw")


@pytest.fixture(scope="session")
def built_warehouse(pristine_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """The real warehouse, built once per session with ``kzkr build`` into a temporary directory."""
    wh = tmp_path_factory.mktemp("warehouse")
    proc = run_kzkr("build", raw_dir=pristine_raw, warehouse_dir=wh)
    assert proc.returncode == 0, f"reference build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    published = wh / PUBLISHED_NAME
    return BuiltWarehouse(
        raw_dir=pristine_raw,
        warehouse_dir=wh,
        sha256=sha256_file(published),
        build_id=build_info(published)[0],
        stdout=proc.stdout,
        stderr=proc.stderr,
    )


@pytest.fixture
def warehouse_copy(built_warehouse: BuiltWarehouse, tmp_path: Path) -> Path:
    """A private warehouse directory holding a copy of the reference build's published file."""
    return copy_warehouse(built_warehouse, tmp_path / "warehouse")
