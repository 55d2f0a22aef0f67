"""The Dagster code location ``kzkr``: composes the stages' definitions (pipelines/defs/) with the
resources. Importing this module builds nothing: Dagster (and `kzkr build`) call :func:`defs`, and
each area's cached factory builds its objects then (the dbt manifest is parsed only if the dbt
project changed)."""

from __future__ import annotations

from functools import cache

import dagster as dg

from pipelines.defs import audit, automation, ingest, publish, transform
from pipelines.defs.automation import CONCURRENCY_TAG, JOB_NAME, raw_files_changed
from pipelines.resources import resources

__all__ = ["CONCURRENCY_TAG", "JOB_NAME", "defs", "load_defs", "raw_files_changed"]


@cache
def load_defs() -> dg.Definitions:
    return dg.Definitions.merge(
        ingest.defs(),
        transform.defs(),
        audit.defs(),
        publish.defs(),
        automation.defs(),
        dg.Definitions(
            resources=resources(),
            # Every job of the location, the UI's "Materialize all" included, runs its steps one after
            # another in one process: a DuckDB file has one writer at a time.
            executor=dg.in_process_executor,
        ),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return load_defs()
