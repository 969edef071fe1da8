"""The dashboard in a real browser (Debian's Chromium driven by Playwright), as users meet it.

One dashboard process serves the whole module (``aftercare dashboard`` on the fixture database);
each test opens its own browser context, so cookies never leak from one test to the next.
"""

from __future__ import annotations

import urllib.request

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
    page = open_page(browser, url)
    for attempt in range(3):  # AFTERCARE_DASHBOARD_MAX_FAILED_LOGINS=3 for this server
        page.get_by_label("用户名").fill(name)
        page.get_by_label("密码").fill(f"wrong-password-{attempt}")
        page.get_by_role("button", name="登录").click()
        expected = "密码错误次数过多" if attempt == 2 else "用户名或密码错误"
        expect(page.get_by_test_id("stAlert").filter(has_text=expected)).to_be_visible()
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("stAlert").filter(has_text="账户已锁定")).to_be_visible()
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
