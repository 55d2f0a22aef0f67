"""Ingest: one asset per raw file, ``raw/<name>``, loaded into this run's build file."""

# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

from functools import cache
from typing import Any

import dagster as dg

from pipelines.ingest.reuse import FULL_REFRESH_TAG
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
        "column."
        + (
            " A release file unchanged since the published build (same sha256, same ingest version) is "
            "copied from it; the run tag `kzkr/full_refresh=true` reads every file again."
            if spec.per_release
            else ""
        ),
        kinds={"duckdb", "csv"},
        metadata={"file": spec.label, "key": ", ".join(spec.key)},
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = warehouse.settings()
        full_refresh = context.run.tags.get(FULL_REFRESH_TAG, "").lower() == "true"
        with warehouse.connect(warehouse.build_file(context)) as con:
            try:
                results = load_table(
                    con, spec, settings.raw_dir, reuse_from=None if full_refresh else settings.published
                )
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
            same = " (unchanged: copied from the published build)" if res.reused else ""
            progress(f"  ingest   {res.file:<58} {res.rows:>6} rows{same}")
        files = {res.file: {"rows": res.rows, "sha256": res.sha256, "reused": res.reused} for res in results}
        metadata: dict[str, Any] = {
            "rows": dg.MetadataValue.int(sum(res.rows for res in results)),
            "file": ", ".join(files),
            "table": f"raw.{spec.name}",
        }
        if len(results) == 1:
            metadata["sha256"] = results[0].sha256
        else:
            metadata["files"] = dg.MetadataValue.json(files)
            metadata["files reused"] = dg.MetadataValue.int(sum(res.reused for res in results))
        return dg.MaterializeResult(metadata=metadata)

    _ingest.__name__ = f"ingest_{spec.name}"
    return _ingest


@cache
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[ingest_asset(spec) for spec in RAW_FILES])
