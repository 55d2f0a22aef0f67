"""`make ui`'s launcher (pipelines/ui.py): what it hands `dg dev` when it execs it."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs the real launcher with its exec replaced by a report of what the exec'd program would inherit.
PROBE = """
import json, os, signal, sys
import pipelines.ui as ui
def report(path, argv, env):
    print(json.dumps({
        "argv": argv,
        "path0": env["PATH"].split(os.pathsep)[0],
        "sigint_default": signal.getsignal(signal.SIGINT) == signal.SIG_DFL,
        "sigterm_default": signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
    }))
    sys.exit(0)
ui.os.execve = report
ui.main()
"""


def _ignore_signals() -> None:  # what `make ui &` from an interactive shell, or nohup, does to the child
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def test_ui_started_in_the_background_still_stops_on_sigint_and_sigterm(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "KZKR_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_ignore_signals,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["argv"][1] == "dev"
    assert seen["path0"] == str(Path(sys.executable).parent), "the venv's bin first on PATH"
    assert seen["sigint_default"], "dg dev would inherit SIGINT ignored and never stop on Ctrl-C"
    assert seen["sigterm_default"], "dg dev would inherit SIGTERM ignored"
    assert os.path.basename(seen["argv"][0]) == "dg"
