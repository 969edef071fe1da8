"""``aftercare run``: materialize the monthly job in-process, through a real Dagster instance.

Runs are recorded in the Dagster instance under ``DAGSTER_HOME`` (default ``<paths.data>/dagster_home``),
so they show up in ``dagster dev -w workspace.yaml`` next to scheduled runs.

Every run starts with the run lock and ``aftercare check`` (``pipelines.run_guard``) and ends with a
summary: the steps, then the warnings (files not ingested, feeds unavailable, ...) and notices the
assets reported (``assets.run_notes``). A run with warnings still publishes and exits 0;
``--strict`` makes it exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sources.settings import Settings, load_settings


@dataclass
class MonthlyRunResult:
    month: str
    success: bool
    run_id: str
    seconds: float
    step_seconds: dict[str, float] = field(default_factory=dict)
    failure: str | None = None
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def prepare_environment(config_file: str | None) -> Settings:
    """Point every part of the process at one configuration before Dagster is imported."""
    if config_file:
        os.environ["AFTERCARE_CONFIG"] = str(Path(config_file).resolve())
    from pipelines.instance import dagster_home, ensure_instance

    settings = load_settings(config_file)
    os.environ["DAGSTER_HOME"] = str(ensure_instance(dagster_home(settings)))
    os.environ["AFTERCARE_PATHS_WAREHOUSE"] = str(settings.paths.warehouse)
    return settings


def _step_seconds(instance, run_id: str) -> dict[str, float]:
    """Wall seconds per step (op) of a finished run, from the instance's step statistics."""
    return {
        stats.step_key: round(stats.end_time - stats.start_time, 2)
        for stats in instance.get_run_step_stats(run_id)
        if stats.start_time is not None and stats.end_time is not None
    }


def run_month(
    month: str, config_file: str | None = None, instance=None, select: str | None = None
) -> MonthlyRunResult:
    """Materialize everything for ``month`` (YYYY-MM), or the ``select``-ed assets (Dagster selection
    syntax, e.g. ``group:ingestion`` or ``kind:dbt``). Does not raise on a failed step; raises
    ``RunLocked`` when another run holds the lock and ``CheckFailed`` when the machine is not ready."""
    from pipelines.run_guard import end_of_run, start_of_run

    settings = prepare_environment(config_file)
    findings = start_of_run(
        settings, {"month": month, "launched_by": "cli"}, log=lambda line: print(line, file=sys.stderr)
    )
    try:
        result = _run_month(month, instance, select)
    finally:
        end_of_run(settings)
    result.warnings = [
        f"check {f.check}: {f.detail}" for f in findings if f.status == "warn"
    ] + result.warnings
    return result


def _run_month(month: str, instance, select: str | None) -> MonthlyRunResult:
    from assets.transform.project import ensure_manifest

    ensure_manifest()
    import dagster as dg

    from assets.partitions import monthly_partitions
    from pipelines.definitions import defs

    if not monthly_partitions.has_partition_key(month):
        first, last = (
            monthly_partitions.get_first_partition_key(),
            monthly_partitions.get_last_partition_key(),
        )
        raise SystemExit(f"--month {month} is not a month partition: the runs cover {first} … {last}")
    job = defs.resolve_job_def("monthly_run")
    asset_selection = None
    if select:
        graph = defs.resolve_asset_graph()
        asset_selection = sorted(dg.AssetSelection.from_string(select).resolve(graph), key=str)
        if not asset_selection:
            raise SystemExit(f"--select {select!r} matches no asset")
    instance = instance or dg.DagsterInstance.get()
    started = time.perf_counter()
    # the run is the month's partition, as the schedule and the UI launch it: the month-grain assets
    # are recorded under that partition, and RunMonth reads the month from its tag
    result = job.execute_in_process(
        partition_key=month,
        run_config={
            # step-level progress, not Dagster's engine chatter
            "loggers": {"console": {"config": {"log_level": "INFO"}}},
        },
        instance=instance,
        tags={"aftercare/month": month, "aftercare/launched_by": "cli"},
        raise_on_error=False,
        asset_selection=asset_selection,
    )
    failure = None
    if not result.success:
        messages = [
            f"{e.step_key}: {e.event_specific_data.error.message.strip()}"
            for e in result.all_events
            if e.event_type_value == "STEP_FAILURE" and e.event_specific_data and e.event_specific_data.error
        ]
        failure = "\n".join(messages) or "the run failed"
    from assets.run_notes import collect_notes

    warnings, notices = collect_notes(
        e.event_specific_data.materialization for e in result.get_asset_materialization_events()
    )
    return MonthlyRunResult(
        month=month,
        success=result.success,
        run_id=result.run_id,
        seconds=round(time.perf_counter() - started, 1),
        step_seconds=_step_seconds(instance, result.run_id),
        failure=failure,
        warnings=warnings,
        notices=notices,
    )


def run_command(args: argparse.Namespace) -> int:
    from pipelines.run_lock import RunLocked

    try:
        result = run_month(args.month, args.config, select=getattr(args, "select", None))
    except RunLocked as exc:
        print(f"aftercare run {args.month}: not started: {exc}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    timings_file = os.environ.get("AFTERCARE_STEP_TIMINGS_FILE")  # set by `make bench`
    if timings_file:
        Path(timings_file).write_text(json.dumps(result.step_seconds))
    if not result.success:
        print(
            f"aftercare run {result.month}: FAILED (run {result.run_id})\n{result.failure}", file=sys.stderr
        )
        print_notes(result)
        return 1
    print(f"aftercare run {result.month}: done in {result.seconds}s (run {result.run_id})")
    for step, seconds in sorted(result.step_seconds.items(), key=lambda item: -item[1]):
        print(f"  {seconds:8.1f}s  {step}")
    print_notes(result)
    if result.warnings and getattr(args, "strict", False):
        print(
            f"aftercare run {result.month}: {len(result.warnings)} warning(s) and --strict: exit 1",
            file=sys.stderr,
        )
        return 1
    return 0


def print_notes(result: MonthlyRunResult) -> None:
    if result.warnings:
        print(f"warnings ({len(result.warnings)}):")
        for warning in result.warnings:
            print(f"  ! {warning}")
    for notice in result.notices:
        print(f"  - {notice}")
