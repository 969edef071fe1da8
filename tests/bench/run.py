"""``make bench``: a real month at a named scale, stage by stage: wall time, CPU time, peak memory.

The month as ops run it, twice: the **first load** (month M-1 on an empty warehouse: every history
file, the OA follower list in full, the WeCom backfill within its call budget) and then **the month**
M (incremental: that month's files, the followers that changed, one month of WeCom statistics).
Each month is one ``aftercare run --month`` process, as ops run it, with every stage of the monthly
job (``MONTH_STAGES``: ingest, the WeChat/WeCom pulls against the simulator, the managers'
decisions, identity, dbt with reminders and KPIs, the reminder dispatch (dry run), publish, the
dealer files). The month's wall time, CPU time and peak memory are the kernel's accounting of that
process tree (``wait4``); each stage's share comes from the run's Dagster step spans over a sampling
of the tree (``tests/bench/process_tree.py``), and what lies outside every step (importing Dagster,
``aftercare check``, loading the definitions) is the line ``start-up``. ``--process-per-stage``
runs each stage in its own process instead (``aftercare run --month ... --select ...``: the kernel's
figures per stage, each paying the start-up), as a partial ``--stages`` always does. Before the
second month the last ``--nights`` nightly WeCom pulls run (default 3, each an ``aftercare run
--pulls-through`` of its own with one run's call budget, the last up to the day before the cut-off:
``wecom_daily_pull_<day>`` lines, not in the month: the schedule does it night by night), so the
month-end run asks WeCom for one day, as in production; ``--no-daily-pulls`` leaves the whole
month to the month-end run. Between the two months 2 % of the followers change in the simulator (a
month's churn). The simulator (Tencent's stand-in) runs in its own process and is not counted.

Results go to ``bench/results/<scale>-<timestamp>.json`` (with ``first_load_seconds``,
``first_load_peak_mb``, ``month_seconds``, ``month_peak_mb``) and a Markdown table plus a one-line
summary on stdout; copy them into ``docs/benchmarks.md`` when they change.

    python -m tests.bench.run --scale S            # 20,000 vehicles: generate, first load, the month
    python -m tests.bench.run --scale S --months 1 # generate and one month only
    python -m tests.bench.run --scale M --stages dbt,publish   # rerun stages of the month on kept M data
    python -m tests.bench.run --scale S --engine spark         # the same months with dbt on local Spark

``--engine spark`` writes ``[engine] kind = "spark"`` into the bench's aftercare.toml (docs/spark.md),
with ``spark_driver_memory`` sized to the scale (``--spark-driver-memory``: a local session's
executors live in its driver JVM) and ``--no-spark-data-tests`` to leave dbt's data tests out; the
engine goes into the result JSON (``engine``), the table's heading and the summary line. The JVM is
a child of dbt (and of OneID's components subprocess) that outlives its parent: every measured
process runs under ``tests/bench/reaper.py``, so its CPU and memory are counted. ``--data DIR``
runs on a kept data folder (its own aftercare.toml untouched; config, log, Dagster home and Spark
folder in ``--workdir``), e.g. the dbt stage of a kept M month on Spark:

    python -m tests.bench.run --scale M --engine spark --data /work/scratch/m-onepass \\
        --workdir /work/scratch/m-spark --stages dbt --months 1 --month 2026-11
    python -m tests.bench.run --scale L --identity-input direct  # identity + Splink at L, see below

``--identity-input direct`` builds the identity stage's input (the landing/wechat identity columns,
HMAC-keyed like ingestion) straight from the generator's frames instead of generate → render files →
ingest → WeChat pull (``sources/sample_oem/identity_input.py``): for timing OneID at scales where the
full chain does not fit this machine. Its stages: ``identity_input,identity,identity_quality,splink``.
The ``splink`` stage runs Splink 5 (deterministic rules, DuckDB) on the same input after the identity
stage and reports both engines' times and pairwise precision/recall (``tests/bench/splink_compare.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

SCALES = {"XS": 2_000, "S": 20_000, "M": 1_000_000, "L": 10_000_000}

DISPATCH = 'key:"wechat/template_send_log"'
# stage name -> Dagster asset selection
STAGES = {
    "ingest": "group:ingestion",
    # the pulls, the callbacks and the settlement of earlier sends; the dispatch comes after dbt
    "wechat": f"group:wechat and not {DISPATCH}",
    "decisions": "group:decisions",
    # OneID as production runs it (tables + checks); the quality report against the generator's
    # truth exists only in tests and benches, so it is timed as a stage of its own
    "identity": 'group:identity and not key:"identity/quality_report"',
    "identity_quality": 'key:"identity/quality_report"',
    "dbt": "kind:dbt",
    "dispatch": DISPATCH,  # dry run: wechat.dispatch_enabled is off on a bench
    "publish": "group:publish",
    "exports": "group:exports",
}
# what `aftercare run --month` materializes, in the order it does: every asset in exactly one stage
# (tests/bench/test_month_stages.py checks it). The monthly job runs the identity health report too;
# on a bench it also scores against the generator's truth, which production has not (an overestimate)
MONTH_STAGES = [
    "ingest", "wechat", "decisions", "identity", "identity_quality", "dbt", "dispatch", "publish", "exports",
]  # fmt: skip
FOLLOWER_CHURN = 0.02  # share of followers that change between the two months
ENGINES = ("duckdb", "spark")
# a local Spark session's executors live in its driver JVM, so the driver's heap is the session's
# memory: sized to the scale (docs/benchmarks.md "DuckDB and local Spark side by side")
SPARK_DRIVER_MEMORY = {"XS": "2g", "S": "4g", "M": "10g", "L": "16g"}
REAPER = Path(__file__).with_name("reaper.py")
TIMED_OUT = 124  # the reaper's exit code when --timeout ended the run (reaper.TIMED_OUT)


@dataclass(frozen=True)
class BenchEngine:
    """The engine a bench runs its months on (``[engine]`` of its aftercare.toml, docs/spark.md)."""

    kind: str = "duckdb"
    spark_driver_memory: str = "2g"  # spark: the local session's heap (its executors live in it)
    spark_data_tests: bool = True  # spark: dbt's data tests too, as production runs them
    spark_dir: Path | None = None  # spark: default spark/ beside the warehouse
    spark_shuffle_partitions: int | None = None  # spark: default the settings' (2, a small OEM's)

    def label(self) -> str:
        if self.kind != "spark":
            return self.kind
        tests = "" if self.spark_data_tests else ", no data tests"
        shuffle = (
            f", {self.spark_shuffle_partitions} shuffle partitions" if self.spark_shuffle_partitions else ""
        )
        return f"spark (local session, driver {self.spark_driver_memory}{shuffle}{tests})"


def bench_config(data: Path, engine: BenchEngine) -> str:
    """The bench's ``aftercare.toml``: a development machine, its data folder, its engine."""
    lines = ['env = "local"  # a bench is a development machine', "[paths]", f'data = "{data}"']
    if engine.kind == "spark":
        lines += [
            "[engine]",
            'kind = "spark"',
            f'spark_driver_memory = "{engine.spark_driver_memory}"',
            f"spark_data_tests = {'true' if engine.spark_data_tests else 'false'}",
        ]
        if engine.spark_dir is not None:
            lines.append(f'spark_dir = "{engine.spark_dir}"')
        if engine.spark_shuffle_partitions is not None:
            lines.append(f"spark_shuffle_partitions = {engine.spark_shuffle_partitions}")
    return "\n".join(lines) + "\n"


