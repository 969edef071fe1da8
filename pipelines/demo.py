"""``aftercare demo``: a sample OEM, the WeChat/WeCom simulator, a year of monthly runs, the dashboard.

The runs chain: each month's reminder list carries over the open tasks of the month before. The demo
prints a line per month (rows landed and quarantined, OneIDs, gate, tasks, dealers) and, at the end,
the last month's tasks per type (new and carried over) and where the dealer files, the run reports
and the logs are. Each run's Dagster and dbt log goes to its log file (``pipelines.run_log``), and to
the console too with ``--verbose``.

Everything goes under ``paths.data`` (``./data`` by default). A second ``aftercare demo`` reuses the
generated sample when its parameters are unchanged; the monthly runs are then no-ops for files
already ingested.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import time
import urllib.request
from pathlib import Path

from pipelines.progress import RunSummary, totals_text
from pipelines.runner import MonthlyRunResult, print_summary, run_month, run_settings


def add_months(month: str, count: int) -> str:
    year, mon = (int(part) for part in month.split("-"))
    index = year * 12 + (mon - 1) + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_to_run(end: str, count: int) -> list[str]:
    """The ``count`` months whose lists are prepared from data ending at ``end``, oldest first.

    Data through ``end`` (say 2026-10) prepares month 2026-11; a year of runs is 2025-12 … 2026-11.
    """
    last = add_months(end, 1)
    return [add_months(last, -offset) for offset in range(count - 1, -1, -1)]


def ensure_sample(data_dir: Path, vehicles: int, seed: int, end: str, history_months: int) -> None:
    marker = data_dir / "sample.json"
    wanted = {"vehicles": vehicles, "seed": seed, "end": end, "months": history_months}
    if marker.exists() and json.loads(marker.read_text()) == wanted and (data_dir / "inbox").exists():
        print(f"[demo] reusing the sample OEM in {data_dir} ({vehicles:,} vehicles, seed {seed})")
        return
    from sources.sample_oem import generate

    print(f"[demo] generating a sample OEM: {vehicles:,} vehicles, {history_months} months up to {end}")
    started = time.perf_counter()
    generate(data_dir, vehicles=vehicles, seed=seed, end=end, months=history_months)
    marker.write_text(json.dumps(wanted))
    print(f"[demo] generated in {time.perf_counter() - started:.0f}s")


def simulator_environment(url: str, state: Path) -> dict[str, str]:
    """``AFTERCARE_*`` variables that point the WeChat/WeCom client at a simulator serving ``state``.

    The simulator checks the generated account's credentials as Tencent would, so they come along.
    """
    account = json.loads((state / "oa_account.json").read_text())
    corp = json.loads((state / "wecom_corp.json").read_text())
    return {
        "AFTERCARE_WECHAT_BASE_URL": url,
        "AFTERCARE_WECOM_BASE_URL": url,
        "AFTERCARE_WECHAT_APPID": account["appid"],
        "AFTERCARE_WECHAT_SECRET": account["secret"],
        "AFTERCARE_WECOM_CORPID": corp["corpid"],
        "AFTERCARE_WECOM_SECRET": corp["secret"],
    }


@contextlib.contextmanager
def wechat_simulator(data_dir: Path, state_dir: Path | None = None):
    """Start the WeChat/WeCom simulator and the callback receiver on loopback, and point this
    process's configuration at them. Template-message results travel simulator → receiver →
    ``state/callbacks`` → the next run, as they would from Tencent."""
    from sources.wechat.callback_server import start_callback_server
    from sources.wechat_sim.server import start_simulator

    state = data_dir / "wechat"
    # receiver and simulator sign with the same token; a fresh one per demo, never a known default
    os.environ.setdefault("AFTERCARE_WECHAT_CALLBACK_TOKEN", secrets.token_urlsafe(24))
    receiver = start_callback_server((state_dir or data_dir / "state") / "callbacks")
    handle = start_simulator(state, host="127.0.0.1", port=0, callback_url=receiver.url)
    os.environ.update(simulator_environment(handle.url, state))
    print(f"[demo] WeChat/WeCom simulator at {handle.url}, callbacks to {receiver.url}")
    try:
        yield handle
    finally:
        handle.stop()
        receiver.stop()


def wait_for_health(url: str, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def month_line(month: str, result: MonthlyRunResult) -> str:
    warnings = f"; {len(result.warnings)} warning(s) in the log" if result.warnings else ""
    return (
        f"[demo] {month} (as of the end of {add_months(month, -1)}): ok in {result.seconds:.0f}s; "
        f"{totals_text(result.summary)}; files for {result.summary.dealers or 0} dealers{warnings}"
    )


def last_month_summary(month: str, summary: RunSummary, exports: Path, runs: Path) -> str:
    from assets.exports.lists import REMINDER_TYPES

    tasks, dealers = summary.tasks, summary.dealers or 0

    lines = [f"[demo] the list for {month}, per reminder type:", f"  {'type':<20}{'new':>8}{'carried':>9}"]
    for code, new, carried in tasks:  # the Chinese label last: its characters are double width
        lines.append(f"  {code:<20}{new:>8,}{carried:>9,}  {REMINDER_TYPES.get(code, ('',))[0]}")
    lines.append(f"  {'total':<20}{sum(t[1] for t in tasks):>8,}{sum(t[2] for t in tasks):>9,}")
    lines.append(
        f"[demo] dealer files: {exports / month}/<dealer_code>/reminders.xlsx and *.csv ({dealers} dealers)"
    )
    lines.append(f"[demo] run reports and full logs: {runs}/<run_id>/ (run.log)")
    return "\n".join(lines)


def demo_command(args: argparse.Namespace) -> int:
    from sources.sample_oem.generate import default_end
    from sources.settings import load_settings

    if load_settings(args.config).env is None:
        os.environ["AFTERCARE_ENV"] = "local"  # the demo is a development machine unless told otherwise
    settings, _ = run_settings(args.config)
    data_dir = Path(settings.paths.data)
    data_dir.mkdir(parents=True, exist_ok=True)
    end = default_end()
    ensure_sample(data_dir, args.vehicles, args.seed, end, history_months=24)
    exports, runs = Path(settings.paths.exports), Path(settings.paths.runs)
    print(
        f"[demo] {args.months} monthly runs; each run's Dagster and dbt log goes to {runs}/<run_id>/run.log"
    )

    months = months_to_run(end, args.months)
    with wechat_simulator(data_dir, Path(settings.paths.state)):
        for month in months:
            # a line per month here; Dagster's and dbt's chatter goes to the run's log file
            result = run_month(month, args.config, verbose=args.verbose)
            if not result.success:
                print_summary(result, sys.stdout, sys.stderr)
                return 1
            print(month_line(month, result), flush=True)
    print(last_month_summary(months[-1], result.summary, exports, runs))

    from dashboards.accounts import demo_accounts, print_demo_accounts

    print_demo_accounts(demo_accounts(Path(settings.paths.state), Path(settings.paths.serving)))

    if args.no_dashboard:
        print(f"[demo] done; serving database: {settings.paths.serving}")
        return 0

    from dashboards.launcher import serve_until_stopped, start_dashboard

    url = f"http://127.0.0.1:{args.port}"
    process = start_dashboard("127.0.0.1", args.port, args.config)
    if not wait_for_health(url):
        print(f"[demo] the dashboard did not come up at {url}", file=sys.stderr)
        process.terminate()
        return 1
    print(f"[demo] dashboard: {url}   (Ctrl-C to stop)", flush=True)
    return serve_until_stopped(process)
