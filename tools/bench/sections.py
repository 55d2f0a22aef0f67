"""The benchmark's sections: the machine, the full build against plain dbt and a no-op, the scale runs."""

from __future__ import annotations

import os
import platform
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipelines.settings import PROJECT_ROOT
from tools.bench.report import fmt_bytes, fmt_rows, fmt_seconds
from tools.bench.runner import build_env, kzkr, measure_build, measure_plain_dbt, run_measured


def machine() -> dict[str, str]:
    import duckdb
    import psutil

    def version(dist: str) -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as v

        try:
            return v(dist)
        except PackageNotFoundError:
            return "–"

    return {
        "cores": str(os.cpu_count()),
        "memory": fmt_bytes(psutil.virtual_memory().total),
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt-core": version("dbt-core"),
        "dbt-duckdb": version("dbt-duckdb"),
        "dagster": version("dagster"),
        "dagster-dbt": version("dagster-dbt"),
    }


def full_build_section(work: Path, timeout: float | None) -> dict[str, Any]:
    raw = PROJECT_ROOT / "raw"
    wh = work / "warehouse-real"
    from tools.synth import trade_rows

    rows = trade_rows(raw)
    print("full build of raw/ (kzkr build --force) …", flush=True)
    full = measure_build("full build", raw_dir=raw, warehouse_dir=wh, rows=rows, timeout=timeout)
    print("plain dbt build …", flush=True)
    plain = measure_plain_dbt(raw, work, timeout)
    print("no-op rebuild (kzkr build) …", flush=True)
    env = build_env(raw_dir=raw, warehouse_dir=wh)
    noop = run_measured(kzkr("build"), env=env, cwd=PROJECT_ROOT, timeout=timeout)
    skipped = noop.returncode == 0 and "nothing changed" in noop.stdout
    print("forced rebuild (kzkr build --force) …", flush=True)
    forced = measure_build("forced rebuild", raw_dir=raw, warehouse_dir=wh, rows=rows, timeout=timeout)
    rebuilt = forced.published and forced.run_id is not None and forced.run_id != full.run_id
    return {
        "full": asdict(full),
        "plain": asdict(plain),
        "noop": {"wall": round(noop.wall, 3), "skipped": skipped, "peak_rss": noop.peak_rss},
        "forced": asdict(forced),
        "force_rebuilt": rebuilt,
    }


def scale_section(
    scales: Sequence[int], work: Path, timeout: float | None, keep: bool
) -> list[dict[str, Any]]:
    from pipelines.ingest.specs import TRADE
    from tools.synth import format_scale, synthesize

    out = []
    for n in scales:
        label = format_scale(n)
        raw = work / f"raw-{label}"
        wh = work / f"warehouse-{label}"
        print(f"scale {label}: synthesizing {fmt_rows(n)} trade rows …", flush=True)
        t0 = time.monotonic()
        synthesize(raw, n)
        synth_s = time.monotonic() - t0
        size = sum((raw / f.filename).stat().st_size for f in TRADE.files(raw))
        print(f"scale {label}: kzkr build --force …", flush=True)
        fig = measure_build(f"scale {label}", raw_dir=raw, warehouse_dir=wh, rows=n, timeout=timeout)
        noop = (  # a no-op only means something after a published build
            run_measured(kzkr("build"), env=build_env(raw_dir=raw, warehouse_dir=wh), cwd=PROJECT_ROOT)
            if fig.published
            else None
        )
        db = wh / "kzkr.duckdb"
        out.append(
            {
                **asdict(fig),
                "synth_seconds": round(synth_s, 3),
                "csv_bytes": size,
                "warehouse_bytes": db.stat().st_size if db.exists() else None,
                "noop_wall": round(noop.wall, 3) if noop else None,
            }
        )
        print(
            f"scale {label}: {fmt_seconds(fig.wall)}, peak {fmt_bytes(fig.peak_rss)}"
            + ("" if fig.published else " (NOT published)"),
            flush=True,
        )
        if not keep:
            shutil.rmtree(raw, ignore_errors=True)
            shutil.rmtree(wh, ignore_errors=True)
    return out
