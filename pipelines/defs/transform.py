"""Transform: `dbt build` (seeds, models, tests as asset checks) on this run's build file."""

# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

from collections.abc import Iterator
from functools import cache
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliInvocation, DbtCliResource, dbt_assets

from pipelines.lib.pause import pause_point
from pipelines.lib.progress import progress
from pipelines.resources import WarehouseResource
from pipelines.transform.project import KzkrTranslator, dbt_project, ensure_manifest

DBT_ASSETS_NAME = "kzkr_dbt"


def with_progress(invocation: DbtCliInvocation) -> Iterator[Any]:
    """The invocation's events, with one progress line per node built and failed test; raises
    :class:`dagster.Failure` naming the failing dbt nodes if the build failed."""
    models = tests = failed = 0
    for event in invocation.stream():
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            models += 1
            key = getattr(event, "output_name", None) or event.asset_key.to_user_string()
            progress(f"  dbt      {key}")
            if models == 1:
                pause_point("dbt")  # test hook: dbt is mid-build, its subprocess still running
        elif isinstance(event, dg.AssetCheckResult | dg.AssetCheckEvaluation):
            tests += 1
            if not event.passed:
                failed += 1
                progress(f"  dbt test FAILED {event.check_name} on {event.asset_key.to_user_string()}")
        yield event
    results = run_results(invocation)
    progress(f"  dbt      {models} nodes built, {dbt_test_counts(results, checks=tests, failed=failed)}")
    if not invocation.is_successful():
        raise dg.Failure(description="dbt build failed: " + dbt_failures(results, invocation))


FAILED = ("error", "fail", "runtime error")  # dbt result statuses of a node that failed


def run_results(invocation: DbtCliInvocation) -> list[dict[str, Any]] | None:
    """The results of run_results.json, or None if dbt wrote none (it failed before running anything,
    e.g. on a parse error)."""
    try:
        return invocation.get_artifact("run_results.json")["results"]
    except Exception:
        return None


def dbt_test_counts(results: list[dict[str, Any]] | None, *, checks: int, failed: int) -> str:
    """The run's dbt tests as the build's status counts them (every data and unit test in
    run_results.json, as quality.dbt_test_results has them), and how many became asset checks."""
    if results is None:  # the counts of the asset-check events are all there is
        return f"{checks} tests run, {failed} failed"
    ran = [r for r in results if str(r.get("unique_id", "")).startswith(("test.", "unit_test."))]
    bad = sum(1 for r in ran if r.get("status") in FAILED)
    return f"{len(ran)} tests run ({checks} of them asset checks), {bad} failed"


def dbt_failures(results: list[dict[str, Any]] | None, invocation: DbtCliInvocation) -> str:
    """The failing dbt nodes and their messages, from run_results.json (else dbt's error)."""
    bad = [r for r in results or [] if r.get("status") in FAILED]
    if not bad:
        return str(invocation.get_error())
    return "; ".join(f"{r['unique_id']}: {(r.get('message') or '').strip()[:300]}" for r in bad[:10])


@cache
def dbt_assets_def() -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=ensure_manifest(),
        project=dbt_project(),
        dagster_dbt_translator=KzkrTranslator(),
        name=DBT_ASSETS_NAME,
    )
    def kzkr_dbt(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ) -> Iterator[Any]:
        """`dbt build` (seeds, models, tests) against this run's build file."""
        with warehouse.dbt_session(context):
            yield from with_progress(dbt.cli(["build"], context=context, raise_on_error=False))

    return kzkr_dbt


@cache
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[dbt_assets_def()])