def engine_record(config: Path, env: dict[str, str]) -> dict:
    """The engine settings the runs will use, as ``aftercare`` reads them (file and environment)."""
    from sources.settings import load_settings

    engine = load_settings(config, environ=env).engine
    record = {"kind": engine.kind}
    if engine.kind == "spark":
        record |= engine.model_dump(
            mode="json",
            include={"spark_method", "spark_master", "spark_driver_memory", "spark_shuffle_partitions",
                     "spark_data_tests", "spark_dir"},
        )  # fmt: skip
    return record


@dataclass
class StageResult:
    stage: str
    seconds: float
    peak_rss_mb: float
    ok: bool
    note: str = ""
    step_seconds: float | None = None  # time inside the Dagster steps, without process start-up
    load_before: float | None = None  # 1-minute load average when the stage started (2 cores: 2.0 is full)
    load_after: float | None = None
    steps: dict[str, float] | None = None  # seconds per Dagster step
    cpu_seconds: float | None = None  # user + system time of the stage's process tree
    phase: str = ""  # first_load / month ("" for stages outside a month: generate, splink, ...)
    month: str = ""
    largest_process_mb: float | None = None  # the kernel's largest resident set of one process (ru_maxrss)
    # the largest sample of the process tree, by command name: a Spark session's JVM shows as `java`
    peak_by_name: dict[str, float] | None = None


