"""``aftercare run``: materialize the monthly job in-process, through a real Dagster instance.

Runs are recorded in the Dagster instance under ``DAGSTER_HOME`` (default ``<paths.data>/dagster_home``),
so they show up in ``dagster dev -w workspace.yaml`` next to scheduled runs.

Every run starts with the run lock and ``aftercare check`` (``pipelines.run_guard``). The console gets
a line per stage as it finishes and a short summary (``pipelines.progress``): rows landed and
quarantined, OneIDs, the gate, the month's tasks, where the dealer files, the run report and the
full log are, then the warnings (files not ingested, feeds unavailable, ...) and notices the assets
reported (``assets.run_notes``). Dagster's and dbt's own lines go to the run's log file,
``<paths.runs>/<run_id>/run.log`` beside the run's reports (``pipelines.run_log``), and with
``--verbose`` to the console too. A run with warnings still publishes and exits 0; ``--strict`` makes
it exit 1; a failed run says which stage failed and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.progress import RunSummary, failure_message, month_tasks, readable, totals_text, where_lines
from pipelines.run_log import run_log
from sources.settings import Settings, find_config_file, load_settings


@dataclass
class MonthlyRunResult:
    month: str
    success: bool
    run_id: str
    seconds: float
    step_seconds: dict[str, float] = field(default_factory=dict)
    # when each step (op) started and ended, on the wall clock (time.time()): `make bench` splits a
    # month's CPU and memory by stage with them
    step_spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    failure: str | None = None
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    summary: RunSummary = field(default_factory=RunSummary)
    report_dir: Path | None = None  # <paths.runs>/<run_id>: the ingestion, identity and gate reports
    log_file: Path | None = None  # the run's full Dagster and dbt log


def run_settings(config_file: str | None) -> tuple[Settings, Path | None]:
    """The configuration of a run, loaded once: ``--config``, else ``AFTERCARE_CONFIG``, else
    ``./aftercare.toml``, else the defaults; and the file it came from (``None``: no file)."""
    path = find_config_file(config_file, dict(os.environ), Path.cwd())
    return load_settings(path), path


def _step_spans(instance, run_id: str) -> dict[str, tuple[float, float]]:
    """(start, end) per step (op) of a finished run, from the instance's step statistics."""
    return {
        stats.step_key: (stats.start_time, stats.end_time)
        for stats in instance.get_run_step_stats(run_id)
        if stats.start_time is not None and stats.end_time is not None
    }


def run_month(
    month: str,
    config_file: str | None = None,
    instance=None,
    select: str | None = None,
    *,
    verbose: bool = False,
    progress: bool = False,
    pulls_through: str | None = None,
) -> MonthlyRunResult:
    """Materialize everything for ``month`` (YYYY-MM), or the ``select``-ed assets (Dagster selection
    syntax, e.g. ``group:ingestion`` or ``kind:dbt``). Dagster's and dbt's output goes to the run's
    log file (and to the console too when ``verbose``); with ``progress`` the console gets a line per
    stage as it finishes. Does not raise on a failed step; raises ``RunLocked`` when another run
    holds the lock and ``CheckFailed`` when the machine is not ready.

    With ``pulls_through`` (a day of M-1) it is the daily WeCom pull instead (``wecom_daily_pull``,
    pipelines/jobs.py): the rate-limited WeCom pulls up to that day, for the month-end run of M."""
    from pipelines.run_guard import end_of_run, start_of_run

    settings, settings_file = run_settings(config_file)
    run_id = str(uuid.uuid4())  # chosen here, so the log file sits in the run's report folder
    report_dir = Path(settings.paths.runs) / run_id
    log_file = report_dir / "run.log"
    guard_lines: list[str] = []  # said in the log: a refused run (lock, check) leaves no run folder
    findings = start_of_run(settings, {"month": month, "launched_by": "cli"}, log=guard_lines.append)
    try:
        with run_log(log_file, echo=verbose) as console:

            def tell(line: str) -> None:
                print(line, flush=True)  # into the log, in order with Dagster's lines
                if progress and not verbose:  # (verbose: the log's copy is on the console already)
                    print(line, file=console, flush=True)

            print("\n".join(guard_lines))
            tell(f"aftercare run {month}: started (run {run_id}); full log: {log_file}")
            result = _run_month(month, settings, settings_file, instance, select, run_id, tell, pulls_through)
            if result.success and not pulls_through:
                result.summary.tasks = month_tasks(Path(settings.paths.serving), month)
            result.warnings = [
                f"check {f.check}: {f.detail}" for f in findings if f.status == "warn"
            ] + result.warnings
            result.report_dir, result.log_file = report_dir, log_file
            for step, seconds in sorted(result.step_seconds.items(), key=lambda item: -item[1]):
                print(f"  {seconds:8.1f}s  {step}")  # the log keeps the timings
            print_summary(result, sys.stdout)
    finally:
        end_of_run(settings)
    return result


