"""Benchmarks and synthetic data live in tools/: run by make, not installed with the product, not part of
the build fingerprint (editing a benchmark must not turn a no-op rebuild into a full one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

VENV_BIN = str(Path(sys.executable).parent)


def plain_env(**extra: str) -> dict[str, str]:
    """A plain shell's environment: no venv activated, nothing of it on PATH, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != VENV_BIN)
    env.update(extra)
    return env


def test_make_synth_writes_a_raw_directory_the_ingest_accepts(tmp_path: Path) -> None:
    out = tmp_path / "raw-synth"
    proc = subprocess.run(
        ["make", "synth", "SCALE=150", f"OUT={out}"],
        cwd=REPO,
        env=plain_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "150 rows" in proc.stdout
    check = subprocess.run(
        [sys.executable, "-m", "pipelines.ingest.validate", "--raw-dir", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_tools_are_not_installed_with_the_package(tmp_path: Path) -> None:
    code = (
        "import importlib.util as u; "
        "print(sorted(m for m in ('pipelines', 'tools', 'pipelines.bench', 'pipelines.synth') if u.find_spec(m)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=plain_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['pipelines']"  # the product is installed, the tools are not


def _fingerprint(root: Path, tmp: Path) -> str:
    code = (
        "from pipelines.publish.warehouse import fingerprint; from pipelines.settings import Settings; "
        "print(fingerprint(Settings.from_env()))"
    )
    env = plain_env(
        PYTHONPATH=str(root), KZKR_RAW_DIR=str(root / "raw"), KZKR_WAREHOUSE_DIR=str(tmp / "warehouse")
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_editing_a_tool_keeps_the_build_fingerprint(tmp_path: Path) -> None:
    root = tmp_path / "project"
    ignore = shutil.ignore_patterns("target", "logs", "__pycache__", "*.pyc")
    for part in ("pipelines", "dbt_project", "raw", "tools", "expectations"):
        if (REPO / part).exists():
            shutil.copytree(REPO / part, root / part, ignore=ignore)
    before = _fingerprint(root, tmp_path)
    tools = sorted((root / "tools").rglob("*.py"))
    assert tools, "no tools/ modules"
    for module in tools:
        module.write_text(module.read_text() + "\n# edited\n")
    assert _fingerprint(root, tmp_path) == before
    cli = root / "pipelines" / "cli.py"
    cli.write_text(cli.read_text() + "\n# edited\n")  # the product's code is part of it
    assert _fingerprint(root, tmp_path) != before
