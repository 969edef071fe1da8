"""Dashboard accounts: who may sign in, with which role and scope.

Stored in the dashboard's own SQLite file (``dashboards/store.py``), never in the pipeline's
databases. Passwords are kept as salted PBKDF2-SHA256 hashes. The rules a password must meet, the
lockout after repeated failures and the ``aftercare users`` command live here; sign-in sessions are
in ``dashboards/sessions.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import hashlib
import hmac
import secrets
import sqlite3
import string
import sys
from dataclasses import dataclass
from pathlib import Path

from dashboards.store import connect, stamp
from sources.clock import now_local

ROLES = ("admin", "analyst", "region_manager", "dealer_manager")
_ITERATIONS = 200_000

PASSWORD_MIN_LENGTH = 10
# the handful every cracking list starts with; the length and mix rules catch most of the rest
_COMMON_PASSWORDS = frozenset(
    {"password123", "1234567890", "qwertyuiop", "qwerty1234", "aftercare1", "aftercare123", "admin12345"}
)


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    dealer_code: str | None
    region: str | None
    disabled: bool = False
    locked_until: dt.datetime | None = None


@dataclass(frozen=True)
class LockoutPolicy:
    """``max_failures`` wrong passwords in a row lock an account for ``lock_for``."""

    max_failures: int = 5
    lock_for: dt.timedelta = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: ``account`` when ``outcome == 'ok'``."""

    outcome: str  # ok / bad_credentials / locked / disabled
    account: Account | None = None
    locked_until: dt.datetime | None = None


class AccountError(ValueError):
    """An account change that cannot be made; the message says why."""


def accounts_db(state_dir: Path) -> sqlite3.Connection:
    return connect(state_dir)


# --- passwords -------------------------------------------------------------------------------------


def password_problems(password: str, name: str = "") -> list[str]:
    """Codes of the rules ``password`` breaks (empty when it is acceptable).

    Length first (NIST SP 800-63B favours length over composition), plus a letter and a digit, not
    the account name, not one repeated character, not a well-known password.
    """
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append("too_short")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        problems.append("needs_letter_and_digit")
    if name and name.lower() in password.lower():
        problems.append("contains_name")
    if password and len(set(password)) == 1:
        problems.append("one_character")
    if password.lower() in _COMMON_PASSWORDS:
        problems.append("common")
    return problems


PASSWORD_RULES_EN = {
    "too_short": f"at least {PASSWORD_MIN_LENGTH} characters",
    "needs_letter_and_digit": "at least one letter and one digit",
    "contains_name": "must not contain the account name",
    "one_character": "must not be one repeated character",
    "common": "too common",
}