@dataclass
class Launch:
    seconds: float
    ok: bool
    timed_out: bool
    usage: object  # os.wait4's resource usage of the process tree
    load_before: float
    timings: dict | None  # what `aftercare run` wrote to AFTERCARE_STEP_TIMINGS_FILE (steps, spans)
    samples: list  # process_tree.Sample, when sampled
    peak_by_name: dict  # the largest sample's resident MB per command name (java, python, dbt), when sampled


def _launch(
    command: list[str],
    env: dict[str, str],
    log: Path,
    timings: Path,
    sampled: bool = False,
    timeout: float | None = None,
) -> Launch:
    """Run ``command`` to its end, its output appended to ``log``, its step timings asked for;
    after ``timeout`` seconds the reaper ends its whole tree (and still accounts for it)."""
    from tests.bench.process_tree import TreeSampler

    timings.unlink(missing_ok=True)
    env = {**env, "AFTERCARE_STEP_TIMINGS_FILE": str(timings)}
    # under the reaper, an orphan (pyspark's JVM outlives its parent) stays in the tree and is waited for
    command = [sys.executable, str(REAPER), *command]
    load_before = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeSampler(process.pid) if sampled else None
        if sampler:
            sampler.start()
        timer = threading.Timer(timeout, process.terminate) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        if timer:
            timer.cancel()
    samples = sampler.stop() if sampler else []
    peak_by_name = {name: round(mb) for name, mb in sampler.peak_by_name.items()} if sampler else {}
    code = os.waitstatus_to_exitcode(status)
    return Launch(
        seconds=time.perf_counter() - started,
        ok=code == 0,
        timed_out=code == TIMED_OUT,
        usage=usage,
        load_before=load_before,
        timings=json.loads(timings.read_text()) if timings.exists() else None,
        samples=samples,
        peak_by_name=peak_by_name,
    )


def run_measured(
    stage: str, command: list[str], env: dict[str, str], log: Path, timeout: float | None = None
) -> StageResult:
    """Run ``command`` and report its wall time, CPU time and the peak RSS of its process tree: the
    larger of the largest process (the kernel's) and the largest sampled sum of the tree (dbt and
    its JVM beside Dagster)."""
    launch = _launch(command, env, log, log.with_name(f"{stage}.steps.json"), sampled=True, timeout=timeout)
    seconds, ok, usage, load_before = launch.seconds, launch.ok, launch.usage, launch.load_before
    # ru_maxrss is in KiB on Linux: the largest resident set of the child or a waited-for descendant
    detail = launch.timings["steps"] if launch.timings else None
    steps = round(sum(detail.values()), 1) if detail else None
    # ru_utime/ru_stime cover the child and every descendant it waited for (dbt, DuckDB threads)
    largest = round(usage.ru_maxrss / 1024)
    sampled_peak = max((s.rss_mb for s in launch.samples), default=0.0)
    return StageResult(
        stage, round(seconds, 1), round(max(largest, sampled_peak)), ok, note=_failure_note(launch, log),
        step_seconds=steps, load_before=load_before, load_after=round(os.getloadavg()[0], 2), steps=detail,
        cpu_seconds=round(usage.ru_utime + usage.ru_stime, 1), largest_process_mb=largest,
        peak_by_name=launch.peak_by_name,
    )  # fmt: skip


def stage_of_step() -> dict[str, str]:
    """The bench stage of every step (op) of the monthly job: a multi-asset's op is one step."""
    import dagster as dg

    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    stage_of_asset = {
        key: stage
        for stage in MONTH_STAGES
        for key in dg.AssetSelection.from_string(STAGES[stage]).resolve(graph)
    }
    stages = {graph.get(key).assets_def.node_def.name: stage for key, stage in stage_of_asset.items()}
    # checks defined on their own (@asset_check) are steps of their own: their asset's stage
    for assets_def in graph.assets_defs:
        for check in assets_def.check_keys:
            stages.setdefault(assets_def.node_def.name, stage_of_asset[check.asset_key])
    return stages


