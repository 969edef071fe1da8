"""End to end, as a user runs it: generate a small OEM, `aftercare run` a month, open the dashboard."""

import hashlib
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests.processes import free_port, start_dashboard, wait_until_up

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PREVIOUS_MONTH = "2026-10"
MONTH = "2026-11"


def aftercare(*args: str, env: dict[str, str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e")
    (workdir / "aftercare.toml").write_text('[paths]\ndata = "data"\n')
    env = dict(os.environ)
    env.update(
        {
            "AFTERCARE_CONFIG": str(workdir / "aftercare.toml"),
            "AFTERCARE_PII_KEY": "e2e-test-key-0123456789abcdefghijklmnop",
            "DAGSTER_HOME": str(workdir / "dagster_home"),
            "PYTHONPATH": str(ROOT),
        }
    )
    (workdir / "dagster_home").mkdir()
    generated = aftercare(
        "generate", "--out", str(workdir / "data"), "--vehicles", "3000", "--end", "2026-10", "--months", "13",
        env=env, cwd=workdir,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr[-3000:]

    # the WeChat/WeCom simulator on loopback, started the way a user starts it
    state = workdir / "data" / "wechat"
    port = free_port()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "simulate", "--data", str(workdir / "data"), "--port", str(port)],
        env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until_up(f"{url}/__sim/state") is not None, "the simulator did not start"
        env.update(
            {
                "AFTERCARE_WECHAT_BASE_URL": url,
                "AFTERCARE_WECOM_BASE_URL": url,
                "AFTERCARE_WECHAT_SECRET": json.loads((state / "oa_account.json").read_text())["secret"],
                "AFTERCARE_WECOM_SECRET": json.loads((state / "wecom_corp.json").read_text())["secret"],
            }
        )
        # two consecutive months, as the schedule runs them: the second publish is gated against the first
        for month in (PREVIOUS_MONTH, MONTH):
            run = aftercare("run", "--month", month, env=env, cwd=workdir)
            assert run.returncode == 0, (month, run.stdout[-3000:], run.stderr[-3000:])
        yield workdir, env
    finally:
        simulator.terminate()
        simulator.wait(timeout=20)


def test_the_run_publishes_a_serving_database_with_real_numbers(published):
    workdir, _ = published
    con = duckdb.connect(str(workdir / "data" / "serving.duckdb"), read_only=True)
    try:
        tables = {row[0] for row in con.execute("show tables").fetchall()}
        assert {"dealers", "publish_log"} <= tables
        dealers, repair_orders = con.execute(
            "select count(*), sum(repair_orders_12m) from dealers"
        ).fetchone()
        assert dealers > 0
        assert repair_orders > 0
        assert con.execute("select month, as_of_date from publish_log").fetchone() == (MONTH, "2026-10-31")
    finally:
        con.close()


def test_the_kpi_tables_are_published_for_every_month_up_to_the_cut_off(published):
    """docs/kpis.md: the run for 2026-11 publishes every KPI table; the reminder KPIs cover the list
    the previous run made (2026-10, still provisional), the others every month of the data."""
    workdir, _ = published
    con = duckdb.connect(str(workdir / "data" / "serving.duckdb"), read_only=True)
    try:
        for table in ("kpi_reminders_monthly", "kpi_bookings_monthly", "kpi_complaints_monthly",
                      "kpi_rescues_monthly", "kpi_communication_monthly", "kpi_customers_monthly",
                      "kpi_workshop_flow"):  # fmt: skip
            last, final = con.execute(
                f"select max(month), bool_or(is_final) from {table} where level = 'nation'"
            ).fetchone()
            assert str(last) == "2026-10-01", table
            # the older months are final; the only reminder list with KPIs is October's, provisional
            assert final is (table != "kpi_reminders_monthly"), table
        assert con.execute(
            "select due > 0, not is_final from kpi_reminders_monthly "
            "where level = 'nation' and month = '2026-10-01' and reminder_type = 'all'"
        ).fetchone() == (True, True)
        assert con.execute("select count(*) from kpi_bookings_monthly where period_grain = 'month' "
                           "and level = 'nation' and booking_channel = 'all'").fetchone()[0] >= 12  # fmt: skip
        assert (
            con.execute("select count(*) from kpi_dealer_scorecard where month = '2026-10-01'").fetchone()[0]
            > 0
        )
        assert con.execute("select count(*) from kpi_campaigns where level = 'nation'").fetchone()[0] > 0
    finally:
        con.close()


def test_the_months_reminders_and_every_dealers_files_are_published(published):
    workdir, _ = published
    data = workdir / "data"
    con = duckdb.connect(str(data / "serving.duckdb"), read_only=True)
    try:
        months = con.execute("select distinct strftime(month, '%Y-%m') from reminders order by 1").fetchall()
        assert months == [(PREVIOUS_MONTH,), (MONTH,)]
        carried = con.execute(
            "select count(*) from reminders where month = date '2026-11-01' and is_carried_over"
        ).fetchone()[0]
        assert carried > 0  # the second month carries tasks of the first
        dealers = {d for (d,) in con.execute(
            "select distinct dealer_code from reminders where month = date '2026-11-01' and closed_reason is null"
        ).fetchall()}  # fmt: skip
    finally:
        con.close()
    folders = {p.name for p in (data / "exports" / MONTH).iterdir()}
    assert dealers <= folders
    for dealer in folders:
        names = sorted(p.name for p in (data / "exports" / MONTH / dealer).iterdir())
        assert names == [
            "due.csv",
            "not_reminded.csv",
            "not_returned.csv",
            "not_tracked.csv",
            "reminders.xlsx",
        ]


def test_a_second_run_of_the_same_month_changes_no_number_no_reminder_and_no_file(published):
    workdir, env = published
    serving = workdir / "data" / "serving.duckdb"
    exports = workdir / "data" / "exports"

    def snapshot():
        con = duckdb.connect(str(serving), read_only=True)
        try:
            dealers = con.execute("select * from dealers order by dealer_code").fetchall()
            reminders = con.execute("select * from reminders order by month, task_id").fetchall()
        finally:
            con.close()
        files = {
            str(p.relative_to(exports)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(exports.rglob("*"))
            if p.is_file()
        }
        return dealers, reminders, files

    before = snapshot()
    assert before[1] and before[2]
    rerun = aftercare("run", "--month", MONTH, env=env, cwd=workdir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    after = snapshot()
    assert after[0] == before[0]
    assert after[1] == before[1]  # not a row of reminders
    assert after[2] == before[2]  # not a byte of the dealer files, not even a modification time


@pytest.fixture(scope="module")
def dashboard(published):
    """The dashboard as `aftercare dashboard` starts it, on the published database."""
    workdir, env = published
    port = free_port()
    process = start_dashboard(port, env, workdir)
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until_up(f"{url}/_stcore/health") == "ok"
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_dashboard_answers_its_health_check(dashboard):
    with urllib.request.urlopen(f"{dashboard}/", timeout=5) as response:
        assert response.status == 200


def serving_value(workdir: Path, sql: str):
    con = duckdb.connect(str(workdir / "data" / "serving.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_an_analyst_reads_the_published_numbers_in_a_real_browser(published, dashboard, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from tests.browser import CHROMIUM_ARGS, chromium_path

    workdir, _ = published
    dealers = serving_value(workdir, "select count(*) from dealers")
    repair_orders = serving_value(workdir, "select sum(repair_orders_12m) from dealers")
    oneids = serving_value(workdir, "select count(distinct oneid) from oneid_map")

    def metric(page, label: str):
        return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
            page.set_default_timeout(60_000)
            page.goto(dashboard)
            # Chinese first: the overview shows the published totals
            expect(page.get_by_role("heading", name="网络总览")).to_be_visible()
            expect(metric(page, "经销商数")).to_have_text(f"{dealers:,}")
            expect(metric(page, "近12个月工单数")).to_have_text(f"{int(repair_orders):,}")
            page.screenshot(path=str(tmp_path / "overview_zh.png"), full_page=True)

            # English is selectable from the sidebar and survives a page change
            page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Language").click()
            page.get_by_role("option", name="English").click()
            expect(page.get_by_role("heading", name="Network overview")).to_be_visible()
            expect(metric(page, "Dealers")).to_have_text(f"{dealers:,}")

            page.get_by_test_id("stSidebarNav").get_by_text("Identity resolution").click()
            expect(page.get_by_role("heading", name="Identity resolution")).to_be_visible()
            expect(metric(page, "OneIDs")).to_have_text(f"{oneids:,}")

            page.get_by_test_id("stSidebarNav").get_by_text("Data quality").click()
            expect(page.get_by_role("heading", name="Data quality")).to_be_visible()
            page.screenshot(path=str(tmp_path / "data_quality_en.png"), full_page=True)
            # no page raised: Streamlit shows exceptions in an stException block
            expect(page.get_by_test_id("stException")).to_have_count(0)
        finally:
            browser.close()
