"""`make bench`: what a build costs, what a no-op rebuild costs, and how a build scales.

Three measurements, each in fresh temporary directories (the project's own ``warehouse/`` is never
touched), printed as Markdown tables (docs/benchmarks.md records a run):

1. **Full build** of the real ``raw/``: ``kzkr build --force`` in a subprocess, broken down by step
   from the Dagster run's own events (``STEP_START`` / ``STEP_SUCCESS`` timestamps read back from the
   run's instance storage) plus what happens before the run starts (interpreter and imports,
   fingerprint, up-front validation, Dagster definitions and dbt manifest) and after it ends
   (summary). Compared with the same project's plain ``dbt build`` on a database that holds only
   the raw schema (made by ``python -m pipelines.ingest.validate``), run right after it.
2. **No-op rebuild**: ``kzkr build`` with nothing changed must skip (it compares the fingerprint
   stored in ``meta.build_info``); then ``kzkr build --force`` must build and publish again.
3. **Scale**: for each of ``BENCH_SCALES`` (default ``1e5,1e6,1e7`` trade rows) a synthetic raw
   directory (``tools.synth``) and a full build of it: wall time, rows per second, peak memory
   of the build's process tree (psutil, sampled every 0.2 s), and a least-squares line of time
   against rows.

No figure is asserted here (tests/test_synth.py tests the pure functions below); the targets
(tools/bench/phases.py) are printed next to the figures: a whole build at most 1.5× a warm plain dbt
build, a no-op at most 25 % of a full build, 10^7 rows at 250k rows/s or more and under 1.5 GB peak
memory, a new release on top of them at most 25 % of their full build.

Usage: ``make bench`` or ``python -m tools.bench [--scales 1e5,1e6] [--skip-full] [--json F]``;
``BENCH_SCALES=1e5 make bench`` for a quick run, ``BENCH_SCALES= make bench`` for no scale runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tools.bench.phases import DEFAULT_SCALES, parse_scales
from tools.bench.report import report
from tools.bench.sections import full_build_section, machine, scale_section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scales",
        default=os.environ.get("BENCH_SCALES", DEFAULT_SCALES),
        help="trade rows per scale run, comma-separated "
        f"(env BENCH_SCALES; default {DEFAULT_SCALES}; empty: none)",
    )
    parser.add_argument(
        "--skip-full", action="store_true", help="skip the full-build / plain-dbt / no-op runs"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=int(os.environ.get("BENCH_ROUNDS", "3")),
        help="kzkr build / plain dbt build pairs of the full-build section (env BENCH_ROUNDS; default 3)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--dir", type=Path, help="work directory (default: a new temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per build before it is killed")
    args = parser.parse_args(argv)
    try:
        scales = parse_scales(args.scales)
    except ValueError as exc:
        print(f"error: BENCH_SCALES / --scales: {exc}", file=sys.stderr)
        return 2
    work = args.dir or Path(tempfile.mkdtemp(prefix="kzkr-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"kzkr bench: work directory {work}", flush=True)
    results: dict[str, Any] = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        if not args.skip_full:
            results["full"] = full_build_section(work, args.timeout, args.rounds)
        results["scales"] = scale_section(scales, work, args.timeout, args.keep)
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str))
    print()
    print(report(results))
    failed = [s for s in results["scales"] if not s["published"]]
    full_ok = args.skip_full or results["full"]["full"]["published"]
    return 0 if full_ok and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
