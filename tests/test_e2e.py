"""End to end, as a user runs it: generate a small OEM, `aftercare run` a month, open the dashboard.

The months are the current ones (data up to the last complete month), so a decision a dealer
manager takes today in the dashboard falls before the next run's cut-off, as it would in use.
"""

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import duckdb
import pytest

from pipelines.demo import add_months, last_complete_month
from tests.processes import free_port, start_dashboard, wait_until_up

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PREVIOUS_MONTH = last_complete_month(dt.date.today())  # the last month of data, and the first run
MONTH = add_months(PREVIOUS_MONTH, 1)  # the month the second run prepares (as of the end of PREVIOUS_MONTH)
NEXT_MONTH = add_months(MONTH, 1)
AS_OF = (dt.date.fromisoformat(f"{MONTH}-01") - dt.timedelta(days=1)).isoformat()


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
        "generate", "--out", str(workdir / "data"), "--vehicles", "3000", "--end", PREVIOUS_MONTH, "--months", "13",
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
        assert con.execute("select month, as_of_date from publish_log").fetchone() == (MONTH, AS_OF)
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
            "select count(*) from reminders where month = ?::date and is_carried_over", [f"{MONTH}-01"]
        ).fetchone()[0]
        assert carried > 0  # the second month carries tasks of the first
        dealers = {d for (d,) in con.execute(
            "select distinct dealer_code from reminders where month = ?::date and closed_reason is null",
            [f"{MONTH}-01"],
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


def add_user(name: str, password: str, *scope: str, env: dict[str, str], cwd: Path) -> None:
    """`aftercare users add`, as an admin creates an account (the password given on stdin)."""
    added = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "users", "add", name, *scope, "--password-stdin"],
        input=password + "\n", env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


def sign_in(page, url: str, name: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text(f"当前用户: {name}")).to_be_visible()


def test_an_analyst_reads_the_published_numbers_in_a_real_browser(published, dashboard, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from tests.browser import CHROMIUM_ARGS, chromium_path

    workdir, env = published
    add_user("e2e.analyst", "Analyst-e2e-2026", "--role", "analyst", env=env, cwd=workdir)
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
            # nothing but the login form before signing in
            expect(page.get_by_label("用户名")).to_be_visible()
            expect(page.get_by_test_id("stMetric")).to_have_count(0)
            sign_in(page, dashboard, "e2e.analyst", "Analyst-e2e-2026")
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


def test_a_dealer_manager_downloads_its_list_closes_a_task_and_the_next_run_leaves_it_out(
    published, dashboard, tmp_path
):
    """The dealer workspace on real data: the download carries the dealer's own customers' real
    mobiles (those the generator made), the audit log has its line, a task closed in the browser is
    not carried into the next month while an open one is. Runs last: it publishes NEXT_MONTH."""
    import csv
    import io

    import polars as pl
    from playwright.sync_api import expect, sync_playwright

    from sources.decisions import read_decisions
    from tests.browser import CHROMIUM_ARGS, chromium_path

    workdir, env = published
    serving = workdir / "data" / "serving.duckdb"
    con = duckdb.connect(str(serving), read_only=True)
    try:
        # a dealer with two tasks of MONTH that will carry into NEXT_MONTH unless closed (nothing
        # happens after the data ends: no call, no visit)
        dealer, first, second = con.execute(
            """
            select dealer_code, min(task_id), max(task_id) from reminders
            where month = ?::date and closed_reason is null and carry_months < 2
              and valid_until >= ?::date
            group by dealer_code having count(*) >= 2 order by count(*) desc, dealer_code limit 1
            """,
            [f"{MONTH}-01", f"{NEXT_MONTH}-28"],
        ).fetchone()
        due = con.execute(
            "select count(*) from reminders where month = ?::date and dealer_code = ? and closed_reason is null",
            [f"{MONTH}-01", dealer],
        ).fetchone()[0]
    finally:
        con.close()
    add_user(
        "e2e.dealer", "Dealer-e2e-2026", "--role", "dealer_manager", "--dealer", dealer, env=env, cwd=workdir
    )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN").new_page()
            page.set_default_timeout(60_000)
            sign_in(page, dashboard, "e2e.dealer", "Dealer-e2e-2026")
            expect(page.get_by_role("heading", name="经销商工作台")).to_be_visible()
            with page.expect_download() as download:
                page.get_by_role("button", name="下载 CSV").locator("visible=true").first.click()
            listed = list(
                csv.DictReader(io.StringIO(Path(download.value.path()).read_bytes().decode("utf-8-sig")))
            )
            assert len(listed) == due and {first, second} <= {row["任务编号"] for row in listed}
            truth = pl.read_parquet(workdir / "data" / "truth" / "identifiers.parquet")
            real_mobiles = set(truth.filter(pl.col("identifier_type") == "mobile")["value"])
            full = [row["手机号"] for row in listed if "*" not in row["手机号"] and row["手机号"]]
            # decrypted: the generator's real numbers, or the placeholders dirty exports carry
            placeholders = {m for m in full if len(set(m)) == 1 or m in ("13800138000", "13888888888")}
            assert full and all(len(m) == 11 and m.isdigit() for m in full)
            assert set(full) - placeholders <= real_mobiles and len(placeholders) < len(full)

            page.get_by_role("tab", name="关闭 / 重开任务").click()
            form = page.get_by_test_id("stForm")
            form.get_by_test_id("stSelectbox").first.click()
            page.keyboard.type(first)  # the list is long: type to filter it, as a user would
            page.get_by_role("option", name=first).click()
            form.get_by_role("button", name="关闭任务").click()
            expect(page.get_by_text("已关闭:")).to_be_visible()
        finally:
            browser.close()
    assert [(d.task_id, d.action, d.reason) for d in read_decisions(workdir / "data" / "state")] == [
        (first, "close", "sold")
    ]
    from dashboards.audit import read_downloads
    from dashboards.store import connect

    store = connect(workdir / "data" / "state")
    try:
        line = read_downloads(store)[0]
    finally:
        store.close()
    assert (line["downloaded_by"], line["dealer_code"], line["list_name"], line["rows"]) == (
        "e2e.dealer", dealer, "due", due,
    )  # fmt: skip
    assert line["full_mobiles"] == len(full)

    run = aftercare("run", "--month", NEXT_MONTH, env=env, cwd=workdir)
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
    con = duckdb.connect(str(serving), read_only=True)
    try:
        next_tasks = {row[0] for row in con.execute(
            "select task_id from reminders where month = ?::date", [f"{NEXT_MONTH}-01"]).fetchall()}  # fmt: skip
        closed = con.execute(
            "select closed_reason, closed_by from reminders where month = ?::date and task_id = ?",
            [f"{MONTH}-01", first],
        ).fetchone()
    finally:
        con.close()
    assert second in next_tasks  # an open task carries over ...
    assert first not in next_tasks  # ... the closed one does not
    assert closed == ("sold", "e2e.dealer")