def generate_password(name: str = "") -> str:
    """A random password that meets the rules for ``name`` (shown once, to be handed to its owner)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(14))
        if not password_problems(password, name):
            return password


def _hash(password: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), _ITERATIONS).hex()


# a hash to compare against when the name is unknown, so a wrong name takes as long as a wrong password
_DUMMY_SALT = "00" * 16
_DUMMY_HASH = _hash("not a password", _DUMMY_SALT)


# --- accounts --------------------------------------------------------------------------------------


def _check_scope(role: str, dealer_code: str | None, region: str | None) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if role == "dealer_manager" and not dealer_code:
        raise AccountError("a dealer_manager needs --dealer CODE")
    if role == "region_manager" and not region:
        raise AccountError("a region_manager needs --region REGION")
    if role in ("admin", "analyst") and (dealer_code or region):
        raise AccountError(f"an {role} sees the whole network: give no --dealer or --region")
    if role == "dealer_manager" and region:
        raise AccountError("a dealer_manager's region is its dealer's: give --dealer only")
    if role == "region_manager" and dealer_code:
        raise AccountError("a region_manager covers a region: give --region only")


def _check_password(password: str, name: str) -> None:
    problems = password_problems(password, name)
    if problems:
        raise AccountError("password rejected: " + "; ".join(PASSWORD_RULES_EN[p] for p in problems))


def add_account(
    con: sqlite3.Connection,
    name: str,
    role: str,
    dealer_code: str | None = None,
    region: str | None = None,
    password: str | None = None,
    *,
    replace: bool = False,
) -> str:
    """Create an account; returns its password (generated when not given).

    An existing name is refused unless ``replace`` (the demo resets its own accounts that way):
    changing someone's role by mistyping ``add`` must not be possible.
    """
    name = (name or "").strip()
    if not name:
        raise AccountError("an account needs a name")
    _check_scope(role, dealer_code, region)
    password = password or generate_password(name)
    _check_password(password, name)
    exists = con.execute("select 1 from accounts where name = ?", (name,)).fetchone()
    if exists and not replace:
        raise AccountError(
            f"account {name!r} exists; use `aftercare users passwd {name}` to reset its password"
        )
    salt = secrets.token_hex(16)
    now = stamp()
    with con:
        con.execute(
            "insert into accounts (name, role, dealer_code, region, salt, password_hash, created_at, "
            "password_changed_at, disabled_at, failed_logins, locked_until) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, null, 0, null) on conflict(name) do update set "
            "role = excluded.role, dealer_code = excluded.dealer_code, region = excluded.region, "
            "salt = excluded.salt, password_hash = excluded.password_hash, "
            "password_changed_at = excluded.password_changed_at, disabled_at = null, "
            "failed_logins = 0, locked_until = null",
            (name, role, dealer_code, region, salt, _hash(password, salt), now, now),
        )
    if exists:
        _revoke_sessions(con, name)
    return password


def set_password(con: sqlite3.Connection, name: str, password: str | None = None) -> str:
    """Give an account a new password (generated when not given); its open sessions end."""
    if get_account(con, name) is None:
        raise AccountError(f"no account {name!r}")
    password = password or generate_password(name)
    _check_password(password, name)
    salt = secrets.token_hex(16)
    with con:
        con.execute(
            "update accounts set salt = ?, password_hash = ?, password_changed_at = ?, failed_logins = 0, "
            "locked_until = null where name = ?",
            (salt, _hash(password, salt), stamp(), name),
        )
    _revoke_sessions(con, name)
    return password


def set_disabled(con: sqlite3.Connection, name: str, disabled: bool) -> None:
    """Disable (or enable again) an account; disabling ends its open sessions at once."""
    if get_account(con, name) is None:
        raise AccountError(f"no account {name!r}")
    with con:
        con.execute(
            "update accounts set disabled_at = ?, failed_logins = 0, locked_until = null where name = ?",
            (stamp() if disabled else None, name),
        )
    if disabled:
        _revoke_sessions(con, name)


def _revoke_sessions(con: sqlite3.Connection, name: str) -> None:
    with con:
        con.execute(
            "update sessions set revoked_at = ? where name = ? and revoked_at is null", (stamp(), name)
        )


def _account(row) -> Account:
    name, role, dealer, region, disabled_at, locked_until = row
    locked = dt.datetime.fromisoformat(locked_until) if locked_until else None
    return Account(name, role, dealer, region, disabled_at is not None, locked)


_ACCOUNT_SELECT = "select name, role, dealer_code, region, disabled_at, locked_until from accounts"


def get_account(con: sqlite3.Connection, name: str) -> Account | None:
    row = con.execute(f"{_ACCOUNT_SELECT} where name = ?", (name,)).fetchone()
    return _account(row) if row else None


def list_accounts(con: sqlite3.Connection) -> list[Account]:
    return [_account(row) for row in con.execute(f"{_ACCOUNT_SELECT} order by name").fetchall()]


def log_auth_event(con: sqlite3.Connection, name: str, event: str, detail: str | None = None) -> None:
    with con:
        con.execute(
            "insert into auth_events (at, name, event, detail) values (?, ?, ?, ?)",
            (stamp(), name, event, detail),
        )


def sign_in(
    con: sqlite3.Connection,
    name: str,
    password: str,
    policy: LockoutPolicy = LockoutPolicy(),  # noqa: B008 (immutable)
    now: dt.datetime | None = None,
) -> SignIn:
    """Check a name and password, counting failures towards the lockout.

    A locked account is refused even with the right password until the lock ends; a success resets
    the count. Unknown names cost the same hashing time as known ones.
    """
    now = now or now_local()
    name = (name or "").strip()
    row = con.execute(
        "select salt, password_hash, disabled_at, failed_logins, locked_until from accounts where name = ?",
        (name,),
    ).fetchone()
    if row is None:
        hmac.compare_digest(_hash(password, _DUMMY_SALT), _DUMMY_HASH)
        log_auth_event(con, name[:64], "login_failed", "unknown account")
        return SignIn("bad_credentials")
    salt, stored, disabled_at, failures, locked_until = row
    if locked_until and dt.datetime.fromisoformat(locked_until) > now:
        log_auth_event(con, name, "login_refused", "locked")
        return SignIn("locked", locked_until=dt.datetime.fromisoformat(locked_until))
    if not hmac.compare_digest(_hash(password, salt), stored):
        failures += 1
        lock = now + policy.lock_for if failures >= policy.max_failures else None
        with con:
            con.execute(
                "update accounts set failed_logins = ?, locked_until = ? where name = ?",
                (0 if lock else failures, stamp(lock) if lock else None, name),
            )
        log_auth_event(con, name, "locked" if lock else "login_failed", f"{failures} wrong password(s)")
        return SignIn("locked", locked_until=lock) if lock else SignIn("bad_credentials")
    if disabled_at is not None:
        log_auth_event(con, name, "login_refused", "disabled")
        return SignIn("disabled")
    with con:
        con.execute("update accounts set failed_logins = 0, locked_until = null where name = ?", (name,))
    log_auth_event(con, name, "login")
    return SignIn("ok", get_account(con, name))


def authenticate(con: sqlite3.Connection, name: str, password: str) -> Account | None:
    """The account when ``name``/``password`` may sign in now, else None."""
    return sign_in(con, name, password).account


# --- the demo's accounts ---------------------------------------------------------------------------


def demo_accounts(state_dir: Path, serving: Path) -> list[tuple[str, str, str, str]]:
    """One account per role on real dealers of the published network, with fresh passwords.

    ``(name, role, scope, password)``: an admin, an analyst, the manager of the region with the most
    dealers, and the managers of that region's first two dealers (so the region manager sees both).
    Rerunning the demo resets these accounts' passwords (they are printed, never stored in clear).
    """
    import duckdb

    con = duckdb.connect(str(serving), read_only=True)
    try:
        region, first, second = con.execute(
            """
            with ranked as (
                select region, dealer_code,
                       count(*) over (partition by region) as dealers,
                       row_number() over (partition by region order by dealer_code) as n
                from dealers where region is not null
            )
            select region, min(dealer_code) filter (where n = 1), min(dealer_code) filter (where n = 2)
            from ranked group by region, dealers order by dealers desc, region limit 1
            """
        ).fetchone()
    finally:
        con.close()
    wanted = [
        ("demo.admin", "admin", None, None),
        ("demo.analyst", "analyst", None, None),
        ("demo.region", "region_manager", None, region),
        (f"demo.{first.lower()}", "dealer_manager", first, None),
        (f"demo.{second.lower()}", "dealer_manager", second, None),
    ]
    store = accounts_db(state_dir)
    try:
        return [
            (
                name,
                role,
                dealer or region or "-",
                add_account(store, name, role, dealer, region, replace=True),
            )
            for name, role, dealer, region in wanted
        ]
    finally:
        store.close()


def print_demo_accounts(accounts: list[tuple[str, str, str, str]]) -> None:
    print("[demo] dashboard accounts (passwords are new at every demo run):")
    for name, role, scope, password in accounts:  # the scope last: Chinese region names are wide
        print(f"[demo]   {name:16} {role:15} {password:16} {scope}")


# --- aftercare users -------------------------------------------------------------------------------


def _known_dealers(settings) -> dict[str, str] | None:
    """Published dealer codes and their regions, or None before the first publish."""
    serving = Path(settings.paths.serving)
    if not serving.exists():
        return None
    import duckdb

    con = duckdb.connect(str(serving), read_only=True)
    try:
        return dict(con.execute("select dealer_code, region from dealers").fetchall())
    except duckdb.Error:
        return None
    finally:
        con.close()


def _check_against_network(settings, dealer_code: str | None, region: str | None) -> None:
    """A scope that names no published dealer or region is a typo: refuse it."""
    dealers = _known_dealers(settings)
    if dealers is None:
        return
    if dealer_code and dealer_code not in dealers:
        raise AccountError(f"dealer {dealer_code!r} is not in the published dealer list")
    if region and region not in set(dealers.values()):
        raise AccountError(f"region {region!r} is not in the published dealer list")


def _read_password(args: argparse.Namespace) -> str | None:
    """``--password-stdin`` reads one line; otherwise a password is generated."""
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    return None


def users_command(args: argparse.Namespace) -> int:
    from sources.settings import load_settings

    settings = load_settings(args.config)
    con = accounts_db(Path(settings.paths.state))
    action = args.users_command
    try:
        if action == "list":
            now = now_local()
            for account in list_accounts(con):
                scope = account.dealer_code or account.region or "-"
                status = "disabled" if account.disabled else "active"
                if account.locked_until and account.locked_until > now:
                    status = f"locked until {account.locked_until:%H:%M}"
                print(f"{account.name:20} {account.role:15} {scope:12} {status}")
            return 0
        if action == "add":
            _check_against_network(settings, args.dealer, args.region)
            password = add_account(con, args.name, args.role, args.dealer, args.region, _read_password(args))
            print(f"account {args.name} ({args.role}) created; password: {password}")
            return 0
        if action == "passwd":
            given = _read_password(args)
            if given is None and sys.stdin.isatty() and not args.generate:
                given = getpass.getpass(f"new password for {args.name}: ")
                if getpass.getpass("again: ") != given:
                    raise AccountError("the two passwords differ")
            password = set_password(con, args.name, given)
            shown = "" if given else f"; password: {password}"
            print(f"password of {args.name} changed, its sessions ended{shown}")
            return 0
        if action in ("disable", "enable"):
            set_disabled(con, args.name, action == "disable")
            print(f"account {args.name} {action}d")
            return 0
    except AccountError as exc:
        print(f"aftercare users: {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()
    raise AssertionError(action)


def add_parser(sub) -> None:
    p = sub.add_parser("users", help="manage dashboard accounts")
    users = p.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = users.add_parser("add", help="create an account (prints a generated password)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--dealer", default=None, help="dealer code (dealer_manager)")
    add.add_argument("--region", default=None, help="region (region_manager)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    passwd = users.add_parser("passwd", help="set a new password (ends the account's sessions)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    passwd.add_argument("--generate", action="store_true", help="generate one and print it")
    users.add_parser("disable", help="stop an account from signing in").add_argument("name")
    users.add_parser("enable", help="let a disabled account sign in again").add_argument("name")
    users.add_parser("list", help="list accounts")
    for parser in users.choices.values():
        parser.add_argument("--config", default=None)
