"""`make ui`: the Dagster UI on http://127.0.0.1:3000 with the job, schedule and sensor loaded.

Binds to 127.0.0.1 unless KZKR_UI_HOST says otherwise (e.g. 0.0.0.0 to expose it on purpose);
KZKR_UI_PORT changes the port. Runs started from the UI use the same warehouse directory and
Dagster instance (``<warehouse>/.dagster``) as `kzkr build`, so its runs and checks show too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from pipelines.cli import prepare_dagster_home
from pipelines.settings import PROJECT_ROOT, Settings


def ui_command(env: Mapping[str, str]) -> list[str]:
    host = env.get("KZKR_UI_HOST") or "127.0.0.1"
    port = env.get("KZKR_UI_PORT") or "3000"
    dagster = str(Path(sys.executable).with_name("dagster"))
    return [dagster, "dev", "-m", "pipelines.definitions", "-h", host, "-p", port]


def main() -> None:
    settings = Settings.from_env()
    home = prepare_dagster_home(settings)
    cmd = ui_command(os.environ)
    print(f"Dagster UI on http://{cmd[-3]}:{cmd[-1]}  (DAGSTER_HOME={home}; Ctrl-C to stop)", flush=True)
    os.chdir(PROJECT_ROOT)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
