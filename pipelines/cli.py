"""`kzkr`: build, report, roll back and query the warehouse.

Exit codes of ``kzkr build``: 0 published (or nothing changed); 1 blocked by a failing check or a
failed step (nothing published); 2 bad input (nothing published; the message names file, line,
column); 3 another build holds the warehouse lock for longer than ``--wait``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.settings import Settings

EXIT_OK, EXIT_BLOCKED, EXIT_BAD_INPUT, EXIT_LOCKED = 0, 1, 2, 3

DAGSTER_YAML = """\
# Written by kzkr (pipelines/cli.py). The warehouse job carries the tag kzkr/warehouse:
# at most one such run at a time; others wait in the queue.
concurrency:
  runs:
    max_concurrent_runs: 4
    tag_concurrency_limits:
      - key: "kzkr/warehouse"
        limit: 1
telemetry:
  enabled: false
"""


def prepare_dagster_home(settings: Settings) -> Path:
    """Use DAGSTER_HOME if set, else ``<warehouse>/.dagster``, with our dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or settings.dagster_home)
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _say(msg: str) -> None:
    print(msg, flush=True)


def cmd_build(args: argparse.Namespace) -> int:
    from pipelines.ingest.validate import RawInputError, precheck_all
    from pipelines.publish.lock import BuildLockedError, build_lock, clean_stale_builds
    from pipelines.publish.warehouse import fingerprint, published_info

    settings = Settings.from_env()
    t0 = time.monotonic()
    try:
        # The run's warehouse resource takes the same lock again (re-entrant in this process).
        with build_lock(settings, wait_seconds=args.wait, holder="kzkr build", on_wait=_say_waiting):
            for p in clean_stale_builds(settings):
                _say(f"removed leftover of an interrupted build: {p}")
            fp = fingerprint(settings)
            current = published_info(settings.published)
            if current and current.get("fingerprint") == fp and not (args.force or args.full_refresh):
                _say(
                    f"nothing changed since build {current['build_id']} (raw files and code identical): "
                    f"{settings.published} is up to date. Use --force to rebuild."
                )
                return EXIT_OK
            _say(f"kzkr build: raw {settings.raw_dir} -> {settings.published}")
            # Up front, only what each file's first line tells (present, header, sidecar): cheap at
            # any size. Cells, keys and encoding are validated once, by the ingest steps.
            try:
                checked = precheck_all(settings.raw_dir)
            except RawInputError as exc:
                return _bad_input(str(exc))
            _say(f"  precheck {len(checked)} raw files (present, header, sidecar): ok")
            try:
                return _run_job(settings, t0, fp, full_refresh=args.full_refresh)
            except Exception as exc:  # a failure outside the run (definitions, dbt parse): say it plainly
                clean_stale_builds(settings)
                print(f"error: the build could not run: {exc}", file=sys.stderr)
                print("nothing was published; the warehouse is unchanged.", file=sys.stderr)
                return EXIT_BLOCKED
    except BuildLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED


def _say_waiting(holder: str) -> None:
    _say(f"waiting for the warehouse lock: another build is running ({holder})")


def _bad_input(message: str) -> int:
    print(f"error: bad input: {message}", file=sys.stderr, flush=True)
    print("nothing was published; the warehouse is unchanged.", file=sys.stderr)
    return EXIT_BAD_INPUT


@dataclass(frozen=True)
class RunOutcome:
    """What a run of the warehouse job did, read through Dagster's API (events and their metadata)."""

    published: bool
    evaluations: list[Any]  # AssetCheckEvaluation of the quality gate and the dbt tests
    bad_input: str | None  # the first ingest failure (in raw/ order) that names file, line and column
    step_errors: list[tuple[str, str]]  # (step, message) of every failed step

    @property
    def failed_checks(self) -> list[Any]:
        import dagster as dg

        return [e for e in self.evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]

    @classmethod
    def of(cls, result: Any) -> RunOutcome:
        from pipelines.audit.claims.asset import CLAIMS_KEY
        from pipelines.defs.publish import PUBLISHED_KEY
        from pipelines.ingest.specs import RAW_FILES

        # Claim verdicts are findings reported on their own line (the claims summary), not as checks.
        failures = result.get_step_failure_events()
        order = {f"raw.{spec.name}": i for i, spec in enumerate(RAW_FILES)}
        bad = sorted(
            (order.get(str(data.metadata["table"].value), len(order)), data.description or "")
            for data in (_user_failure(e) for e in failures)
            if data is not None and {"file", "line", "column", "table"} <= set(data.metadata)
        )
        return cls(
            published=any(e.asset_key == PUBLISHED_KEY for e in result.get_asset_materialization_events()),
            evaluations=[e for e in result.get_asset_check_evaluations() if e.asset_key != CLAIMS_KEY],
            bad_input=bad[0][1] if bad else None,
            step_errors=[(e.step_key or "?", _failure_message(e)) for e in failures],
        )