def _run_month(
    month: str,
    settings: Settings,
    settings_file: Path | None,
    instance,
    select: str | None,
    run_id: str,
    tell,
    pulls_through: str | None = None,
) -> MonthlyRunResult:
    """One run in this process, for the configuration ``settings`` (read from ``settings_file``),
    recorded in the Dagster instance ``instance`` or the one of ``pipelines.instance``. Everything
    is passed, nothing is put in ``os.environ``: a second run of the process sees its own."""
    from assets.transform.project import ensure_manifest

    ensure_manifest()
    import dagster as dg

    from assets.partitions import monthly_partitions
    from pipelines.definitions import build_definitions
    from pipelines.instance import dagster_home, ensure_instance
    from pipelines.progress import RunProgress, plan_of

    if not monthly_partitions.has_partition_key(month):
        first, last = (
            monthly_partitions.get_first_partition_key(),
            monthly_partitions.get_last_partition_key(),
        )
        raise SystemExit(f"--month {month} is not a month partition: the runs cover {first} … {last}")
    from pipelines.jobs import WECOM_DAILY_PULLS, wecom_pull_run_config

    defs = build_definitions(settings, settings_file)
    graph = defs.resolve_asset_graph()
    # step-level progress, not Dagster's engine chatter
    run_config: dict = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    if pulls_through:
        # the daily pull is not a month partition: the month and its day go in the run's config
        job = defs.resolve_job_def("wecom_daily_pull")
        partition_key = None
        run_config |= wecom_pull_run_config(month, pulls_through)
        planned = WECOM_DAILY_PULLS.resolve(graph)
    else:
        # the run is the month's partition, as the schedule and the UI launch it: the month-grain
        # assets are recorded under that partition, and RunMonth reads the month from its tag
        job = defs.resolve_job_def("monthly_run")
        partition_key = month
        planned = graph.get_all_asset_keys()
    asset_selection = None
    if select:
        asset_selection = sorted(dg.AssetSelection.from_string(select).resolve(graph), key=str)
        if not asset_selection:
            raise SystemExit(f"--select {select!r} matches no asset")
    instance = instance or dg.DagsterInstance.from_config(str(ensure_instance(dagster_home(settings))))
    progress = RunProgress(plan_of(graph, asset_selection or planned), tell)
    instance.add_event_listener(run_id, progress)
    started = time.perf_counter()
    result = job.execute_in_process(
        partition_key=partition_key,
        run_config=run_config,
        instance=instance,
        tags={"aftercare/month": month, "aftercare/launched_by": "cli"},
        raise_on_error=False,
        asset_selection=asset_selection,
        run_id=run_id,
    )
    failure = None
    if not result.success:
        messages = [
            f"{e.step_key}: {failure_message(e.event_specific_data.error).strip()}"
            for e in result.all_events
            if e.event_type_value == "STEP_FAILURE" and e.event_specific_data and e.event_specific_data.error
        ]
        failure = "\n".join(messages) or "the run failed"
    from assets.run_notes import collect_notes

    warnings, notices = collect_notes(
        e.event_specific_data.materialization for e in result.get_asset_materialization_events()
    )
    spans = _step_spans(instance, result.run_id)
    return MonthlyRunResult(
        month=month,
        success=result.success,
        run_id=result.run_id,
        seconds=round(time.perf_counter() - started, 1),
        step_seconds={step: round(end - start, 2) for step, (start, end) in spans.items()},
        step_spans=spans,
        failure=failure,
        warnings=warnings,
        notices=notices,
        summary=progress.summary,
    )


def run_command(args: argparse.Namespace) -> int:
    from pipelines.run_lock import RunLocked

    try:
        result = run_month(
            args.month,
            args.config,
            select=getattr(args, "select", None),
            verbose=getattr(args, "verbose", False),
            progress=True,
            pulls_through=getattr(args, "pulls_through", None),
        )
    except RunLocked as exc:
        print(f"aftercare run {args.month}: not started: {exc}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    timings_file = os.environ.get("AFTERCARE_STEP_TIMINGS_FILE")  # set by `make bench`
    if timings_file:
        Path(timings_file).write_text(json.dumps({"steps": result.step_seconds, "spans": result.step_spans}))
    print_summary(result, sys.stdout, sys.stderr)
    if not result.success:
        return 1
    if result.warnings and getattr(args, "strict", False):
        print(
            f"aftercare run {result.month}: {len(result.warnings)} warning(s) and --strict: exit 1",
            file=sys.stderr,
        )
        return 1
    return 0


def print_summary(result: MonthlyRunResult, out, err=None) -> None:
    """The end of a run: done or FAILED (where, what), the totals, where to look, the warnings.

    A failure goes to ``err`` (the console's stderr) when given."""
    err = err or out
    summary = result.summary
    if result.success:
        print(
            f"aftercare run {result.month}: done in {result.seconds:.0f}s: {totals_text(summary)}", file=out
        )
    else:
        failures = summary.failures or [("the run", "", result.failure or "failed")]
        stages = ", ".join(
            dict.fromkeys(f"{stage} ({step})" if step else stage for stage, step, _ in failures)
        )
        print(f"aftercare run {result.month}: FAILED in {stages} after {result.seconds:.0f}s", file=err)
        for _, step, message in failures:
            print(f"  {step or 'run'}: {readable(message)}", file=err)
    assert result.report_dir is not None and result.log_file is not None
    for line in where_lines(summary, result.report_dir, result.log_file):
        print(line, file=out)
    print_notes(result, out)


def print_notes(result: MonthlyRunResult, out=None) -> None:
    if result.warnings:
        print(f"warnings ({len(result.warnings)}):", file=out)
        for warning in result.warnings:
            print(f"  ! {warning}", file=out)
    for notice in result.notices:
        print(f"  - {notice}", file=out)
