"""The dashboard's own state: one SQLite file, ``paths.state/dashboard.sqlite``.

It holds the accounts, the sign-in sessions, the sign-in events and the append-only download audit
log. It never lives in the pipeline's databases: the dashboard only reads ``serving.duckdb``. SQLite
because several short-lived writers share it (every Streamlit session, the login route, the
``aftercare users`` command); WAL lets a reader and a writer overlap.

Timestamps are Beijing wall-clock time, naive, written as ISO text (like the decisions store and
every timestamp of the exports), so ``text`` comparison orders them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sources.clock import now_local
from sources.state_store import open_state_store

STORE_NAME = "dashboard.sqlite"

_SCHEMA = """
create table if not exists accounts (
    name text primary key,
    role text not null,
    dealer_code text,
    region text,
    salt text not null,
    password_hash text not null
);
create table if not exists sessions (
    login_id text primary key,
    name text not null,
    created_at text not null,
    expires_at text not null,
    ticket_hash text unique,
    ticket_expires_at text,
    token_hash text unique,
    revoked_at text
);
create table if not exists auth_events (
    event_id integer primary key autoincrement,
    at text not null,
    name text not null,
    event text not null,
    detail text
);
create table if not exists download_audit (
    entry_id integer primary key autoincrement,
    downloaded_at text not null,
    downloaded_by text not null,
    role text not null,
    dealer_code text not null,
    month text not null,
    list_name text not null,
    file_format text not null,
    file_name text not null,
    rows integer not null,
    full_mobiles integer not null,
    file_sha256 text not null,
    previous_entry_sha256 text not null,
    entry_sha256 text not null
);
-- append-only: SQLite refuses to change or remove a line once written
create trigger if not exists download_audit_no_update before update on download_audit
begin select raise(abort, 'the download audit log is append-only'); end;
create trigger if not exists download_audit_no_delete before delete on download_audit
begin select raise(abort, 'the download audit log is append-only'); end;
"""

# columns added to ``accounts`` after its first release; an older file gets them on open
_ACCOUNT_COLUMNS = {
    "created_at": "text",
    "password_changed_at": "text",
    "disabled_at": "text",
    "failed_logins": "integer not null default 0",
    "locked_until": "text",
}


def store_path(state_dir: Path) -> Path:
    return Path(state_dir) / STORE_NAME


def connect(state_dir: Path) -> sqlite3.Connection:
    """Open (and create or upgrade) the store."""
    con = open_state_store(store_path(state_dir))
    con.executescript(_SCHEMA)
    existing = {row[1] for row in con.execute("pragma table_info(accounts)")}
    with con:
        for column, kind in _ACCOUNT_COLUMNS.items():
            if column not in existing:
                con.execute(f"alter table accounts add column {column} {kind}")
    return con


def stamp(moment=None) -> str:
    """A timestamp as the store writes it."""
    return (moment or now_local()).isoformat(sep=" ", timespec="seconds")
