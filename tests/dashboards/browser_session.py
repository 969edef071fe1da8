"""Helpers for the dashboard's real-browser tests: the served app and signing in from a page."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from tests.dashboards.conftest import ACCOUNTS
from tests.dashboards.fixture_serving import PII_KEY, build_serving
from tests.processes import free_port, start_dashboard, wait_until_up

ROOT = Path(__file__).resolve().parents[2]


def served_dashboard(workdir: Path):
    """Start ``aftercare dashboard`` on the fixture database with one account per role.

    Returns ``(url, env, process)``; the caller terminates the process.
    """
    from dashboards.accounts import accounts_db, add_account

    (workdir / "state").mkdir(parents=True, exist_ok=True)
    docs = workdir / "runs" / "run-1" / "data_docs"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "index.html").write_text("<html><body><h1>Data Docs of run-1</h1></body></html>")
    (workdir / "runs" / "run-1" / "quality_gate.json").write_text('{"passed": true, "checks": []}')
    con = duckdb.connect(str(workdir / "serving.duckdb"))
    try:
        build_serving(con)
    finally:
        con.close()
    store = accounts_db(workdir / "state")
    try:
        for name, role, dealer, region, password in ACCOUNTS.values():
            add_account(store, name, role, dealer, region, password)
    finally:
        store.close()
    env = dict(os.environ)
    env.pop("AFTERCARE_CONFIG", None)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "AFTERCARE_PATHS_DATA": str(workdir / "data"),
            "AFTERCARE_PATHS_SERVING": str(workdir / "serving.duckdb"),
            "AFTERCARE_PATHS_STATE": str(workdir / "state"),
            "AFTERCARE_PATHS_RUNS": str(workdir / "runs"),
            "AFTERCARE_PII_KEY": PII_KEY.decode(),
            "AFTERCARE_DASHBOARD_MAX_FAILED_LOGINS": "3",
        }
    )
    port = free_port()
    process = start_dashboard(port, env, workdir)
    url = f"http://127.0.0.1:{port}"
    if wait_until_up(f"{url}/_stcore/health") != "ok":
        process.kill()
        raise RuntimeError("the dashboard did not come up")
    return url, env, process


def open_page(browser, url: str, path: str = ""):
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{url}/{path}")
    return page


def log_in(page, key: str) -> None:
    """Sign in through the login form and wait until the session cookie is set."""
    from playwright.sync_api import expect

    name, *_, password = ACCOUNTS[key]
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text(f"当前用户: {name}")).to_be_visible()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if any(c["name"] == "aftercare_session" for c in page.context.cookies()):
            return
        time.sleep(0.2)
    raise AssertionError("the session cookie was never set")


def main_text(page) -> str:
    """The visible text of the page (main area and sidebar), once Streamlit has finished running."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=30_000)
    return page.locator("body").inner_text()
