"""`kzkr`: build, report, roll back and query the warehouse.

Exit codes of ``kzkr build``: 0 published (or nothing changed); 1 blocked by a failing check or a
failed step (nothing published); 2 bad input (nothing published; the message names file, line,
column); 3 another build holds the warehouse lock for longer than ``--wait``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

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
    from pipelines.publish.warehouse import (
        BuildLockedError,
        build_lock,
        clean_stale_builds,
        fingerprint,
        published_info,
    )

    settings = Settings.from_env()
    t0 = time.monotonic()
    try:
        with build_lock(settings, wait_seconds=args.wait):
            os.environ["KZKR_LOCK_HELD"] = str(os.getpid())
            for p in clean_stale_builds(settings):
                _say(f"removed leftover of an interrupted build: {p}")
            fp = fingerprint(settings)
            current = published_info(settings.published)
            if current and current.get("fingerprint") == fp and not args.force:
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
                return _run_job(settings, t0, fp)
            except Exception as exc:  # a failure outside the run (definitions, dbt parse): say it plainly
                clean_stale_builds(settings)
                print(f"error: the build could not run: {exc}", file=sys.stderr)
                print("nothing was published; the warehouse is unchanged.", file=sys.stderr)
                return EXIT_BLOCKED
    except BuildLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    finally:
        os.environ.pop("KZKR_LOCK_HELD", None)


def _bad_input(message: str) -> int:
    print(f"error: bad input: {message}", file=sys.stderr, flush=True)
    print("nothing was published; the warehouse is unchanged.", file=sys.stderr)
    return EXIT_BAD_INPUT


def _run_job(settings: Settings, t0: float, fp: str) -> int:
    prepare_dagster_home(settings)
    os.environ["KZKR_CLI"] = "1"
    _say("  loading  Dagster definitions and dbt manifest")
    import dagster as dg

    from pipelines.definitions import JOB_NAME, defs
    from pipelines.ingest.specs import RAW_FILES
    from pipelines.publish.warehouse import FINGERPRINT_TAG, clean_stale_builds
    from pipelines.summary import print_summary

    job = defs.resolve_job_def(JOB_NAME)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            # the publish step stamps the fingerprint taken before the build (not one of files
            # that changed while it ran)
            tags={FINGERPRINT_TAG: fp},
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
        run_id = result.run_id
        evaluations = [
            e.asset_check_evaluation_data
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        ]
        # Claim verdicts are findings reported on their own line (pipelines/audit/claims/), not as checks.
        evaluations = [ev for ev in evaluations if not ev.check_name.startswith("claim_")]
        failed_checks = [
            ev for ev in evaluations if not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR
        ]
        failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        published = any(
            e.event_type_value == "ASSET_MATERIALIZATION"
            and e.asset_key == dg.AssetKey(["warehouse", "published"])
            for e in result.all_events
        )
    if published:
        print_summary(settings, run_id=run_id, seconds=time.monotonic() - t0)
        return EXIT_OK
    clean_stale_builds(settings)
    # Bad input found by an ingest step: exit 2 with its message, the first file in raw order.
    bad_input = {
        e.step_key: e.step_failure_data.user_failure_data.description
        for e in failures
        if e.step_key
        and e.step_key.startswith("raw__")
        and e.step_failure_data
        and e.step_failure_data.user_failure_data
        and e.step_failure_data.user_failure_data.description
    }
    for spec in RAW_FILES:
        if f"raw__{spec.name}" in bad_input:
            return _bad_input(str(bad_input[f"raw__{spec.name}"]))
    print("error: the build was not published; the published warehouse is unchanged.", file=sys.stderr)
    for ev in failed_checks:
        print(
            f"  blocking check failed: {ev.check_name} on {ev.asset_key.to_user_string()}"
            + (f" — {ev.description}" if ev.description else ""),
            file=sys.stderr,
        )
    report = settings.reports_dir / "latest.md"
    if failed_checks and report.exists():
        print(f"  failing rows and details: {report}", file=sys.stderr)
    for e in failures:
        err = e.step_failure_data.error if e.step_failure_data else None
        while err is not None and err.cause is not None and "StepExecutionError" in err.cls_name:
            err = err.cause
        msg = err.message.strip().splitlines()[0] if err and err.message else "unknown error"
        msg = msg.removeprefix("dagster._core.definitions.events.Failure: ")
        print(f"  step failed: {e.step_key}: {msg}", file=sys.stderr)
    return EXIT_BLOCKED


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


def cmd_sql(args: argparse.Namespace) -> int:
    from pipelines.sql import main as sql_main

    return sql_main(Settings.from_env())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kzkr", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="validate raw/, dbt build, check and publish the warehouse")
    b.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    b.add_argument("--wait", type=float, default=600.0, help="seconds to wait for another build's lock")
    b.set_defaults(func=cmd_build)
    r = sub.add_parser("report", help="print the data-quality report of the published warehouse")
    r.set_defaults(func=cmd_report)
    rb = sub.add_parser("rollback", help="publish the previous build (or --to BUILD_ID) again")
    rb.add_argument("--to", help="a build id (or part of it) from `kzkr rollback --list`")
    rb.add_argument("--list", action="store_true", help="list the archived builds")
    rb.add_argument("--wait", type=float, default=60.0)
    rb.set_defaults(func=cmd_rollback)
    s = sub.add_parser("sql", help="an interactive read-only SQL shell on the published warehouse")
    s.set_defaults(func=cmd_sql)
    args, rest = parser.parse_known_args(argv)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
