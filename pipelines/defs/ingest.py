"""Ingest: one asset per raw file, ``raw/<name>``, loaded into this run's build file."""

# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

from functools import cache
from typing import Any

import dagster as dg

from pipelines.ingest.specs import RAW_FILES, RawFile
from pipelines.ingest.validate import RawInputError, load_table
from pipelines.lib.pause import pause_point
from pipelines.lib.progress import progress
from pipelines.resources import WarehouseResource

GROUP = "raw"


def ingest_asset(spec: RawFile) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey([GROUP, spec.name]),
        group_name=GROUP,
        description=f"{spec.description}\n\nLoaded from `{spec.label}`"
        + (" (every release file present, each with its sidecar)" if spec.per_release else "")
        + " with its explicit schema (pipelines/ingest/specs.py); rejects bad input naming file, line and "
        "column.",
        kinds={"duckdb", "csv"},
        metadata={"file": spec.label, "key": ", ".join(spec.key)},
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect(warehouse.build_file(context)) as con:
            try:
                results = load_table(con, spec, warehouse.settings().raw_dir)
            except RawInputError as exc:
                # The CLI reads file, line and column from this metadata (exit 2, the message as is).
                raise dg.Failure(
                    description=str(exc),
                    metadata={
                        "file": exc.file,
                        "line": exc.line or 0,
                        "column": exc.column or "",
                        "table": f"raw.{spec.name}",
                    },
                ) from exc
            pause_point("ingest")  # test hook (tests/test_crash_safety.py): build file open, mid-ingest
        for res in results:
            progress(f"  ingest   {res.file:<58} {res.rows:>6} rows")
        files = {res.file: {"rows": res.rows, "sha256": res.sha256} for res in results}
        metadata: dict[str, Any] = {
            "rows": dg.MetadataValue.int(sum(res.rows for res in results)),
            "file": ", ".join(files),
            "table": f"raw.{spec.name}",
        }
        if len(results) == 1:
            metadata["sha256"] = results[0].sha256
        else:
            metadata["files"] = dg.MetadataValue.json(files)
        return dg.MaterializeResult(metadata=metadata)

    _ingest.__name__ = f"ingest_{spec.name}"
    return _ingest


@cache
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[ingest_asset(spec) for spec in RAW_FILES])
