"""``make bench``: wall time and peak memory per stage at a named scale.

Each stage runs in its own process (``aftercare generate`` / ``aftercare run --select ...``) so its
peak resident memory can be read from the kernel's accounting of that process tree (``wait4``).
Wall time includes process start-up (importing Dagster, loading the definitions: ~10 s); the time
spent inside the stage's Dagster steps is reported beside it.
Results go to ``bench/results/<scale>-<timestamp>.json`` and a Markdown table on stdout; copy the
table into ``docs/benchmarks.md`` when it changes.

    python -m tests.bench.run --scale S            # 20,000 vehicles
    python -m tests.bench.run --scale M --stages dbt,publish   # rerun stages on kept M data
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
import time
from dataclasses import asdict, dataclass
from pathlib import Path

SCALES = {"XS": 2_000, "S": 20_000, "M": 1_000_000, "L": 10_000_000}

# stage name -> Dagster asset selection
STAGES = {
    "ingest": "group:ingestion",
    "wechat": "group:wechat",
    # OneID as production runs it (tables + checks); the quality report against the generator's
    # truth exists only in tests and benches, so it is timed as a stage of its own
    "identity": 'group:identity and not key:"identity/quality_report"',
    "identity_quality": 'key:"identity/quality_report"',
    "dbt": "kind:dbt",
    "publish": "group:publish",
}


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


def run_measured(stage: str, command: list[str], env: dict[str, str], log: Path) -> StageResult:
    """Run ``command`` and report its wall time and the peak RSS of its process tree."""
    timings = log.with_name(f"{stage}.steps.json")
    timings.unlink(missing_ok=True)
    env = {**env, "AFTERCARE_STEP_TIMINGS_FILE": str(timings)}
    load_before = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    ok = os.waitstatus_to_exitcode(status) == 0
    # ru_maxrss is in KiB on Linux: the largest resident set of the child or a waited-for descendant
    detail = json.loads(timings.read_text()) if timings.exists() else None
    steps = round(sum(detail.values()), 1) if detail else None
    return StageResult(
        stage, round(seconds, 1), round(usage.ru_maxrss / 1024, 0), ok, "" if ok else f"see {log}", steps,
        load_before, round(os.getloadavg()[0], 2), detail,
    )  # fmt: skip


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


def markdown_table(scale: str, vehicles: int, results: list[StageResult]) -> str:
    lines = [
        f"scale {scale} ({vehicles:,} vehicles), {dt.date.today()}, {os.cpu_count()} cores",
        "",
        "| stage | wall time (s) | of which in Dagster steps (s) | peak memory (MB) | load avg before → "
        "after | ok |",
        "|---|---:|---:|---:|---|---|",
    ]
    lines += [
        f"| {r.stage} | {r.seconds} | {'' if r.step_seconds is None else r.step_seconds} | "
        f"{r.peak_rss_mb:.0f} | {r.load_before} → {r.load_after} | {'yes' if r.ok else 'NO: ' + r.note} |"
        for r in results
    ]
    return "\n".join(lines)


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
        "--stages", default="generate," + ",".join(STAGES) + ",splink", help="comma-separated stages"
    )
    parser.add_argument("--workdir", default=None, help="where data goes (default: data/bench/<scale>)")
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
    end = (dt.date.fromisoformat(f"{month}-01") - dt.timedelta(days=1)).strftime("%Y-%m")
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]

    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "aftercare.toml"
    config.write_text(f'env = "local"\n[paths]\ndata = "{workdir}"\n')  # a bench is a development machine
    env = dict(os.environ)
    env["AFTERCARE_CONFIG"] = str(config)
    env.setdefault("AFTERCARE_PII_KEY", "bench-only-key-0123456789abcdefghijkl")
    env["DAGSTER_HOME"] = str(workdir / "dagster_home")
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    log = workdir / "bench.log"
    aftercare = [sys.executable, "-m", "pipelines.cli"]

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
        if "wechat" in stages:
            # the simulator runs in its own process: a large simulator state in this process would
            # be counted in every child's peak memory (a forked child starts with the parent's pages)
            simulator = start_simulator_process(workdir, env, log)
        for stage in stages:
            if stage not in STAGES:
                continue
            command = [*aftercare, "run", "--month", month, "--select", STAGES[stage]]
            results.append(run_measured(stage, command, env, log))
            print(f"{stage}: {results[-1].seconds}s, {results[-1].peak_rss_mb:.0f} MB", flush=True)
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

    table = markdown_table(args.scale, vehicles, results)
    quality = (
        identity_quality(workdir / "warehouse.duckdb")
        if {"identity", "identity_quality"} & set(stages)
        else {}
    )
    identity = next((r for r in results if r.stage == "identity"), None)
    quality_stage = next((r for r in results if r.stage == "identity_quality"), None)
    if comparison:
        table += "\n\n" + engines_table(comparison, identity, quality_stage, quality)
    elif quality:
        table += "\n\nidentity quality: " + ", ".join(f"{k} {v:.4f}" for k, v in quality.items() if v <= 1)
    out_dir = Path("bench") / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    payload = {
        "scale": args.scale,
        "vehicles": vehicles,
        "month": month,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "identity_input": args.identity_input,
        "stages": [asdict(r) for r in results],
        "identity_quality": quality,
        "oneid_vs_splink": comparison,
    }
    (out_dir / f"{args.scale}-{stamp}.json").write_text(json.dumps(payload, indent=2))
    (out_dir / f"{args.scale}-{stamp}.md").write_text(table + "\n")
    print()
    print(table)
    print(f"\ndata: {workdir} (rerun single stages with --stages; remove it with `rm -rf {workdir}`)")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
