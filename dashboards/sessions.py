"""Sign-in sessions that survive a page refresh.

Streamlit keeps ``st.session_state`` per browser tab connection: a refresh starts a new, empty
session. The browser must therefore carry proof of the sign-in, and Streamlit's ``st.context.cookies``
can read cookies but not set them. The dashboard runs as an ``st.App`` (``dashboards/server.py``)
whose own HTTP route sets the cookie, so it can be ``HttpOnly`` (no script on the page can read it)
and ``SameSite=Strict``:

1. the login form (a Streamlit form) checks the password and calls ``start_session``: a session row
   and a one-time **ticket** (valid ``TICKET_LIFETIME``);
2. the page posts the ticket to ``/auth/session``; the route calls ``redeem_ticket``, which burns
   the ticket and returns a random **token**, and sets it as the cookie;
3. on a refresh Streamlit hands the cookie to the script (``st.context.cookies``), which looks the
   token up with ``session_for_token``.

Only SHA-256 digests of tickets and tokens are stored, so a copy of the file opens no session. A
session ends at ``expires_at``, at logout (``revoke``), or when its account's password is changed or
the account disabled (``accounts._revoke_sessions``). Every script run re-checks the session
(``session_alive``), so a disabled account loses the dashboard at its next click.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3

from dashboards.accounts import Account, get_account
from dashboards.store import stamp
from sources.clock import now_local

COOKIE_NAME = "aftercare_session"
SESSION_LIFETIME = dt.timedelta(hours=12)
TICKET_LIFETIME = dt.timedelta(seconds=60)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start_session(
    con: sqlite3.Connection,
    name: str,
    lifetime: dt.timedelta = SESSION_LIFETIME,
    now: dt.datetime | None = None,
) -> tuple[str, str]:
    """A new session for a signed-in account: ``(login_id, ticket)``."""
    now = now or now_local()
    login_id = secrets.token_hex(16)
    ticket = secrets.token_urlsafe(32)
    with con:
        con.execute(
            "insert into sessions (login_id, name, created_at, expires_at, ticket_hash, ticket_expires_at) "
            "values (?, ?, ?, ?, ?, ?)",
            (
                login_id,
                name,
                stamp(now),
                stamp(now + lifetime),
                _digest(ticket),
                stamp(now + TICKET_LIFETIME),
            ),
        )
    return login_id, ticket


def redeem_ticket(
    con: sqlite3.Connection, ticket: str, now: dt.datetime | None = None
) -> tuple[str, int] | None:
    """Burn a ticket; returns the session's cookie token and its remaining seconds, or None."""
    now = now or now_local()
    row = con.execute(
        "select login_id, expires_at, ticket_expires_at from sessions "
        "where ticket_hash = ? and revoked_at is null",
        (_digest(ticket or ""),),
    ).fetchone()
    if row is None:
        return None
    login_id, expires_at, ticket_expires_at = row
    token = secrets.token_urlsafe(32)
    with con:
        # the ticket goes whatever happens next: it is good for one attempt only
        con.execute(
            "update sessions set ticket_hash = null, ticket_expires_at = null, token_hash = ? "
            "where login_id = ? and ticket_hash is not null",
            (_digest(token) if ticket_expires_at >= stamp(now) else None, login_id),
        )
    if ticket_expires_at < stamp(now):
        return None
    seconds = int((dt.datetime.fromisoformat(expires_at) - now).total_seconds())
    return token, seconds


def _live_account(con: sqlite3.Connection, row, now: dt.datetime) -> tuple[str, Account] | None:
    if row is None:
        return None
    login_id, name, created_at, expires_at, revoked_at = row
    if revoked_at is not None or expires_at <= stamp(now):
        return None
    account = get_account(con, name)
    if account is None or account.disabled:
        return None
    changed = con.execute("select password_changed_at from accounts where name = ?", (name,)).fetchone()[0]
    if changed and changed > created_at:
        return None
    return login_id, account


_SESSION_SELECT = "select login_id, name, created_at, expires_at, revoked_at from sessions"


def session_for_token(
    con: sqlite3.Connection, token: str | None, now: dt.datetime | None = None
) -> tuple[str, Account] | None:
    """``(login_id, account)`` of a live session whose cookie token this is, else None."""
    if not token or not isinstance(token, str):
        return None
    row = con.execute(f"{_SESSION_SELECT} where token_hash = ?", (_digest(token),)).fetchone()
    return _live_account(con, row, now or now_local())


def session_alive(con: sqlite3.Connection, login_id: str, now: dt.datetime | None = None) -> Account | None:
    """The account of a session still in force (not expired, revoked, disabled or re-passworded)."""
    row = con.execute(f"{_SESSION_SELECT} where login_id = ?", (login_id,)).fetchone()
    found = _live_account(con, row, now or now_local())
    return found[1] if found else None


def revoke(con: sqlite3.Connection, login_id: str) -> None:
    with con:
        con.execute(
            "update sessions set revoked_at = ? where login_id = ? and revoked_at is null",
            (stamp(), login_id),
        )


def revoke_token(con: sqlite3.Connection, token: str | None) -> None:
    if token:
        with con:
            con.execute(
                "update sessions set revoked_at = ? where token_hash = ? and revoked_at is null",
                (stamp(), _digest(token)),
            )
