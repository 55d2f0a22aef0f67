"""`make ui`: the Dagster UI on http://127.0.0.1:3000, its daemon (schedule, sensor, run queue) and
the code location ``kzkr``, started with `dg dev` from a plain shell.

Binds to 127.0.0.1 unless KZKR_UI_HOST says otherwise (e.g. 0.0.0.0 to expose it on purpose);
KZKR_UI_PORT changes the port. Runs started from the UI use the same warehouse directory and
Dagster instance (``<warehouse>/.dagster``) as `kzkr build`, so its runs and checks show too.

`make` puts nothing on PATH: the launcher puts this environment's bin directory (the venv's
``dg``, ``dagster``, ``dbt``) first on PATH for everything it starts.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from pipelines.cli import prepare_dagster_home
from pipelines.settings import PROJECT_ROOT, Settings, export_defaults, ui_address

VENV_BIN = Path(sys.executable).parent


def ui_command(env: Mapping[str, str]) -> list[str]:
    host, port = ui_address(env)
    return [str(VENV_BIN / "dg"), "dev", "-h", host, "-p", port]


def ui_environment(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with the venv's bin directory first on PATH."""
    path = env.get("PATH") or os.defpath
    return {**env, "PATH": os.pathsep.join([str(VENV_BIN), path])}


def main() -> None:
    export_defaults()
    home = prepare_dagster_home(Settings.from_env())
    cmd = ui_command(os.environ)
    host, port = ui_address()
    print(f"Dagster UI on http://{host}:{port}  (DAGSTER_HOME={home}; Ctrl-C to stop)", flush=True)
    os.chdir(PROJECT_ROOT)
    # A shell starting `make ui &` (or nohup, or a service manager) hands it SIGINT ignored, and an
    # ignored signal stays ignored across exec: `dg dev` and its webserver, daemon and code server
    # would then never stop on Ctrl-C or on the SIGINT dg sends its children when told to stop.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    os.execve(cmd[0], cmd, ui_environment(os.environ))


if __name__ == "__main__":
    main()
