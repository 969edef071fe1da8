"""Signing in and out inside the Streamlit script (the cookie side is ``server.py``/``sessions.py``).

``current_account`` is asked at the top of every script run: from this tab's session (signed in
since the last refresh) or from the session cookie (after a refresh). Either way the session is
checked against the store on every run, so an expired, revoked or disabled session shows the login
form at the next click. Nothing but the login form runs until it returns an account.
"""

from __future__ import annotations

import json

import streamlit as st

from dashboards import settings
from dashboards.accounts import Account, sign_in
from dashboards.i18n import t
from dashboards.sessions import COOKIE_NAME, revoke, session_alive, session_for_token, start_session
from dashboards.store import connect

LOGIN_KEY = "_aftercare_login_id"  # never a widget key, so no browser message can set it
ACCOUNT_KEY = "_aftercare_account"
_TICKET_KEY = "_aftercare_ticket"
_LOGGED_OUT_KEY = "_aftercare_logged_out"


def current_account() -> Account | None:
    """The signed-in account of this browser tab, or None; remembered for this script run."""
    state = st.session_state
    con = connect(settings.state_dir())
    try:
        account = None
        login_id = state.get(LOGIN_KEY)
        if login_id:
            account = session_alive(con, login_id)
        elif not state.get(_LOGGED_OUT_KEY):
            found = session_for_token(con, st.context.cookies.get(COOKIE_NAME))
            if found:
                state[LOGIN_KEY], account = found
    finally:
        con.close()
    if account is None:
        state.pop(LOGIN_KEY, None)
        state.pop(ACCOUNT_KEY, None)
        return None
    state[ACCOUNT_KEY] = account
    return account


def _run_in_browser(script: str) -> None:
    # the only page scripts the app runs: posting a ticket or a logout to its own server.
    st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)


def hand_over_cookie() -> None:
    """Right after a sign-in, let the browser trade the one-time ticket for the session cookie."""
    ticket = st.session_state.pop(_TICKET_KEY, None)
    if ticket:
        body = json.dumps(ticket)
        _run_in_browser(
            f"fetch('/auth/session', {{method: 'POST', body: {body}, credentials: 'same-origin'}});"
        )


def login_page() -> None:
    st.title(t("app_title"))
    if st.session_state.pop(_LOGGED_OUT_KEY, None):
        _run_in_browser("fetch('/auth/logout', {method: 'POST', credentials: 'same-origin'});")
        st.success(t("logged_out"))
    with st.form("login", border=True, enter_to_submit=True):
        st.subheader(t("login_title"))
        name = st.text_input(t("username"), key="login_name")
        password = st.text_input(t("password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("sign_in"), type="primary")
    if not submitted:
        return
    con = connect(settings.state_dir())
    try:
        result = sign_in(con, name, password, settings.lockout_policy())
        if result.outcome == "ok":
            login_id, ticket = start_session(con, result.account.name, settings.session_lifetime())
    finally:
        con.close()
    if result.outcome == "ok":
        st.session_state[LOGIN_KEY] = login_id
        st.session_state[_TICKET_KEY] = ticket
        st.rerun()
    elif result.outcome == "locked":
        st.error(t("login_locked").format(until=f"{result.locked_until:%H:%M}"))
    elif result.outcome == "disabled":
        st.error(t("login_disabled"))
    else:
        st.error(t("login_failed"))


def logout() -> None:
    login_id = st.session_state.pop(LOGIN_KEY, None)
    account = st.session_state.pop(ACCOUNT_KEY, None)
    con = connect(settings.state_dir())
    try:
        if login_id:
            revoke(con, login_id)
        if account:
            from dashboards.accounts import log_auth_event

            log_auth_event(con, account.name, "logout")
    finally:
        con.close()
    # the cookie of this tab was read when it connected; do not sign in from it again
    st.session_state[_LOGGED_OUT_KEY] = True


def account_box(account: Account) -> None:
    """Who is signed in, with which scope, and the logout button (sidebar)."""
    scope = account.dealer_code or account.region or t("scope_all")
    st.caption(f"{t('signed_in_as')}: **{account.name}** · {t('role_' + account.role)} · {scope}")
    st.button(t("logout"), on_click=logout, icon=":material/logout:", key="logout")
