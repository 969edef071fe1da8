"""End to end, as a user runs it: generate a small OEM, `aftercare run` two months, rerun them, open
the dashboard, sign in as an analyst and as a dealer manager. The OEM and its two runs are the
session's (tests/generated_oem.py); the last test publishes a third month, so it runs last."""

import hashlib
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests.dbt.marts_contract import assert_marts_have_their_contract_columns
from tests.dbt.test_publish_gate import plaintext_pii_in_every_column
from tests.generated_oem import AS_OF, MONTH, NEXT_MONTH, PREVIOUS_AS_OF, PREVIOUS_MONTH
from tests.processes import free_port, start_dashboard, wait_until_up

pytestmark = pytest.mark.slow


def query(database: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def published(two_month_oem):
    return two_month_oem.workdir, two_month_oem.env


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


def test_every_published_mart_is_there_with_the_contract_columns(published):
    serving = published[0] / "data" / "serving.duckdb"
    assert_marts_have_their_contract_columns(serving)
    owned = query(serving, "select count(*), count(current_owner_oneid) from vehicles")[0]
    assert owned[0] > 0 and owned[1] / owned[0] > 0.8  # most owners resolved by OneID
    statuses = {s for (s,) in query(serving, "select distinct lapse_status from customer_360")}
    assert {"active", "at_risk", "lapsed"} <= statuses
    # the identity page's summaries add up to the map they summarise
    identifiers, oneids = query(serving, "select count(*), count(distinct oneid) from oneid_map")[0]
    summed = query(serving, "select sum(identifiers), sum(oneids) from oneid_cluster_sizes")[0]
    assert summed == (identifiers, oneids)
    assert query(serving, "select sum(identifiers) from oneid_identifier_types")[0][0] == identifiers


def test_no_column_of_the_serving_database_holds_a_plaintext_mobile_or_id_number(published):
    assert plaintext_pii_in_every_column(published[0] / "data" / "serving.duckdb") == []


def test_the_console_says_what_the_run_did_in_a_few_lines_and_the_log_holds_the_rest(two_month_oem):
    done = two_month_oem.runs[MONTH]
    console = (done.stdout + done.stderr).splitlines()
    said = [line for line in console if not line.startswith(("warnings (", "  ! ", "  - "))]
    assert len(said) <= 11, "\n".join(console)  # started, 5 stages, done, 3 places (+ a spare)
    assert not any("dagster - " in line or "of " in line and " OK created " in line for line in console)
    run_id = re.search(r"started \(run ([0-9a-f-]{36})\)", done.stdout).group(1)
    # the numbers, recomputed from what the run left behind
    landed, quarantined, files = query(
        two_month_oem.warehouse,
        "select sum(rows_typed), sum(rows_quarantined), count(*) from landing.ingestion_report "
        "where run_id = ? and action = 'ingested'",
        [run_id],
    )[0]
    (oneids,) = query(two_month_oem.warehouse, "select count(distinct oneid) from identity.oneid_map")[0]
    new, carried = query(
        two_month_oem.serving,
        "select count(*) filter (where not is_carried_over), count(*) filter (where is_carried_over) "
        "from reminders where month = ?::date",
        [f"{MONTH}-01"],
    )[0]
    assert files > 0 and landed > 0 and carried > 0  # the second month lands files and carries tasks over
    assert f"  ingestion  {files:,} new files, {landed:,} rows landed, {quarantined:,} quarantined" in console
    assert f"  identity   {oneids:,} OneIDs" in console
    done_line = next(line for line in console if line.startswith(f"aftercare run {MONTH}: done in "))
    assert done_line.endswith(
        f"{landed:,} rows landed ({quarantined:,} quarantined), {oneids:,} OneIDs, gate passed, "
        f"{new + carried:,} tasks ({new:,} new, {carried:,} carried over)"
    )
    report = two_month_oem.data / "runs" / run_id
    assert f"  dealer files: {two_month_oem.exports / MONTH}/<dealer_code>/" in console
    assert f"  run report:   {report}/" in console
    assert f"  full log:     {report / 'run.log'}" in console
    log = (report / "run.log").read_text()
    assert "Running with dbt=" in log and re.search(r" OK created sql \w+ model marts\.reminders ", log)
    assert f"dagster - INFO - monthly_run - {run_id} - landing_tables - " in log  # Dagster's lines
    assert done_line in log  # and the summary once more
    assert (report / "ingestion_report.md").exists()


def test_the_kpi_tables_are_published_for_every_month_up_to_the_cut_off(published):
    """docs/kpis.md: the run for MONTH publishes every KPI table; the reminder KPIs cover the list
    the previous run made (PREVIOUS_MONTH, still provisional), the others every month of the data."""
    workdir, _ = published
    con = duckdb.connect(str(workdir / "data" / "serving.duckdb"), read_only=True)
    try:
        for table in ("kpi_reminders_monthly", "kpi_bookings_monthly", "kpi_complaints_monthly",
                      "kpi_rescues_monthly", "kpi_communication_monthly", "kpi_customers_monthly",
                      "kpi_workshop_flow"):  # fmt: skip
            last, final = con.execute(
                f"select max(month), bool_or(is_final) from {table} where level = 'nation'"
            ).fetchone()
            assert str(last) == f"{PREVIOUS_MONTH}-01", table
            # the older months are final; the only reminder list with KPIs is October's, provisional
            assert final is (table != "kpi_reminders_monthly"), table
        assert con.execute(
            "select due > 0, not is_final from kpi_reminders_monthly "
            "where level = 'nation' and month = ?::date and reminder_type = 'all'",
            [f"{PREVIOUS_MONTH}-01"],
        ).fetchone() == (True, True)
        assert (
            con.execute(
                "select count(*) from kpi_bookings_monthly where period_grain = 'month' "
                "and level = 'nation' and booking_channel = 'all'"
            ).fetchone()[0]
            >= 12
        )
        assert (
            con.execute(
                "select count(*) from kpi_dealer_scorecard where month = ?::date", [f"{PREVIOUS_MONTH}-01"]
            ).fetchone()[0]
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
            f"select count(*) from reminders where month = date '{MONTH}-01' and is_carried_over"
        ).fetchone()[0]
        assert carried > 0  # the second month carries tasks of the first
        dealers = {
            d
            for (d,) in con.execute(
                "select distinct dealer_code from reminders where month = ?::date and closed_reason is null",
                [f"{MONTH}-01"],
            ).fetchall()
        }
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


# the warehouse's month-grain reminder tables: every month's list, statuses and cut-off, the mart
REMINDER_TABLES = (
    "intermediate.int_reminder_lists",
    "intermediate.int_reminder_statuses",
    "intermediate.int_reminder_months",
    "marts.reminders",
)


def every_row(database: Path, relations) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {
            relation: con.execute(f"select * from {relation} order by all").fetchall()
            for relation in relations
        }
    finally:
        con.close()


def published_tables(serving: Path) -> dict[str, list[tuple]]:
    """Every table of serving.duckdb, whole; of publish_log the view it shows (month, cut-off), not
    the id and time of the run that published it."""
    con = duckdb.connect(str(serving), read_only=True)
    try:
        tables = [t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()]
    finally:
        con.close()
    rows = every_row(serving, [t for t in tables if t != "publish_log"])
    con = duckdb.connect(str(serving), read_only=True)
    try:
        rows["publish_log"] = con.execute("select month, as_of_date from publish_log").fetchall()
    finally:
        con.close()
    return rows


def dealer_files(exports: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(exports)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(exports.rglob("*"))
        if p.is_file()
    }


def rows_by_task(database: Path, relation: str) -> dict[tuple, dict]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        result = con.execute(f"select * from {relation}")
        names = [d[0] for d in result.description]
        return {
            (row["month"], row["task_id"]): row
            for row in (dict(zip(names, r, strict=True)) for r in result.fetchall())
        }
    finally:
        con.close()


def assert_same_rows_but_for_identity_changes(
    before: dict, after: dict, changes: set[tuple[str, str]]
) -> int:
    """``after`` has the rows of ``before``, column for column, except the owner's OneID where OneID
    re-identified that owner since (a ``split``/``merge`` of the old OneID in identity.oneid_changes):
    the identity has no view as of a past cut-off and a rerun labels a task with its owner's current
    OneID (docs/reminders.md "Reruns and backfills"). Returns how many rows were re-labelled."""
    assert after.keys() == before.keys()
    relabelled = 0
    for key, row in before.items():
        differ = {column for column, value in row.items() if after[key][column] != value}
        if differ:
            assert differ == {"oneid"}, (key, {c: (row[c], after[key][c]) for c in differ})
            assert (row["oneid"], after[key]["oneid"]) in changes, key
            relabelled += 1
    return relabelled


def test_reruns_of_both_months_reproduce_every_row_and_file_and_never_roll_the_dashboard_back(two_month_oem):
    oem = two_month_oem
    lists, reminders = (
        rows_by_task(oem.warehouse, r) for r in ("intermediate.int_reminder_lists", "marts.reminders")
    )
    statuses = every_row(
        oem.warehouse, ["intermediate.int_reminder_statuses", "intermediate.int_reminder_months"]
    )
    published = published_tables(oem.serving)
    files = dealer_files(oem.exports)
    assert {month.strftime("%Y-%m") for (month, _) in lists} == {PREVIOUS_MONTH, MONTH}
    assert published["publish_log"] == [(MONTH, AS_OF)]
    assert {name.split("/")[0] for name in files} == {PREVIOUS_MONTH, MONTH}
    # the landing tables hold files dated after the previous month's cut-off: PREVIOUS_MONTH's
    con = duckdb.connect(str(oem.warehouse), read_only=True)
    try:
        later = con.execute(
            "select count(*) from landing.campaigns where _file_date > ?::date", [PREVIOUS_AS_OF]
        ).fetchone()
        vehicles_as_published = con.execute("select * from marts.vehicles order by all").fetchall()
    finally:
        con.close()
    assert later[0] > 0

    # a rerun of the previous month sees only what was known at its cut-off: it rebuilds its list
    # as its first run did, and keeps the later, more final statuses the run for MONTH stored
    oem.run(PREVIOUS_MONTH)
    con = duckdb.connect(str(oem.warehouse), read_only=True)
    try:
        changes = set(con.execute("select old_oneid, new_oneid from identity.oneid_changes").fetchall())
    finally:
        con.close()
    relabelled = assert_same_rows_but_for_identity_changes(
        lists, rows_by_task(oem.warehouse, "intermediate.int_reminder_lists"), changes
    )
    assert relabelled <= len(lists) // 100  # a handful of owners, not the list
    assert_same_rows_but_for_identity_changes(
        reminders, rows_by_task(oem.warehouse, "marts.reminders"), changes
    )
    assert every_row(oem.warehouse, list(statuses)) == statuses
    # it did run as of PREVIOUS_AS_OF (the warehouse's current-state marts show that view now) ...
    assert every_row(oem.warehouse, ["marts.vehicles"])["marts.vehicles"] != vehicles_as_published
    # ... yet serving.duckdb still shows MONTH (customer_360, vehicles, KPIs, publish_log): only
    # the previous month's reminder rows were replaced, by the rerun's
    republished = published_tables(oem.serving)
    assert {t: r for t, r in republished.items() if t != "reminders"} == {
        t: r for t, r in published.items() if t != "reminders"
    }
    rerun = every_row(oem.warehouse, ["marts.reminders"])["marts.reminders"]
    assert republished["reminders"] == rerun
    assert dealer_files(oem.exports) == files  # no dealer file rewritten, not even touched

    # and a rerun of the month after it changes no row of the warehouse or serving, and no file
    oem.run(MONTH)
    assert every_row(oem.warehouse, ["marts.reminders"])["marts.reminders"] == rerun
    assert every_row(oem.warehouse, list(statuses)) == statuses
    assert every_row(oem.warehouse, ["marts.vehicles"])["marts.vehicles"] == vehicles_as_published
    assert published_tables(oem.serving) == republished
    assert dealer_files(oem.exports) == files


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
        input=password + "\n",
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
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
            "select count(*) from reminders where month = ?::date and dealer_code = ? and closed_reason is "
            "null",
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
        "e2e.dealer",
        dealer,
        "due",
        due,
    )
    assert line["full_mobiles"] == len(full)

    run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--month", NEXT_MONTH],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
    con = duckdb.connect(str(serving), read_only=True)
    try:
        next_tasks = {
            row[0]
            for row in con.execute(
                "select task_id from reminders where month = ?::date", [f"{NEXT_MONTH}-01"]
            ).fetchall()
        }
        closed = con.execute(
            "select closed_reason, closed_by from reminders where month = ?::date and task_id = ?",
            [f"{MONTH}-01", first],
        ).fetchone()
    finally:
        con.close()
    assert second in next_tasks  # an open task carries over ...
    assert first not in next_tasks  # ... the closed one does not
    assert closed == ("sold", "e2e.dealer")
