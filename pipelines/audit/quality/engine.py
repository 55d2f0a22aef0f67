"""Run the batch queries (DuckDB, read-only) and validate their rows with Great Expectations.

Why pandas and not GX's SQL data source: GX's SQL engine on DuckDB (duckdb_engine) returns no
metric values — every expectation ends in "list index out of range" (GX issues #10738, #11579) — so
a suite "passing" on that path would be a bug. Instead each batch is one DuckDB query that does the
heavy lifting (sums, per-year aggregates of the bureau's large table) and returns a small frame,
which GX validates in memory through an ephemeral context's pandas data source.

``great_expectations`` is imported inside :func:`validate_frames` only: importing it costs seconds,
and nothing that merely loads the Dagster definitions should pay for it.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines.audit.quality.spec import Batch, Catalog, ExpectationSpec

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class BatchData:
    """A batch's rows, or why there are none."""

    batch: Batch
    frame: pd.DataFrame | None
    error: str | None = None

    @property
    def rows(self) -> int:
        return 0 if self.frame is None else len(self.frame)


@dataclass
class ValidationResult:
    """What Great Expectations computed for one expectation."""

    spec: ExpectationSpec
    success: bool
    result: dict[str, Any] = field(default_factory=dict)
    exception: str | None = None


def fetch_batches(db_path: Path, catalog: Catalog) -> dict[str, BatchData]:
    """Run every batch query on a read-only connection to ``db_path``."""
    out: dict[str, BatchData] = {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        done_setup: set[str] = set()
        for name, batch in sorted(catalog.batches.items()):
            try:
                if batch.suite not in done_setup:
                    for stmt in batch.setup:
                        con.execute(stmt).fetchall()
                    done_setup.add(batch.suite)
                frame = con.execute(batch.sql).df()
            except duckdb.Error as exc:
                out[name] = BatchData(batch, None, f"batch query failed: {exc}".strip())
                continue
            missing = [c for c in ("row_label", "source_ref") if c not in frame.columns]
            if missing:
                out[name] = BatchData(batch, None, f"batch query returns no {', '.join(missing)} column")
                continue
            out[name] = BatchData(batch, frame.reset_index(drop=True))
    return out


def _quiet_gx_logging() -> None:
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def validate_frames(
    data: dict[str, BatchData], catalog: Catalog, *, suite_results: list[Any] | None = None
) -> dict[str, ValidationResult]:
    """Validate each batch's frame with the expectations of its rules. Keyed by ``ExpectationSpec.key``.
    GX's own (suite, validation result) pairs are appended to ``suite_results`` if given."""
    _quiet_gx_logging()
    results: dict[str, ValidationResult] = {}
    todo: list[tuple[BatchData, list[ExpectationSpec]]] = []
    for name, bd in sorted(data.items()):
        specs = [e for r in catalog.rules_of_batch(name) for e in r.expectations]
        if not specs:
            continue
        if bd.frame is None:
            for spec in specs:
                results[spec.key] = ValidationResult(spec, False, exception=bd.error or "no data")
            continue
        todo.append((bd, specs))
    if not todo:
        return results

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.core.expectation_suite import ExpectationSuite
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        source = context.data_sources.add_pandas("kzkr_build")
        for bd, specs in todo:
            configs = []
            for s in specs:
                cfg = copy.deepcopy(s.config)
                cfg.setdefault("meta", {})["kzkr_key"] = s.key
                configs.append(cfg)
            try:
                suite = ExpectationSuite(name=f"{bd.batch.suite}.{bd.batch.name}", expectations=configs)
                asset = source.add_dataframe_asset(bd.batch.name)
                definition = asset.add_batch_definition_whole_dataframe("whole")
                batch = definition.get_batch(batch_parameters={"dataframe": bd.frame})
                validation = batch.validate(suite, result_format={"result_format": "COMPLETE"})
                if suite_results is not None:
                    suite_results.append((suite, validation))
            except Exception as exc:  # a malformed expectation or a GX failure: every rule of it fails
                for s in specs:
                    results[s.key] = ValidationResult(s, False, exception=f"validation failed: {exc}")
                continue
            _collect_results(validation, specs, results)
    return results


def _collect_results(
    validation: Any, specs: list[ExpectationSpec], results: dict[str, ValidationResult]
) -> None:
    """Add GX's result of each expectation of one suite validation to ``results``, keyed by spec key."""
    by_key = {s.key: s for s in specs}
    for r in validation.results:
        key = (r.expectation_config.meta or {}).get("kzkr_key")
        spec = by_key.get(str(key))
        if spec is None:
            continue
        message = exception_message(r.exception_info)
        results[spec.key] = ValidationResult(
            spec,
            bool(r.success) and message is None,
            result=jsonable(dict(r.result or {})),
            exception=message,
        )
    for s in specs:
        if s.key not in results:
            results[s.key] = ValidationResult(s, False, exception="Great Expectations returned no result")


def exception_message(info: Any) -> str | None:
    """The message(s) of an exception GX caught while computing an expectation's metrics, if any.

    GX reports either one ``{raised_exception, exception_message, ...}`` dict or a dict of them keyed
    by metric configuration.
    """
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        if not info.get("raised_exception"):
            return None
        return str(info.get("exception_message") or "exception in Great Expectations")
    messages = [
        str(v.get("exception_message") or "exception in Great Expectations")
        for v in info.values()
        if isinstance(v, dict) and v.get("raised_exception")
    ]
    return "; ".join(dict.fromkeys(messages)) or None


def jsonable(value: Any) -> Any:
    """Numbers, strings, lists and dicts only (numpy/pandas scalars, NA and Decimals converted)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return jsonable(item())
        except (TypeError, ValueError):
            pass
    return str(value)
