"""The dashboard in a real browser (Debian's Chromium driven by Playwright), as users meet it.

One dashboard process serves the whole module (``aftercare dashboard`` on the fixture database);
each test opens its own browser context, so cookies never leak from one test to the next.
"""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from tests.dashboards.browser_session import log_in, main_text, open_page, served_dashboard
from tests.dashboards.conftest import ACCOUNTS


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("browser")
    url, env, process = served_dashboard(workdir)
    try:
        yield url, workdir
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def test_signed_out_there_is_nothing_but_the_login_form(dashboard, browser):
    from playwright.sync_api import expect

    url, _ = dashboard
    for path in ("", "overview", "customers", "admin", "workspace"):
        page = open_page(browser, url, path)
        expect(page.get_by_label("用户名")).to_be_visible()
        text = main_text(page)
        assert "网络总览" not in text and "经销商数" not in text
        expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
        expect(page.get_by_test_id("stMetric")).to_have_count(0)
        page.context.close()
    # the server routes refuse without a session too
    request = urllib.request.Request(f"{url}/auth/session", data=b"forged-ticket", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{url}/admin/runs/any/data_docs/index.html", timeout=5)
    assert refused.value.code == 403


def test_a_session_survives_a_refresh_and_ends_at_logout(dashboard, browser, tmp_path):
    from playwright.sync_api import expect

    url, _ = dashboard
    page = open_page(browser, url)
    log_in(page, "analyst")
    expect(page.get_by_role("heading", name="网络总览")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "aftercare_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    page.reload()
    expect(page.get_by_role("heading", name="网络总览")).to_be_visible()
    expect(page.get_by_text(f"当前用户: {ACCOUNTS['analyst'][0]}")).to_be_visible()
    page.screenshot(path=str(tmp_path / "overview_after_refresh.png"), full_page=True)

    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_text("已退出登录。")).to_be_visible()
    page.reload()
    expect(page.get_by_label("用户名")).to_be_visible()
    expect(page.get_by_test_id("stMetric")).to_have_count(0)


def test_wrong_passwords_lock_the_account(dashboard, browser):
    from playwright.sync_api import expect

    from dashboards.accounts import accounts_db, add_account

    url, workdir = dashboard
    name, password = "wu.locked", "Lockout-pass-2026"
    store = accounts_db(workdir / "state")
    add_account(store, name, "analyst", password=password)
    store.close()

    def attempts() -> int:
        con = accounts_db(workdir / "state")
        try:
            return con.execute("select count(*) from auth_events where name = ?", (name,)).fetchone()[0]
        finally:
            con.close()

    page = open_page(browser, url)
    for attempt in range(3):  # AFTERCARE_DASHBOARD_MAX_FAILED_LOGINS=3 for this server
        page.get_by_label("用户名").fill(name)
        page.get_by_label("密码").fill(f"wrong-password-{attempt}")
        page.get_by_role("button", name="登录").click()
        expected = "密码错误次数过多" if attempt == 2 else "用户名或密码错误"
        expect(page.get_by_test_id("stAlert").filter(has_text=expected)).to_be_visible()
        deadline = time.monotonic() + 15
        while attempts() < attempt + 1 and time.monotonic() < deadline:
            time.sleep(0.1)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("stAlert").filter(has_text="账户已锁定")).to_be_visible()
    expect(page.get_by_test_id("stMetric")).to_have_count(0)


def record_frames(page) -> list[bytes]:
    """Everything the server sends the page over Streamlit's websocket, as bytes."""
    frames: list[bytes] = []

    def on_socket(socket):
        socket.on(
            "framereceived",
            lambda payload: frames.append(payload if isinstance(payload, bytes) else payload.encode()),
        )

    page.on("websocket", on_socket)
    return frames


def walk_every_page(page, url: str, role: str) -> str:
    """Open every page of the role's menu by its URL (each a new connection, signed in by the
    session cookie); the visible text of all of them."""
    from playwright.sync_api import expect

    from dashboards.navigation import home_for, pages_for

    texts = []
    for spec in pages_for(role):
        # the home page's address is the root; the others are named after their script
        page.goto(f"{url}/" + ("" if spec.script == home_for(role) else Path(spec.script).stem))
        expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
        texts.append(main_text(page))
        expect(page.get_by_test_id("stException")).to_have_count(0)
    return "\n".join(texts)