def _user_failure(event: Any) -> Any:
    """The ``dagster.Failure`` a step raised (its description and metadata), if it raised one."""
    data = event.step_failure_data
    return data.user_failure_data if data is not None else None


def _failure_message(event: Any) -> str:
    """The first line of what failed a step: a ``Failure``'s description, else the user code's error."""
    from dagster._core.execution.plan.objects import ErrorSource

    user = _user_failure(event)
    if user is not None and user.description:
        return str(user.description).strip().splitlines()[0]
    data = event.step_failure_data
    err = data.error if data is not None else None
    if err is not None and data.error_source == ErrorSource.USER_CODE_ERROR and err.cause is not None:
        err = err.cause  # Dagster wraps the user's exception; its cause is what the code raised
    return err.message.strip().splitlines()[0] if err is not None and err.message else "unknown error"


def _warehouse_config(settings: Settings) -> dict[str, object]:
    """The warehouse resource's config for this build (run config replaces the whole config)."""
    return {
        "raw_dir": str(settings.raw_dir),
        "warehouse_dir": str(settings.warehouse_dir),
        "duckdb_memory_limit": settings.memory_limit,
        "dbt_log_to_file": True,  # dbt's own log to a file: the progress lines stay readable
    }


def _run_job(settings: Settings, t0: float, fp: str, *, full_refresh: bool = False) -> int:
    prepare_dagster_home(settings)
    _say("  loading  Dagster definitions and dbt manifest")
    import dagster as dg

    from pipelines.definitions import JOB_NAME, load_defs
    from pipelines.ingest.reuse import FULL_REFRESH_TAG
    from pipelines.publish.lock import clean_stale_builds
    from pipelines.publish.speed import (
        cache_dagster_sqlite_engines,
        import_great_expectations_in_background,
        tune_dagster_sqlite,
    )
    from pipelines.publish.status import TRIGGER_TAG
    from pipelines.publish.warehouse import FINGERPRINT_TAG
    from pipelines.summary import print_summary

    job = load_defs().resolve_job_def(JOB_NAME)
    tune_dagster_sqlite()  # the run's events: no fsync per event (pipelines/publish/speed.py)
    cache_dagster_sqlite_engines()  # and no new engine (nor statement compilation) per event
    import_great_expectations_in_background()  # ready by the checks step
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            # the publish step stamps the fingerprint taken before the build (not one of files
            # that changed while it ran)
            tags={
                FINGERPRINT_TAG: fp,
                TRIGGER_TAG: "cli",
                **({FULL_REFRESH_TAG: "true"} if full_refresh else {}),
            },
            run_config={
                "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
                "resources": {"warehouse": {"config": _warehouse_config(settings)}},
            },
        )
        outcome = RunOutcome.of(result)
        if not outcome.published:
            _alert_failed_run(settings, instance, result.run_id)
    if outcome.published:
        print_summary(settings, run_id=result.run_id, seconds=time.monotonic() - t0)
        return EXIT_OK
    clean_stale_builds(settings)
    if outcome.bad_input:
        return _bad_input(outcome.bad_input)
    print("error: the build was not published; the published warehouse is unchanged.", file=sys.stderr)
    report = settings.reports_dir / "latest.md"
    for ev in outcome.failed_checks:
        print(
            f"  blocking check failed: {ev.check_name} on {ev.asset_key.to_user_string()}"
            + (f" — {_clip(ev.description, report)}" if ev.description else ""),
            file=sys.stderr,
        )
    if outcome.failed_checks and report.exists():
        print(f"  failing rows and details: {report}", file=sys.stderr)
    for step, message in outcome.step_errors:
        print(f"  step failed: {step}: {message}", file=sys.stderr)
    return EXIT_BLOCKED


CHECK_TEXT_LIMIT = 1000  # characters of a failed check's text on the terminal (the report has it all)


