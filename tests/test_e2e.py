"""End to end, as a user runs it: generate a small OEM, `aftercare run` two months, rerun them, open
the dashboard. The OEM and its two runs are the session's (tests/generated_oem.py)."""

import hashlib
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests.generated_oem import MONTH, PREVIOUS_MONTH
from tests.processes import free_port, start_dashboard, wait_until_up

pytestmark = pytest.mark.slow


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
        assert con.execute("select month, as_of_date from publish_log").fetchone() == (MONTH, "2026-10-31")
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
    assert published["publish_log"] == [(MONTH, "2026-10-31")]
    assert {name.split("/")[0] for name in files} == {PREVIOUS_MONTH, MONTH}
    # the landing tables hold files dated after the previous month's cut-off (2026-09-30): October's
    con = duckdb.connect(str(oem.warehouse), read_only=True)
    try:
        later = con.execute(
            "select count(*) from landing.campaigns where _file_date > date '2026-09-30'"
        ).fetchone()
        vehicles_as_published = con.execute("select * from marts.vehicles order by all").fetchall()
    finally:
        con.close()
    assert later[0] > 0

    # a rerun of the previous month sees only what was known at its cut-off: it rebuilds its list
    # as its first run did, and keeps the later, more final statuses run 2026-11 stored
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
    # it did run as of 2026-09-30 (the warehouse's current-state marts show that view now) ...
    assert every_row(oem.warehouse, ["marts.vehicles"])["marts.vehicles"] != vehicles_as_published
    # ... yet serving.duckdb still shows 2026-11 (customer_360, vehicles, KPIs, publish_log): only
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
