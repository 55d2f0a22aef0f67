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
from tools.bench.runner import PlainDbt, build_env, kzkr, measure_build, run_measured


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


def full_build_section(work: Path, timeout: float | None, rounds: int = 3) -> dict[str, Any]:
    """``kzkr build --force`` and a warm plain ``dbt build``, alternating ``rounds`` times (the ratio
    of each pair is taken: pairing keeps it meaningful when the machine's speed drifts), after one
    cold plain ``dbt build``; then a no-op ``kzkr build``."""
    raw = PROJECT_ROOT / "raw"
    wh = work / "warehouse-real"
    from tools.synth import trade_rows

    rows = trade_rows(raw)
    print("plain ingest and a cold plain dbt build …", flush=True)
    plain, ingest = PlainDbt.prepare(raw, work, timeout)
    cold = plain.build(timeout) if plain else None
    builds, warms = [], []
    for i in range(1, max(1, rounds) + 1):
        print(f"round {i}: kzkr build --force, then a warm plain dbt build …", flush=True)
        builds.append(measure_build(f"build {i}", raw_dir=raw, warehouse_dir=wh, rows=rows, timeout=timeout))
        warms.append(plain.build(timeout) if plain else None)
    print("no-op rebuild (kzkr build) …", flush=True)
    noop = run_measured(kzkr("build"), env=build_env(raw_dir=raw, warehouse_dir=wh), cwd=PROJECT_ROOT)
    run_ids = [b.run_id for b in builds if b.published and b.run_id]
    return {
        "full": asdict(builds[0]),
        "builds": [asdict(b) for b in builds],
        "plain": {
            "ok": bool(plain) and all(r is not None and r.returncode == 0 for r in [cold, *warms]),
            "ingest_wall": round(ingest.wall, 3),
            "ingest_cpu": ingest.cpu,
            "cold_wall": round(cold.wall, 3) if cold else None,
            "cold_cpu": cold.cpu if cold else None,
            "warm_wall": [round(r.wall, 3) if r else None for r in warms],
            "warm_cpu": [r.cpu if r else None for r in warms],
            "dbt_elapsed": plain.elapsed() if plain else None,
            "peak_rss": max([r.peak_rss for r in [ingest, cold, *warms] if r] or [0]),
        },
        "noop": {
            "wall": round(noop.wall, 3),
            "skipped": noop.returncode == 0 and "nothing changed" in noop.stdout,
        },
        # every round after the first rebuilt and published anew: --force does rebuild
        "force_rebuilt": len(run_ids) == len(builds) and len(set(run_ids)) == len(run_ids),
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
        added = (
            add_release(raw, work / f"warehouse-{label}-add", n, timeout)
            if fig.published and n == max(scales)
            else None
        )
        out.append(
            {
                **asdict(fig),
                "synth_seconds": round(synth_s, 3),
                "csv_bytes": size,
                "warehouse_bytes": db.stat().st_size if db.exists() else None,
                "noop_wall": round(noop.wall, 3) if noop else None,
                "add_release": added,
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


def add_release(raw: Path, wh: Path, rows: int, timeout: float | None) -> dict[str, Any] | None:
    """A new release on top of a warehouse of ``raw`` without its latest release: the latest release
    file set aside, a build published, the file put back, then ``kzkr build`` (measured) — what the
    README's "add a year" recipe costs at this scale."""
    from pipelines.ingest.specs import TRADE
    from pipelines.ingest.validate import sidecar_path

    latest = raw / TRADE.files(raw)[-1].filename
    moved = [latest, sidecar_path(latest)]
    aside = wh.with_name(wh.name + "-aside")
    aside.mkdir(parents=True, exist_ok=True)
    for p in moved:
        p.rename(aside / p.name)
    print(f"  add a release: a warehouse without {latest.name} …", flush=True)
    try:
        base = measure_build(
            "without the latest release", raw_dir=raw, warehouse_dir=wh, rows=rows, timeout=timeout
        )
    finally:
        for p in moved:
            (aside / p.name).rename(p)
    if not base.published:
        return None
    print(f"  add a release: {latest.name} back, kzkr build …", flush=True)
    fig = measure_build(
        "add a release", raw_dir=raw, warehouse_dir=wh, rows=rows, force=False, timeout=timeout
    )
    shutil.rmtree(wh, ignore_errors=True)
    return {**asdict(fig), "base_wall": base.wall, "release_file": latest.name}
