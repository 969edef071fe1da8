"""Dashboard accounts: who may sign in, with which role and scope.

Stored in the dashboard's own SQLite file under ``paths.state`` (never in the pipeline's
databases). Passwords are kept as salted PBKDF2 hashes; ``aftercare users add`` prints a generated
password once.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from pipelines.config import load_settings

ROLES = ("admin", "analyst", "region_manager", "dealer_manager")
_ITERATIONS = 200_000


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    dealer_code: str | None
    region: str | None


def accounts_db(state_dir: Path) -> sqlite3.Connection:
    state_dir.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(state_dir / "dashboard.sqlite")
    con.execute(
        "create table if not exists accounts (name text primary key, role text not null, "
        "dealer_code text, region text, salt text not null, password_hash text not null)"
    )
    return con


def _hash(password: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), _ITERATIONS).hex()


def add_account(
    con: sqlite3.Connection,
    name: str,
    role: str,
    dealer_code: str | None = None,
    region: str | None = None,
    password: str | None = None,
) -> str:
    """Create or update an account; returns the password (generated when not given)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if role == "dealer_manager" and not dealer_code:
        raise ValueError("a dealer_manager needs --dealer CODE")
    if role == "region_manager" and not region:
        raise ValueError("a region_manager needs --region REGION")
    password = password or secrets.token_urlsafe(9)
    salt = secrets.token_hex(16)
    with con:
        con.execute(
            "insert into accounts values (?, ?, ?, ?, ?, ?) on conflict(name) do update set "
            "role = excluded.role, dealer_code = excluded.dealer_code, region = excluded.region, "
            "salt = excluded.salt, password_hash = excluded.password_hash",
            (name, role, dealer_code, region, salt, _hash(password, salt)),
        )
    return password


def authenticate(con: sqlite3.Connection, name: str, password: str) -> Account | None:
    row = con.execute(
        "select role, dealer_code, region, salt, password_hash from accounts where name = ?", (name,)
    ).fetchone()
    if row is None or not hmac.compare_digest(_hash(password, row[3]), row[4]):
        return None
    return Account(name, row[0], row[1], row[2])


def list_accounts(con: sqlite3.Connection) -> list[Account]:
    rows = con.execute("select name, role, dealer_code, region from accounts order by name").fetchall()
    return [Account(*row) for row in rows]


def users_command(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    con = accounts_db(Path(settings.paths.state))
    if args.users_command == "list":
        for account in list_accounts(con):
            scope = account.dealer_code or account.region or "-"
            print(f"{account.name:20} {account.role:15} {scope}")
        return 0
    try:
        password = add_account(con, args.name, args.role, args.dealer, args.region)
    except ValueError as exc:
        print(f"aftercare users: {exc}")
        return 2
    print(f"account {args.name} ({args.role}) saved; password: {password}")
    return 0