def run_month_measured(
    month: str, phase: str, command: list[str], env: dict[str, str], log: Path, timeout: float | None = None
) -> list[StageResult]:
    """One ``aftercare run --month``, the whole month in one process as ops run it: the month's wall
    time, CPU time and peak memory as the kernel accounts them, and each stage's share from the
    run's step spans over a sampling of its process tree (``tests/bench/process_tree.py``). What
    falls between steps (the process start, ``aftercare check``, loading the definitions, the run's
    end) is the stage ``start-up``."""
    from tests.bench.process_tree import usage_by_stage

    launch = _launch(command, env, log, log.with_name("month.steps.json"), sampled=True, timeout=timeout)
    seconds, ok, usage, samples = launch.seconds, launch.ok, launch.usage, launch.samples
    load_before, load_after = launch.load_before, round(os.getloadavg()[0], 2)
    spans = launch.timings["spans"] if launch.timings else {}
    stages = usage_by_stage(samples, {k: tuple(v) for k, v in spans.items()}, stage_of_step())
    cpu = usage.ru_utime + usage.ru_stime
    sampled_peak = max((s.rss_mb for s in samples), default=0.0)
    results = [
        StageResult(
            stage,
            u.seconds,
            u.peak_rss_mb,
            ok,
            step_seconds=u.seconds,
            steps=u.steps,
            cpu_seconds=u.cpu_seconds,
            phase=phase,
            month=month,
        )  # fmt: skip
        for stage, u in sorted(stages.items(), key=lambda item: _stage_order(item[0]))
    ]
    in_steps = sum(u.seconds for u in stages.values())
    results.append(
        StageResult(
            "start-up",
            round(seconds - in_steps, 1),
            round(sampled_peak),
            ok,
            cpu_seconds=round(cpu - sum(u.cpu_seconds for u in stages.values()), 1),
            phase=phase,
            month=month,
        )  # fmt: skip
    )
    for result in results:
        result.load_before, result.load_after = load_before, load_after
    if not ok:
        results[-1].note = _failure_note(launch, log)
    # the month's own line: the kernel's totals (the peak is the largest process; the sampled sum of
    # the tree, dbt beside Dagster, can be larger, so the larger of the two)
    results.append(
        StageResult(
            "whole run",
            round(seconds, 1),
            round(max(usage.ru_maxrss / 1024, sampled_peak)),
            ok,
            cpu_seconds=round(cpu, 1),
            phase=f"{phase}:total",
            month=month,
            load_before=load_before,
            load_after=load_after,
            note=_failure_note(launch, log),
            largest_process_mb=round(usage.ru_maxrss / 1024),
            peak_by_name=launch.peak_by_name,
        )  # fmt: skip
    )
    return results


def _failure_note(launch: Launch, log: Path) -> str:
    if launch.ok:
        return ""
    if launch.timed_out:
        return f"timed out after {launch.seconds:.0f} s (--timeout), see {log}"
    return f"see {log}"


def _stage_order(stage: str) -> int:
    return MONTH_STAGES.index(stage) if stage in MONTH_STAGES else len(MONTH_STAGES)


def start_simulator_process(workdir: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    """``aftercare simulate`` on a free loopback port; points ``env`` at it (URL and secrets)."""
    import socket
    import urllib.request

    from pipelines.demo import simulator_environment

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    state = workdir / "wechat"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "simulate", "--data", str(workdir), "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{url}/__sim/state", timeout=2).close()
            break
        except OSError:
            time.sleep(0.5)
    env.update(simulator_environment(url, state))
    return process


def markdown_table(scale: str, vehicles: int, results: list[StageResult], engine: str = "duckdb") -> str:
    lines = [
        f"scale {scale} ({vehicles:,} vehicles) on {engine}, {dt.date.today()}, {os.cpu_count()} cores",
        "",
        "| month | stage | wall time (s) | in Dagster steps (s) | CPU (s) | peak memory (MB) "
        "| load avg before → after | ok |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    lines += [
        f"| {r.month} | {r.stage} | {r.seconds} | {'' if r.step_seconds is None else r.step_seconds} "
        f"| {'' if r.cpu_seconds is None else r.cpu_seconds} | {r.peak_rss_mb:.0f} "
        f"| {r.load_before} → {r.load_after} | {'yes' if r.ok else 'NO: ' + r.note} |"
        for r in results
        if not r.phase.endswith(":total")  # the month's own line: the bold totals below
    ]
    for phase, label in (("first_load", "first load"), ("month", "the month")):
        total = phase_totals(results, phase)
        if total:
            lines.append(
                f"| {total['month']} | **{label}** | **{total['seconds']}** | | {total['cpu_seconds']} "
                f"| **{total['peak_mb']:.0f}** | | {'yes' if total['ok'] else 'NO'} |"
            )
    return "\n".join(lines)