def _clip(text: str, report: Path) -> str:
    """A failed check's text, cut after :data:`CHECK_TEXT_LIMIT` characters (one failing cell with its
    source references fits; a dozen do not) with a pointer to the report that lists every row."""
    if len(text) <= CHECK_TEXT_LIMIT:
        return text
    cut = text.rfind(" ", 0, CHECK_TEXT_LIMIT)
    head = text[: cut if cut > 0 else CHECK_TEXT_LIMIT]
    return f"{head} … ({len(text):,} characters; all of it in {report})"


def _alert_failed_run(settings: Settings, instance: object, run_id: str) -> None:
    """One alert line per failed blocking check and one for the run (the run-failure sensor of
    `make ui` records the same events once more only if they are missing)."""
    from pipelines.publish.alerts import alerts_file, raise_alert
    from pipelines.publish.status import failed_run_alerts
    from pipelines.settings import Automation

    webhook = Automation.from_env().alert_webhook
    for alert in failed_run_alerts(instance, run_id, settings.warehouse_dir):
        outcome = raise_alert(settings.warehouse_dir, alert, webhook)
        if outcome.webhook_error:
            print(f"warning: alert not delivered: {outcome.webhook_error}", file=sys.stderr)
    print(f"  alert recorded in {alerts_file(settings.warehouse_dir)}", file=sys.stderr)


def cmd_rollback(args: argparse.Namespace) -> int:
    from pipelines.publish.warehouse import BuildLockedError, build_lock, history, rollback

    settings = Settings.from_env()
    if args.list:
        for p in history(settings):
            print(p.name)
        return EXIT_OK
    try:
        with build_lock(settings, wait_seconds=args.wait):
            restored, replaced = rollback(settings, args.to)
    except BuildLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BLOCKED
    print(f"rolled back: {settings.published} is build {restored} again (was {replaced})")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from pipelines.summary import print_report

    return print_report(Settings.from_env())


def cmd_status(args: argparse.Namespace) -> int:
    """The published build and its age, the last run of each kind, open alerts, freshness.
    Exit 0 when the build is fresh and no alert is open, 1 when something needs attention."""
    from pipelines.publish.status import collect_status, format_status
    from pipelines.settings import Automation

    settings = Settings.from_env()
    home = Path(os.environ.get("DAGSTER_HOME") or settings.dagster_home)
    status = collect_status(
        settings.warehouse_dir, settings.published, home, Automation.from_env().freshness_hours
    )
    print(format_status(status))
    return EXIT_OK if status.healthy else EXIT_BLOCKED


def cmd_sql(args: argparse.Namespace) -> int:
    from pipelines.sql import main as sql_main

    return sql_main(Settings.from_env())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kzkr", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="validate raw/, dbt build, check and publish the warehouse")
    b.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    b.add_argument(
        "--full-refresh",
        action="store_true",
        help="read every raw file again (by default a release file unchanged since the published build "
        "is copied from it); implies --force",
    )
    b.add_argument("--wait", type=float, default=600.0, help="seconds to wait for another build's lock")
    b.set_defaults(func=cmd_build)
    r = sub.add_parser("report", help="print the data-quality report of the published warehouse")
    r.set_defaults(func=cmd_report)
    rb = sub.add_parser("rollback", help="publish the previous build (or --to BUILD_ID) again")
    rb.add_argument("--to", help="a build id (or part of it) from `kzkr rollback --list`")
    rb.add_argument("--list", action="store_true", help="list the archived builds")
    rb.add_argument("--wait", type=float, default=60.0)
    rb.set_defaults(func=cmd_rollback)
    st = sub.add_parser(
        "status", help="the published build and its age, the last runs, open alerts, freshness"
    )
    st.set_defaults(func=cmd_status)
    s = sub.add_parser("sql", help="an interactive read-only SQL shell on the published warehouse")
    s.set_defaults(func=cmd_sql)
    args, rest = parser.parse_known_args(argv)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return int(args.func(args))


def entry() -> None:
    """The ``kzkr`` command: :func:`main`, then a prompt exit.

    After a build, the interpreter's own shutdown takes seconds (tearing down Dagster's, dbt's and
    Great Expectations' modules, closing the idle SQLite connections of
    :mod:`pipelines.publish.speed`, which checkpoints their WAL) while everything the build wrote is
    committed and closed. So the exit handlers run (``atexit``: logging's shutdown, multiprocessing's
    clean-up of its semaphores; they take milliseconds), the output is flushed, and the process ends
    with its exit code (``os._exit``), skipping the teardown. SQLite checkpoints the WAL on its next
    use; nothing is lost."""
    code = main()
    atexit._run_exitfuncs()  # CPython's own exit handlers, as at a normal exit
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
