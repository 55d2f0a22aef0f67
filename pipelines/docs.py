"""`make docs`: generate the dbt docs site from the published warehouse and serve it locally.

`python -m pipelines.docs --no-serve` only generates (dbt_project/target/index.html).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from pipelines.settings import DBT_PROJECT_DIR, Settings
from pipelines.transform.project import DBT_EXECUTABLE


def generate(settings: Settings, target: Path) -> Path:
    """dbt docs generate against a copy of the published file (never the published file itself)."""
    if not settings.published.exists():
        raise SystemExit(f"error: {settings.published} does not exist yet; run `make run` first")
    with tempfile.TemporaryDirectory(prefix="kzkr-docs-") as tmp:
        copy = Path(tmp) / "docs.duckdb"
        shutil.copy2(settings.published, copy)
        env = {**os.environ, "KZKR_BUILD_DB": str(copy), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        subprocess.run(
            [
                DBT_EXECUTABLE,
                "docs",
                "generate",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(target),
            ],
            check=True,
            env=env,
        )
    return target / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-serve", action="store_true")
    parser.add_argument("--port", default="8080")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    target = settings.warehouse_dir / "docs"
    index = generate(settings, target)
    print(f"dbt docs: {index}")
    if args.no_serve:
        return 0
    print(f"serving on http://127.0.0.1:{args.port} (Ctrl-C to stop)")
    os.execv(
        DBT_EXECUTABLE,
        [
            DBT_EXECUTABLE,
            "docs",
            "serve",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
            "--host",
            "127.0.0.1",
            "--port",
            args.port,
            "--no-browser",
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
