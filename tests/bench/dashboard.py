"""Dashboard bench: how long each page takes to answer in a real browser, per role.

    python -m tests.bench.dashboard --serving data/bench/M/serving.duckdb

Starts ``aftercare dashboard`` on a *copy* of a published ``serving.duckdb`` (the source is never
touched), creates one account per role in a temporary state dir, signs in with headless Chromium
(the same Debian Chromium and flags as the browser tests) and opens every page of the role's menu
``--repeat`` times by its URL. The first opening of a page is the cold one (the query cache of the
dashboard process is empty for that page and scope); the next ones are warm.

A sample is the time from ``page.goto`` until the page is done: the page's own title is rendered in
the main area, Streamlit reports the script as no longer running (``stApp``'s
``data-test-script-state``) and its running indicator (``stStatusWidget``) is gone. Each goto is a
new page load and a new websocket session, signed in by the session cookie, as a user's refresh is.

Prints a markdown table and writes JSON (``--json``) with every sample, per page and role figures
and the p95 over all samples. The target (issue 12): p95 at most 2 s on the M-scale database.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_SECONDS = 2.0
BENCH_PII_KEY = "bench-only-key-0123456789abcdefghijkl"  # the key tests/bench/run.py publishes with


@dataclass(frozen=True)
class Sample:
    role: str
    page: str  # script stem, e.g. kpi_reminders
    attempt: int  # 0 = first load (cold), then warm
    seconds: float
    load_1m: float | None = None  # the machine's load average when the sample ended


# --- pure parts ------------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    """The 95th percentile by nearest rank: the smallest value with at least 95 % of values at or
    below it (no interpolation, so it is always a measured sample)."""
    if not values:
        raise ValueError("p95 of no values")
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def summarise(samples: list[Sample]) -> dict:
    """Per role and page: the first load, the median and max of the warm loads; p95 overall."""
    rows = []
    keys = list(dict.fromkeys((s.role, s.page) for s in samples))
    for role, page in keys:
        mine = [s for s in samples if s.role == role and s.page == page]
        first = [s.seconds for s in mine if s.attempt == 0]
        warm = [s.seconds for s in mine if s.attempt > 0]
        rows.append(
            {
                "role": role,
                "page": page,
                "first_s": round(first[0], 3) if first else None,
                "warm_median_s": round(statistics.median(warm), 3) if warm else None,
                "max_s": round(max(s.seconds for s in mine), 3),
                "samples": len(mine),
            }
        )
    every = [s.seconds for s in samples]
    worst = max(samples, key=lambda s: s.seconds)
    return {
        "samples": len(samples),
        "p95_s": round(p95(every), 3),
        "p95_first_s": round(p95([s.seconds for s in samples if s.attempt == 0]), 3),
        "p95_warm_s": round(p95(w), 3) if (w := [s.seconds for s in samples if s.attempt > 0]) else None,
        "worst": {
            "role": worst.role,
            "page": worst.page,
            "attempt": worst.attempt,
            "s": round(worst.seconds, 3),
        },
        "target_s": TARGET_SECONDS,
        "passed": p95(every) <= TARGET_SECONDS,
        "rows": rows,
    }


def markdown_table(summary: dict) -> str:
    """The per page and role table, slowest first, plus the p95 line."""

    def cell(value) -> str:
        return "–" if value is None else f"{value:.2f}"

    lines = [
        "| role | page | first load (s) | warm median (s) | max (s) | samples |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in sorted(summary["rows"], key=lambda r: r["max_s"], reverse=True):
        lines.append(
            f"| {row['role']} | {row['page']} | {cell(row['first_s'])} | {cell(row['warm_median_s'])} "
            f"| {cell(row['max_s'])} | {row['samples']} |"
        )
    lines.append("")
    lines.append(
        f"p95 over {summary['samples']} samples: **{summary['p95_s']:.2f} s** "
        f"(first loads {summary['p95_first_s']:.2f} s, warm {cell(summary['p95_warm_s'])} s; "
        f"target {summary['target_s']:.0f} s: {'met' if summary['passed'] else 'NOT met'})"
    )
    return "\n".join(lines)


# --- the accounts and the served dashboard --------------------------------------------------------


def bench_accounts(serving: Path) -> dict[str, tuple[str, str, str | None, str | None, str]]:
    """One account per role; the managers get the busiest region and the dealer with the most
    reminders, the largest scopes a manager can have (the worst case for their pages)."""
    import duckdb

    con = duckdb.connect(str(serving), read_only=True)
    try:
        (region,) = con.execute(
            "select region from dealers group by region order by count(*) desc, region limit 1"
        ).fetchone()
        (dealer,) = con.execute(
            "select dealer_code from reminders group by dealer_code"
            " order by count(*) desc, dealer_code limit 1"
        ).fetchone()
    finally:
        con.close()
    return {
        "admin": ("bench.admin", "admin", None, None, "Bench-admin-2026"),
        "analyst": ("bench.analyst", "analyst", None, None, "Bench-analyst-2026"),
        "region_manager": ("bench.region", "region_manager", None, region, "Bench-region-2026"),
        "dealer_manager": ("bench.dealer", "dealer_manager", dealer, None, "Bench-dealer-2026"),
    }


def serve(workdir: Path, serving: Path, accounts: dict) -> tuple[str, object]:
    from dashboards.accounts import accounts_db, add_account
    from tests.processes import free_port, start_dashboard, wait_until_up

    state = workdir / "state"
    state.mkdir(parents=True, exist_ok=True)
    store = accounts_db(state)
    try:
        for name, role, dealer, region, password in accounts.values():
            add_account(store, name, role, dealer, region, password, replace=True)
    finally:
        store.close()
    env = dict(os.environ)
    env.pop("AFTERCARE_CONFIG", None)
    env.setdefault("AFTERCARE_PII_KEY", BENCH_PII_KEY)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "AFTERCARE_PATHS_DATA": str(workdir / "data"),
            "AFTERCARE_PATHS_SERVING": str(serving),
            "AFTERCARE_PATHS_STATE": str(state),
            "AFTERCARE_PATHS_RUNS": str(workdir / "runs"),
        }
    )
    port = free_port()
    process = start_dashboard(port, env, workdir)
    url = f"http://127.0.0.1:{port}"
    if wait_until_up(f"{url}/_stcore/health", seconds=120) != "ok":
        process.kill()
        raise RuntimeError("the dashboard did not come up")
    return url, process


# done: the page's title in the main area, the script no longer running, no running indicator
PAGE_DONE = """(title) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (!document.querySelector('[data-testid="stSidebarNav"]')) return false;
  const heads = document.querySelectorAll('[data-testid="stMain"] h1');
  return Array.from(heads).some((h) => h.innerText.trim().startsWith(title));
}"""


def page_title(title_key: str) -> str:
    from dashboards.i18n import _TEXT  # the zh title the page renders (the browser is zh-CN)

    return _TEXT[title_key]["zh"]


def sign_in(browser, url: str, account) -> object:
    from playwright.sync_api import expect

    name, *_, password = account
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text(f"当前用户: {name}")).to_be_visible()
    deadline = time.monotonic() + 30
    while not any(c["name"] == "aftercare_session" for c in context.cookies()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: the session cookie was never set")
        time.sleep(0.2)
    return page


def measure(url: str, accounts: dict, repeat: int, log=print) -> list[Sample]:
    from playwright.sync_api import sync_playwright

    from dashboards.navigation import home_for, pages_for
    from tests.browser import CHROMIUM_ARGS, chromium_path

    samples: list[Sample] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for role, account in accounts.items():
                page = sign_in(browser, url, account)
                for attempt in range(repeat):
                    for spec in pages_for(role):
                        stem = Path(spec.script).stem
                        path = "" if spec.script == home_for(role) else stem
                        start = time.monotonic()
                        page.goto(f"{url}/{path}")
                        page.wait_for_function(PAGE_DONE, arg=page_title(spec.title_key), polling=50)
                        seconds = time.monotonic() - start
                        if page.get_by_test_id("stException").count():
                            raise RuntimeError(f"{role} {stem}: the page shows an exception")
                        samples.append(Sample(role, stem, attempt, seconds, round(os.getloadavg()[0], 2)))
                        log(f"{role:15} {stem:20} #{attempt} {seconds:6.2f} s")
                page.context.close()
        finally:
            browser.close()
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--serving", required=True, help="a published serving.duckdb (copied, never changed)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="openings of every page per role (first = cold)"
    )
    parser.add_argument(
        "--workdir", default=None, help="where the copy and the accounts go (default: a temp dir)"
    )
    parser.add_argument(
        "--json", default=None, help="write the samples and the summary here (and the table beside it, .md)"
    )
    args = parser.parse_args(argv)

    source = Path(args.serving).resolve()
    if not source.is_file():
        parser.error(f"{source}: no such serving database")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="aftercare-dashboard-bench-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    serving = workdir / "serving.duckdb"
    if serving != source:
        shutil.copyfile(source, serving)
    accounts = bench_accounts(serving)
    url, process = serve(workdir, serving, accounts)
    load_before = os.getloadavg()[0]
    try:
        samples = measure(url, accounts, args.repeat, log=lambda line: print(line, file=sys.stderr))
    finally:
        process.terminate()
        process.wait(timeout=30)
    summary = summarise(samples)
    summary.update(
        {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "serving": str(source),
            "serving_bytes": source.stat().st_size,
            "repeat": args.repeat,
            "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "cpus": os.cpu_count(),
            "accounts": {role: {"dealer": a[2], "region": a[3]} for role, a in accounts.items()},
        }
    )
    table = markdown_table(summary)
    if args.json:
        # the JSON and, beside it, the same table as markdown
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).with_suffix(".md").write_text(table + "\n")
        Path(args.json).write_text(
            json.dumps(
                {"summary": summary, "samples": [s.__dict__ for s in samples]}, ensure_ascii=False, indent=2
            )
        )
    print(table)
    print(f"\nload average (1 min) before/after: {summary['load_average_1m']} on {summary['cpus']} CPUs")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