@pytest.mark.parametrize(
    ("key", "foreign"),
    [("dealer_manager_d001", ["D002", "D003"]), ("region_manager", ["D001"]), ("admin", [])],
)
def test_every_page_in_the_browser_stays_in_scope_and_shows_no_mobile(dashboard, browser, key, foreign):
    from tests.dashboards.fixture_serving import MOBILES
    from tests.dashboards.test_roles import traces_of

    url, _ = dashboard
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    frames = record_frames(page)
    page.goto(url)
    log_in(page, key)
    text = walk_every_page(page, url, ACCOUNTS[key][1])
    # parameters in the URL change nothing: pages read no query parameters, the scope is the account's
    for path in ("workspace?dealer=D002&dealer_code=D002&region=华北", "customers?oneid=OID000000000003"):
        page.goto(f"{url}/{path}")
        text += main_text(page)
    sent = b"\n".join(frames)
    assert len(sent) > 10_000  # the pages' data did travel through the socket
    for mobile in MOBILES.values():
        assert mobile not in text and mobile.encode() not in sent, (key, mobile)
    for dealer in foreign:
        for trace in traces_of(dealer):
            assert trace not in text and trace.encode() not in sent, (key, dealer, trace)
    context.close()


def test_a_dealer_manager_downloads_its_lists_and_the_admin_finds_the_audit_line(
    dashboard, browser, tmp_path
):
    import csv
    import hashlib
    import io

    import openpyxl
    from playwright.sync_api import expect

    from tests.dashboards.fixture_serving import MOBILES

    url, _ = dashboard
    page = open_page(browser, url)
    log_in(page, "dealer_manager")
    expect(page.get_by_role("heading", name="经销商工作台")).to_be_visible()

    assert page.context.request.get(f"{url}/admin/runs/run-1/data_docs/index.html").status == 403
    page.get_by_role("tab", name="未回厂 · 2026-10").click()
    with page.expect_download() as csv_download:
        page.get_by_role("button", name="下载 CSV").locator("visible=true").first.click()
    assert csv_download.value.suggested_filename == "D002_2026-10_not_returned.csv"
    csv_bytes = Path(csv_download.value.path()).read_bytes()
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert list(rows[0])[:4] == ["任务编号", "车架号", "车型", "提醒类型"]
    assert sorted(r["手机号"] for r in rows) == [MOBILES["LVSHCAMB1CE000003"], MOBILES["LVSHCAMB1CE000004"]]
    others = [m for vin, m in MOBILES.items() if vin[-1] not in "3456"]
    assert not [m for m in others if m.encode() in csv_bytes]

    page.get_by_role("tab", name="应提醒 · 2026-11").click()
    with page.expect_download() as xlsx_download:
        page.get_by_role("button", name="下载 Excel").locator("visible=true").first.click()
    assert xlsx_download.value.suggested_filename == "D002_2026-11_due.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))["应提醒"]
    header = [c.value for c in sheet[1]]
    assert "手机号" in header and sheet.max_row == 4  # header + D002's three open tasks of 2026-11
    page.context.close()

    # the admin finds both downloads in the audit log, with the digest of the very bytes received
    admin = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN").new_page()
    admin.set_default_timeout(30_000)
    frames = record_frames(admin)
    admin.goto(url)
    log_in(admin, "admin")
    admin.goto(f"{url}/admin")
    admin.get_by_role("tab", name="审计日志").click()
    expect(admin.get_by_text("哈希链校验通过")).to_be_visible()
    sent = b"\n".join(frames)
    assert hashlib.sha256(csv_bytes).hexdigest().encode() in sent
    assert b"D002_2026-10_not_returned.csv" in sent and b"D002_2026-11_due.xlsx" in sent
    # the admin opens a run's Data Docs, served from that run's folder to admins only
    docs = f"{url}/admin/runs/run-1/data_docs/index.html"
    assert admin.context.request.get(docs).text().count("Data Docs of run-1") == 1
    admin.context.close()


def test_a_dealer_manager_closes_a_task_in_the_browser(dashboard, browser):
    from playwright.sync_api import expect

    from sources.decisions import read_decisions

    url, workdir = dashboard
    page = open_page(browser, url)
    log_in(page, "dealer_manager")
    page.get_by_role("tab", name="关闭 / 重开任务").click()
    form = page.get_by_test_id("stForm")
    form.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name="t002e").click()
    form.get_by_role("button", name="关闭任务").click()
    expect(page.get_by_text("已关闭:LVSHCAMB1CE000005")).to_be_visible()
    decision = [d for d in read_decisions(workdir / "state") if d.task_id == "t002e"]
    assert [(d.action, d.reason, d.decided_by) for d in decision] == [("close", "sold", "li.d002")]
    page.context.close()