def phase_totals(results: list[StageResult], phase: str) -> dict | None:
    """Wall and CPU time summed over a month's stages (they run one after the other), peak = the
    largest stage's peak; None when the phase did not run."""
    stages = [r for r in results if r.phase == phase]
    if not stages:
        return None
    whole = next((r for r in results if r.phase == f"{phase}:total"), None)
    if whole is not None:  # the month in one process: the kernel's totals of that process
        seconds, cpu_seconds, peak_mb = whole.seconds, whole.cpu_seconds or 0, whole.peak_rss_mb
    else:
        seconds = round(sum(r.seconds for r in stages), 1)
        cpu_seconds = round(sum(r.cpu_seconds or 0 for r in stages), 1)
        peak_mb = max(r.peak_rss_mb for r in stages)
    return {
        "month": stages[0].month,
        "stages": [r.stage for r in stages],
        "one_process": whole is not None,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_mb": peak_mb,
        "ok": all(r.ok for r in stages),
    }


def summary_line(scale: str, vehicles: int, results: list[StageResult], engine: str = "duckdb") -> str:
    """One line to compare between runs: each month's wall / CPU / peak and its stages' walls."""
    parts = [
        f"bench {scale} ({vehicles:,} vehicles) on {engine} {dt.date.today()}, load {os.getloadavg()[0]:.1f}"
    ]
    for phase, label in (("first_load", "first load"), ("month", "month")):
        total = phase_totals(results, phase)
        if total is None:
            continue
        stages = " ".join(f"{r.stage} {r.seconds:.0f}" for r in results if r.phase == phase)
        parts.append(
            f"{label} {total['month']}: {total['seconds']:.0f} s wall, {total['cpu_seconds']:.0f} s CPU, "
            f"peak {total['peak_mb']:.0f} MB{'' if total['ok'] else ' FAILED'} ({stages})"
        )
    return " | ".join(parts)


