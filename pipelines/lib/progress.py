"""One line of build progress.

Lines go to the process's real stdout (``sys.__stdout__``): `kzkr build` shows them while Dagster
captures the step's own stdout; in the UI they are in the run's captured logs as well."""

from __future__ import annotations

import sys


def progress(message: str) -> None:
    print(message, file=sys.__stdout__ or sys.stdout, flush=True)
