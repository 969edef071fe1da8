"""A small published database shaped like the real one, accounts per role, and signing in.

Three dealers: D001 (华北), D002 and D003 (华东). The two dealer managers of the tests are D001's
and D002's, so "a manager of D1 finds no trace of D2" is checked with D002's code, name, VINs and
mobiles.
"""

from __future__ import annotations

import functools
from pathlib import Path

import duckdb
import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from tests.dashboards.fixture_serving import PII_KEY, build_serving

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")

# CPython 3.11's AST constructor counts its recursion depth per interpreter, not per thread
# (python/cpython#106905): turning source into Python AST objects in one thread while another thread
# does can fail with "SystemError: AST constructor recursion depth mismatch (before=42, after=104)".
# Streamlit's "magic" does that for each page in its script thread; it failed a sign-in twice under
# load (2026-12-01, 2026-12-02, the second through a button's run, which the retry below does not
# wrap). The app runs without magic, as the launcher starts it (dashboards/launcher.py), so its
# pages compile from source and build no AST objects. A run whose every exception is still exactly
# that is run once more; any other exception stands.
st_config.set_option("runner.magicEnabled", False)
CPYTHON_AST_RACE = "AST constructor recursion depth mismatch"


def once_more_on_the_ast_race(run):
    @functools.wraps(run)
    def run_app(self, *args, **kwargs):
        at = run(self, *args, **kwargs)
        if at.exception and all(CPYTHON_AST_RACE in (e.message or "") for e in at.exception):
            at = run(self, *args, **kwargs)
        return at

    return run_app


AppTest.run = once_more_on_the_ast_race(AppTest.run)

# name, role, dealer, region, password
ACCOUNTS = {
    "admin": ("zhao.admin", "admin", None, None, "Admin-pass-2026"),
    "analyst": ("qian.analyst", "analyst", None, None, "Analyst-pass-2026"),
    "region_manager": ("sun.east", "region_manager", None, "华东", "Region-pass-2026"),
    "dealer_manager": ("li.d002", "dealer_manager", "D002", None, "Dealer2-pass-2026"),
    "dealer_manager_d001": ("zhou.d001", "dealer_manager", "D001", None, "Dealer1-pass-2026"),
}


def clear_dashboard_caches() -> None:
    import streamlit as st

    from dashboards import data, settings

    settings.settings.cache_clear()
    st.cache_data.clear()
    data.forget_connections()


@pytest.fixture()
def dashboard_env(tmp_path, monkeypatch):
    """Paths and keys of a dashboard process, all under ``tmp_path``."""
    monkeypatch.setenv("AFTERCARE_PATHS_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("AFTERCARE_PATHS_SERVING", str(tmp_path / "serving.duckdb"))
    monkeypatch.setenv("AFTERCARE_PATHS_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("AFTERCARE_PATHS_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("AFTERCARE_PII_KEY", PII_KEY.decode())
    monkeypatch.delenv("AFTERCARE_CONFIG", raising=False)
    clear_dashboard_caches()
    yield tmp_path
    clear_dashboard_caches()


@pytest.fixture()
def serving_db(dashboard_env):
    path = dashboard_env / "serving.duckdb"
    con = duckdb.connect(str(path))
    try:
        build_serving(con)
    finally:
        con.close()
    return path


@pytest.fixture()
def accounts(dashboard_env):
    from dashboards.accounts import accounts_db, add_account

    con = accounts_db(dashboard_env / "state")
    try:
        for name, role, dealer, region, password in ACCOUNTS.values():
            add_account(con, name, role, dealer, region, password)
    finally:
        con.close()
    return ACCOUNTS


def sign_in(key: str = "analyst", language: str | None = None) -> AppTest:
    """The app after signing in through its login form as one of ``ACCOUNTS``."""
    name, _, _, _, password = ACCOUNTS[key]
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception, at.exception
    if language:
        at.sidebar.selectbox(key="lang").select(language).run()
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at