def churn_followers(url: str, fraction: float) -> dict[str, int]:
    """A month of follower churn in the simulator: unsubscribes, returns, new followers."""
    import urllib.request

    request = urllib.request.Request(
        f"{url}/__sim/followers/change",
        data=json.dumps({"fraction": fraction, "seed": 16}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        changed = json.loads(response.read())
    return {k: len(v) for k, v in changed.items()}


NIGHT_TO_MONTH_PAUSE_S = 61  # one WeCom minute window between the last night's calls and the month's


def nights_before(month: str, nights: int) -> list[str]:
    """The days the last ``nights`` nightly WeCom pulls before ``month``'s run take, oldest first:
    each night pulls through the day before it, the last one through the day before the cut-off
    (the cut-off itself is the month-end run's)."""
    cut_off = dt.date.fromisoformat(f"{month}-01") - dt.timedelta(days=1)
    return [(cut_off - dt.timedelta(days=n)).isoformat() for n in range(max(nights, 0), 0, -1)]


def previous_month(month: str) -> str:
    return (dt.date.fromisoformat(f"{month}-01") - dt.timedelta(days=1)).strftime("%Y-%m")


def identity_quality(warehouse: Path) -> dict[str, float]:
    """The identity stage's pairwise quality against truth/ (empty without truth)."""
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return {}
    try:
        return dict(
            con.execute(
                "select metric, value from identity.quality_report where section = 'pairwise' "
                "and run_at = (select max(run_at) from identity.quality_report)"
            ).fetchall()
        )
    except duckdb.Error:
        return {}
    finally:
        con.close()


def engines_table(
    comparison: dict,
    identity: StageResult | None,
    quality_stage: StageResult | None,
    quality: dict[str, float],
) -> str:
    """OneID and Splink side by side on the same input (times, clusters, pairwise quality)."""

    def fmt(v):
        return "n/a" if v is None else f"{v:.4f}"

    def fmt5(v):
        return "n/a" if v is None else f"{v:.5f}"

    oneid, splink = comparison["oneid"], comparison["splink"]
    oneid_time = "n/a"
    if identity and identity.steps:
        # OneID itself (tables + checks); the quality report against truth/ only exists in tests and benches
        oneid_time = f"{sum(identity.steps.values()):.1f}"
        if quality_stage and quality_stage.steps:
            oneid_time += f" (+ {sum(quality_stage.steps.values()):.1f} quality report)"
    return "\n".join(
        [
            f"identity input: {comparison['records']:,} source records",
            "",
            "| engine | time (s) | clusters | pairwise precision | pairwise recall | recall of linkable "
            "pairs |",
            "|---|---:|---:|---:|---:|---:|",
            f"| {oneid['engine']} | {oneid_time} | {oneid['clusters']:,} | {fmt(oneid['precision'])} "
            f"| {fmt(oneid['recall'])} | {fmt5(quality.get('recall_linkable'))} |",
            f"| {splink['engine']} | {splink['seconds']:.1f} | {splink['clusters']:,} | "
            f"{fmt(splink['precision'])} | {fmt(splink['recall'])} | |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=list(SCALES), default="S")
    parser.add_argument("--vehicles", type=int, default=None, help="override the scale's vehicle count")
    parser.add_argument("--month", default=None, help="month to run (default: the current month)")
    parser.add_argument(
        "--stages",
        default="generate," + ",".join(MONTH_STAGES),
        help="comma-separated stages (also: splink, after the months)",
    )
    parser.add_argument(
        "--months",
        type=int,
        choices=[1, 2],
        default=2,
        help="2: the first load (month before --month) and then --month, incremental; 1: --month only",
    )
    parser.add_argument(
        "--process-per-stage",
        action="store_true",
        help=(
            "run each stage of a month in its own process (the kernel's accounting per stage, each "
            "paying the start-up) instead of the month as one `aftercare run` (the default when every "
            "stage of the month runs)"
        ),
    )
    parser.add_argument(
        "--no-daily-pulls",
        action="store_true",
        help=(
            "do not run the nightly WeCom pull before the second month (then its month-end run "
            "pulls the whole month from WeCom, minutes of its rate limit at M)"
        ),
    )
    parser.add_argument(
        "--nights",
        type=int,
        default=3,
        help=(
            "how many nightly WeCom pulls run before the second month, each its own `aftercare run "
            "--pulls-through` (the last nights before the cut-off; default 3: at M the first load "
            "leaves a WeCom backfill one night's call budget cannot finish)"
        ),
    )
    parser.add_argument("--workdir", default=None, help="where data goes (default: data/bench/<scale>)")
    parser.add_argument(
        "--data",
        default=None,
        help=(
            "a kept data folder to run on (default: the workdir, where generate writes); the bench's "
            "aftercare.toml, log, Dagster home and Spark folder then go to --workdir, and the kept "
            "folder's own aftercare.toml is left as it is. Not with generate or identity_input"
        ),
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="duckdb",
        help="where dbt builds the models: [engine] kind of the bench's aftercare.toml (docs/spark.md)",
    )
    parser.add_argument(
        "--spark-driver-memory",
        default=None,
        help=(
            "spark: the local session's driver memory, which holds its executors "
            f"(default by scale: {', '.join(f'{k} {v}' for k, v in SPARK_DRIVER_MEMORY.items())})"
        ),
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help=(
            "seconds a month's run (or a stage's process) may take: then its whole process tree is "
            "ended and the stage recorded as not ok, with what was measured until then"
        ),
    )
    parser.add_argument(
        "--spark-shuffle-partitions",
        type=int,
        default=None,
        help="spark: spark.sql.shuffle.partitions (default the engine's 2; at M a few per core)",
    )
    parser.add_argument(
        "--spark-data-tests",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="spark: run dbt's data tests too (each one more Spark job), as production does",
    )
    parser.add_argument(
        "--identity-input",
        choices=["chain", "direct"],
        default="chain",
        help=(
            "direct: build the identity stage's input from the generator's frames (no files, no ingest, "
            "no WeChat pull); stages identity_input,identity,identity_quality,splink"
        ),
    )
    args = parser.parse_args(argv)
    if args.identity_input == "direct" and args.stages == parser.get_default("stages"):
        args.stages = "identity_input,identity,identity_quality,splink"

    vehicles = args.vehicles or SCALES[args.scale]
    workdir = Path(args.workdir or Path("data") / "bench" / args.scale).resolve()
    month = args.month or dt.date.today().strftime("%Y-%m")
    # data through the end of the month before --month; the first load is the month before that,
    # which takes every file up to its own cut-off and leaves the last month's files for --month
    end = previous_month(month)
    months = [month] if args.months == 1 or args.identity_input == "direct" else [end, month]
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]

    data = Path(args.data).resolve() if args.data else workdir
    if data != workdir and {"generate", "identity_input"} & set(stages):
        parser.error("--data runs on kept data: leave generate and identity_input out of --stages")
    engine = BenchEngine(
        kind=args.engine,
        spark_driver_memory=args.spark_driver_memory or SPARK_DRIVER_MEMORY[args.scale],
        spark_data_tests=args.spark_data_tests,
        spark_shuffle_partitions=args.spark_shuffle_partitions,
        # on kept data, Spark's files (hand-over, warehouse, metastore) stay out of the kept folder
        spark_dir=workdir / "spark" if data != workdir else None,
    )

    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "aftercare.toml"
    config.write_text(bench_config(data, engine))
    env = dict(os.environ)
    env["AFTERCARE_CONFIG"] = str(config)
    env.setdefault("AFTERCARE_PII_KEY", "bench-only-key-0123456789abcdefghijkl")
    env["DAGSTER_HOME"] = str(workdir / "dagster_home")
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    log = workdir / "bench.log"
    aftercare = [sys.executable, "-m", "pipelines.cli"]
    engine_settings = engine_record(config, env)
    print(f"engine: {engine.label()} ({config})", flush=True)

    results: list[StageResult] = []
    comparison = None
    simulator = None
    try:
        if "generate" in stages:
            for sub in ("inbox", "wechat", "truth", "warehouse.duckdb", "serving.duckdb"):
                target = workdir / sub
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
            command = [
                *aftercare,
                "generate",
                "--out",
                str(workdir),
                "--vehicles",
                str(vehicles),
                "--end",
                end,
            ]
            results.append(run_measured("generate", command, env, log))
            print(f"generate: {results[-1].seconds}s", flush=True)
        if "identity_input" in stages:
            for sub in ("truth", "warehouse.duckdb", "warehouse.duckdb.wal"):
                target = workdir / sub
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
            # beyond ~1M vehicles one world does not fit in memory here: disjoint worlds of 1M each
            shards = max(1, vehicles // 1_000_000)
            command = [
                sys.executable, "-m", "sources.sample_oem.identity_input", "--out", str(workdir),
                "--vehicles", str(vehicles), "--end", end, "--key", env["AFTERCARE_PII_KEY"],
                "--shards", str(shards),
            ]  # fmt: skip
            results.append(run_measured("identity_input", command, env, log))
            print(f"identity_input: {results[-1].seconds}s, {results[-1].peak_rss_mb:.0f} MB", flush=True)
        if "wechat" in stages or "dispatch" in stages:
            # the simulator runs in its own process: a large simulator state in this process would
            # be counted in every child's peak memory (a forked child starts with the parent's pages)
            simulator = start_simulator_process(data, env, log)
        month_stages = [s for s in MONTH_STAGES if s in stages]
        extra_stages = [s for s in stages if s in STAGES and s not in MONTH_STAGES]
        for number, run_month in enumerate(months):
            phase = "first_load" if len(months) == 2 and number == 0 else "month"
            if args.identity_input == "direct":
                phase = ""  # the identity stages alone: not a month
            if number and simulator is not None:
                churn = churn_followers(env["AFTERCARE_WECHAT_BASE_URL"], FOLLOWER_CHURN)
                print(f"followers changed between the months: {churn}", flush=True)
            if number and "wechat" in month_stages and not args.no_daily_pulls:
                # the month's nights: the daily WeCom pull up to the day before the cut-off, as the
                # nightly schedule leaves it at month end (not counted in the month; its own line).
                # The last --nights nights each run on their own, with the call budget of one run:
                # in production ~30 nights finish the first load's backfill long before month end
                for through in nights_before(run_month, args.nights):
                    command = [*aftercare, "run", "--month", run_month, "--pulls-through", through]
                    result = run_measured(f"wecom_daily_pull_{through}", command, env, log)
                    result.month = run_month
                    result.note = result.note or f"the night pulling through {through}"
                    results.append(result)
                    print(
                        f"{run_month} wecom_daily_pull through {through}: {result.seconds}s wall, "
                        f"{result.cpu_seconds}s CPU",
                        flush=True,
                    )
                # in production the last night (03:00) and the month-end run (20:00) are 17 hours
                # apart; back to back, the month's first WeCom minute would hold the night's last
                # calls too (WeCom counts per corp, API and minute, across processes; the client's
                # pacer sees only its own process's) and block the month for 60 s: a minute's pause
                if nights_before(run_month, args.nights):
                    print(f"a pause of {NIGHT_TO_MONTH_PAUSE_S} s before the month (not counted)", flush=True)
                    time.sleep(NIGHT_TO_MONTH_PAUSE_S)
            if month_stages == MONTH_STAGES and not args.process_per_stage and phase:
                command = [*aftercare, "run", "--month", run_month]
                month_results = run_month_measured(run_month, phase, command, env, log, args.timeout)
                results += month_results
                for result in month_results:
                    print(
                        f"{run_month} {result.stage}: {result.seconds}s wall, {result.cpu_seconds}s CPU, "
                        f"{result.peak_rss_mb:.0f} MB{'' if result.ok else ' FAILED, ' + result.note}",
                        flush=True,
                    )
                month_stages_left = []
            else:
                month_stages_left = month_stages
            for stage in month_stages_left + (extra_stages if number == len(months) - 1 else []):
                command = [*aftercare, "run", "--month", run_month, "--select", STAGES[stage]]
                result = run_measured(stage, command, env, log, args.timeout)
                if stage in MONTH_STAGES:
                    result.phase, result.month = phase, run_month
                else:
                    result.month = run_month
                results.append(result)
                print(
                    f"{run_month} {stage}: {result.seconds}s wall, {result.cpu_seconds}s CPU, "
                    f"{result.peak_rss_mb:.0f} MB{'' if result.ok else ' FAILED, ' + result.note}",
                    flush=True,
                )
        if "splink" in stages:
            comparison_file = workdir / "splink_compare.json"
            comparison_file.unlink(missing_ok=True)
            command = [
                sys.executable, "-m", "tests.bench.splink_compare", "--config", str(config),
                "--splink-only", "--scratch", str(workdir / "splink_scratch.duckdb"),
                "--memory-limit", "5GB", "--json", str(comparison_file),
            ]  # fmt: skip
            results.append(run_measured("splink", command, env, log))
            print(f"splink: {results[-1].seconds}s, {results[-1].peak_rss_mb:.0f} MB", flush=True)
            if comparison_file.exists():
                comparison = json.loads(comparison_file.read_text())
    finally:
        if simulator is not None:
            simulator.terminate()
            simulator.wait(timeout=30)

    table = markdown_table(args.scale, vehicles, results, engine.label())
    quality = (
        identity_quality(data / "warehouse.duckdb") if {"identity", "identity_quality"} & set(stages) else {}
    )
    identity = next((r for r in results if r.stage == "identity"), None)
    quality_stage = next((r for r in results if r.stage == "identity_quality"), None)
    if comparison:
        table += "\n\n" + engines_table(comparison, identity, quality_stage, quality)
    elif quality:
        table += "\n\nidentity quality: " + ", ".join(f"{k} {v:.4f}" for k, v in quality.items() if v <= 1)
    summary = summary_line(args.scale, vehicles, results, engine.label())
    first_load, the_month = phase_totals(results, "first_load"), phase_totals(results, "month")
    out_dir = Path("bench") / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    payload = {
        "scale": args.scale,
        "vehicles": vehicles,
        "month": month,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "identity_input": args.identity_input,
        "engine": engine_settings,
        "data": str(data),
        "summary": summary,
        "first_load_seconds": first_load and first_load["seconds"],
        "first_load_cpu_seconds": first_load and first_load["cpu_seconds"],
        "first_load_peak_mb": first_load and first_load["peak_mb"],
        "month_seconds": the_month and the_month["seconds"],
        "month_cpu_seconds": the_month and the_month["cpu_seconds"],
        "month_peak_mb": the_month and the_month["peak_mb"],
        "months": {"first_load": first_load, "month": the_month},
        "stages": [asdict(r) for r in results],
        "identity_quality": quality,
        "oneid_vs_splink": comparison,
    }
    name = args.scale if engine.kind == "duckdb" else f"{args.scale}-{engine.kind}"
    (out_dir / f"{name}-{stamp}.json").write_text(json.dumps(payload, indent=2))
    (out_dir / f"{name}-{stamp}.md").write_text(table + "\n\n" + summary + "\n")
    print()
    print(table)
    print()
    print(summary)
    print(f"\nresults: {out_dir / name}-{stamp}.json")
    print(f"data: {data} (rerun single stages with --stages; remove it with `rm -rf {data}`)")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
