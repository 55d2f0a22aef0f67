"""Dagster resources: the mechanics asset bodies do not repeat.

``warehouse`` (:class:`WarehouseResource`) owns where things are (raw files, this run's build file,
the published file), DuckDB connections (with the one memory limit), preparing the run's build
file, and the dbt session (the stable hard link dbt opens, its environment, its log). ``dbt`` is
dagster-dbt's ``DbtCliResource`` on this checkout's project with the venv's dbt. Their configuration
comes from :mod:`pipelines.settings` and shows in the UI as resource config.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from pydantic import Field, PrivateAttr

from pipelines.lib.duck import connect
from pipelines.lib.progress import progress
from pipelines.publish.lock import enter_run_lock
from pipelines.settings import (
    BUILD_DB_ENV,
    DBT_PROJECT_DIR,
    DEFAULT_MEMORY_LIMIT,
    MEMORY_LIMIT_ENV,
    RAW_DIR_ENV,
    WAREHOUSE_DIR_ENV,
    Automation,
    Settings,
    resource_value,
)
from pipelines.transform.project import DBT_EXECUTABLE, dbt_database_path, prune_run_targets

AnyContext = dg.AssetExecutionContext | dg.AssetCheckExecutionContext | dg.OpExecutionContext


class PartialRunError(dg.Failure):
    """A run that selected part of the warehouse cannot do what it asked (e.g. publish)."""


def run_is_partial(context: Any) -> bool:
    """Whether this run materializes less than every asset of its job (one asset, one group, a
    launchpad selection, checks only) rather than the whole warehouse."""
    job = context.job_def
    if job.asset_selection_data is None:  # the job as defined: the whole warehouse
        return False
    root = job
    while root.asset_selection_data is not None:  # the job this run's subset was selected from
        root = root.asset_selection_data.parent_job_def
    return not set(root.asset_layer.executable_asset_keys) <= set(job.asset_layer.executable_asset_keys)


class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where the raw files are read from and the warehouse is built and published."""

    raw_dir: str = Field(description="The raw files (KZKR_RAW_DIR); nothing is ever written there.")
    warehouse_dir: str = Field(
        description="Build files, the published kzkr.duckdb, history, reports, logs (KZKR_WAREHOUSE_DIR)."
    )
    duckdb_memory_limit: str = Field(
        default=DEFAULT_MEMORY_LIMIT,
        description="memory_limit of every DuckDB connection of a build, dbt's included "
        "(KZKR_DUCKDB_MEMORY_LIMIT); larger data spills to disk.",
    )
    dbt_log_to_file: bool = Field(
        default=False,
        description="Write dbt's own log to <warehouse>/logs/dbt-<run>.log instead of the step's "
        "stdout (`kzkr build` does, so that its progress lines stay readable).",
    )

    def settings(self) -> Settings:
        return Settings(
            raw_dir=Path(self.raw_dir).absolute(),
            warehouse_dir=Path(self.warehouse_dir).absolute(),
            memory_limit=self.duckdb_memory_limit,
        )

    # Every run that uses the warehouse holds the one warehouse lock from its start to its end
    # (pipelines/publish/lock.py): with the in-process executor (the code location's) the resource
    # is set up once, when the run starts, and torn down when it ends. A run that finds the lock
    # held waits for it (KZKR_LOCK_WAIT_SECONDS), then fails naming the holder.
    _run_lock: contextlib.ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if context.run is None:  # built outside a run (tests, scripts): nothing to lock
            return
        self._run_lock = enter_run_lock(
            self.settings(),
            context.run.run_id,
            Automation.from_env().lock_wait_seconds,
            on_wait=lambda holder: context.log.info(f"waiting for the warehouse lock: {holder} holds it"),
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._run_lock is not None:
            self._run_lock.close()
            self._run_lock = None

    def build_db(self, run_id: str) -> Path:
        """The path of run ``run_id``'s build file (it may not exist yet)."""
        return self.settings().build_db(run_id)

    def connect(
        self, database: str | Path = ":memory:", *, read_only: bool = False
    ) -> duckdb.DuckDBPyConnection:
        return connect(database, memory_limit=self.duckdb_memory_limit, read_only=read_only)

    def build_file(self, context: AnyContext) -> Path:
        """This run's build file, ready to be written. A run of the whole warehouse starts from an
        empty file; a partial run (one asset, a group, checks only) starts from a copy of the
        published build, so that what it does not rebuild is there as last published."""
        settings = self.settings()
        path = settings.build_db(context.run.run_id)
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        if not run_is_partial(context):
            return path
        if not settings.published.exists():
            raise PartialRunError(
                description=f"this run materializes only part of the warehouse, and there is no published "
                f"build ({settings.published}) to build it on: materialize all assets first "
                '("Materialize all", or `make run`).'
            )
        staging = path.with_name(path.name + ".seeding")
        shutil.copy2(settings.published, staging)
        os.replace(staging, path)
        context.log.info(f"partial run: {path.name} starts from a copy of the published build")
        return path

    @contextlib.contextmanager
    def dbt_session(self, context: dg.AssetExecutionContext) -> Iterator[Path]:
        """The environment of one `dbt` invocation on this run's build file: dbt's profile reads
        the file's path from ``KZKR_BUILD_DB`` (here one stable hard link, so that dbt's partial
        parse is reused), the memory limit from ``KZKR_DUCKDB_MEMORY_LIMIT``; the variables are
        restored afterwards and old per-run dbt target directories pruned. Yields the path dbt opens."""
        build_db = self.build_file(context)
        saved = {name: os.environ.get(name) for name in (BUILD_DB_ENV, MEMORY_LIMIT_ENV)}
        try:
            with contextlib.ExitStack() as stack:
                path = stack.enter_context(dbt_database_path(build_db))
                os.environ[BUILD_DB_ENV] = str(path)
                os.environ[MEMORY_LIMIT_ENV] = self.duckdb_memory_limit
                if self.dbt_log_to_file:
                    log = self.settings().logs_dir / f"dbt-{context.run.run_id}.log"
                    log.parent.mkdir(parents=True, exist_ok=True)
                    stack.enter_context(contextlib.redirect_stdout(stack.enter_context(log.open("w"))))
                    progress(f"  dbt      build (log: {log})")
                yield path
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            prune_run_targets()


def warehouse_resource() -> WarehouseResource:
    """The resource as the code location configures it (``KZKR_*`` as EnvVar where set)."""
    return WarehouseResource(
        raw_dir=resource_value(RAW_DIR_ENV),
        warehouse_dir=resource_value(WAREHOUSE_DIR_ENV),
        duckdb_memory_limit=resource_value(MEMORY_LIMIT_ENV),
    )


def dbt_resource() -> DbtCliResource:
    """dagster-dbt's resource on dbt_project/ with the dbt of this interpreter's environment (the
    venv), whether or not it is on PATH."""
    return DbtCliResource(project_dir=str(DBT_PROJECT_DIR), dbt_executable=DBT_EXECUTABLE)


def resources() -> dict[str, Any]:
    return {"warehouse": warehouse_resource(), "dbt": dbt_resource()}
