"""Accounts, password rules, lockout and sessions (the store under ``paths.state``)."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from dashboards.accounts import (
    AccountError,
    LockoutPolicy,
    accounts_db,
    add_account,
    authenticate,
    generate_password,
    list_accounts,
    password_problems,
    set_disabled,
    set_password,
    sign_in,
)
from dashboards.sessions import redeem_ticket, revoke, session_alive, session_for_token, start_session
from sources.clock import now_local

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 12, 9, 0)


def test_an_account_signs_in_with_its_password_only(tmp_path):
    con = accounts_db(tmp_path)
    password = add_account(con, "li.dcrc", "dealer_manager", dealer_code="D001")
    assert authenticate(con, "li.dcrc", password).dealer_code == "D001"
    assert authenticate(con, "li.dcrc", password + "x") is None
    assert authenticate(con, "nobody", password) is None
    assert [a.name for a in list_accounts(con)] == ["li.dcrc"]


def test_scoped_roles_need_their_scope_and_only_theirs(tmp_path):
    con = accounts_db(tmp_path)
    with pytest.raises(AccountError, match="--dealer"):
        add_account(con, "x", "dealer_manager")
    with pytest.raises(AccountError, match="--region"):
        add_account(con, "y", "region_manager")
    with pytest.raises(AccountError, match="unknown role"):
        add_account(con, "z", "boss")
    with pytest.raises(AccountError, match="whole network"):
        add_account(con, "w", "analyst", dealer_code="D001")


def test_adding_an_existing_name_is_refused(tmp_path):
    con = accounts_db(tmp_path)
    add_account(con, "li", "analyst")
    with pytest.raises(AccountError, match="exists"):
        add_account(con, "li", "admin")
    assert list_accounts(con)[0].role == "analyst"


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("short1", ["too_short"]),
        ("onlyletterslong", ["needs_letter_and_digit"]),
        ("12345678901", ["needs_letter_and_digit"]),
        ("xli.dcrc12345", ["contains_name"]),
        ("Password123", ["common"]),
        ("good-pass-2026", []),
    ],
)
def test_password_rules(password, problems):
    assert password_problems(password, "li.dcrc") == problems


def test_generated_passwords_meet_the_rules_and_weak_ones_are_refused(tmp_path):
    assert all(not password_problems(generate_password()) for _ in range(50))
    con = accounts_db(tmp_path)
    with pytest.raises(AccountError, match="at least 10 characters"):
        add_account(con, "li", "analyst", password="abc1")


def test_repeated_failures_lock_the_account_even_for_the_right_password(tmp_path):
    con = accounts_db(tmp_path)
    password = add_account(con, "li", "analyst")
    policy = LockoutPolicy(max_failures=3, lock_for=dt.timedelta(minutes=15))
    assert sign_in(con, "li", "wrong-1", policy, NOW).outcome == "bad_credentials"
    assert sign_in(con, "li", "wrong-2", policy, NOW).outcome == "bad_credentials"
    third = sign_in(con, "li", "wrong-3", policy, NOW)
    assert third.outcome == "locked"
    assert third.locked_until == NOW + dt.timedelta(minutes=15)
    assert sign_in(con, "li", password, policy, NOW + dt.timedelta(minutes=14)).outcome == "locked"
    assert sign_in(con, "li", password, policy, NOW + dt.timedelta(minutes=16)).outcome == "ok"


def test_a_success_resets_the_failure_count(tmp_path):
    con = accounts_db(tmp_path)
    password = add_account(con, "li", "analyst")
    policy = LockoutPolicy(max_failures=2)
    assert sign_in(con, "li", "wrong", policy, NOW).outcome == "bad_credentials"
    assert sign_in(con, "li", password, policy, NOW).outcome == "ok"
    assert sign_in(con, "li", "wrong", policy, NOW).outcome == "bad_credentials"


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(tmp_path):
    con = accounts_db(tmp_path)
    password = add_account(con, "li", "analyst")
    login_id, _ = start_session(con, "li")
    assert session_alive(con, login_id) is not None
    set_disabled(con, "li", True)
    assert sign_in(con, "li", password).outcome == "disabled"
    assert session_alive(con, login_id) is None
    set_disabled(con, "li", False)
    assert sign_in(con, "li", password).outcome == "ok"


def test_a_ticket_buys_one_cookie_token_once(tmp_path):
    con = accounts_db(tmp_path)
    add_account(con, "li", "analyst")
    now = now_local() + dt.timedelta(seconds=1)  # sessions start after the account
    login_id, ticket = start_session(con, "li", lifetime=dt.timedelta(hours=12), now=now)
    token, seconds = redeem_ticket(con, ticket, now=now + dt.timedelta(seconds=5))
    assert seconds == 12 * 3600 - 5
    assert redeem_ticket(con, ticket, now=now + dt.timedelta(seconds=6)) is None  # burnt
    found = session_for_token(con, token, now=now + dt.timedelta(hours=1))
    assert found is not None and found[0] == login_id and found[1].name == "li"
    assert session_for_token(con, token, now=now + dt.timedelta(hours=13)) is None  # expired
    assert session_for_token(con, "forged", now=now) is None


def test_a_late_ticket_buys_nothing(tmp_path):
    con = accounts_db(tmp_path)
    add_account(con, "li", "analyst")
    now = now_local() + dt.timedelta(seconds=1)  # sessions start after the account
    _, ticket = start_session(con, "li", now=now)
    assert redeem_ticket(con, ticket, now=now + dt.timedelta(minutes=5)) is None


def test_logout_and_a_new_password_end_sessions(tmp_path):
    con = accounts_db(tmp_path)
    add_account(con, "li", "analyst")
    first, ticket = start_session(con, "li")
    token, _ = redeem_ticket(con, ticket)
    revoke(con, first)
    assert session_for_token(con, token) is None
    second, _ = start_session(con, "li")
    new_password = set_password(con, "li")
    assert session_alive(con, second) is None
    assert authenticate(con, "li", new_password) is not None
    assert not con.execute("select count(*) from sessions where token_hash = ?", (token,)).fetchone()[0]


def aftercare(*args, env, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_users_command_adds_lists_disables_and_changes_passwords(tmp_path):
    import os

    env = dict(os.environ, AFTERCARE_PATHS_DATA=str(tmp_path), PYTHONPATH=str(ROOT))
    env.pop("AFTERCARE_CONFIG", None)
    added = aftercare("users", "add", "wang.d1", "--role", "dealer_manager", "--dealer", "D001", env=env)
    assert added.returncode == 0, added.stderr
    password = added.stdout.strip().rsplit(" ", 1)[-1]
    assert not password_problems(password)

    weak = aftercare("users", "passwd", "wang.d1", "--password-stdin", env=env, stdin="short\n")
    assert weak.returncode == 2 and "at least 10 characters" in weak.stderr
    changed = aftercare("users", "passwd", "wang.d1", "--password-stdin", env=env, stdin="New-pass-2026\n")
    assert changed.returncode == 0, changed.stderr
    assert aftercare("users", "disable", "wang.d1", env=env).returncode == 0
    listed = aftercare("users", "list", env=env).stdout
    assert "wang.d1" in listed and "D001" in listed and "disabled" in listed

    con = accounts_db(tmp_path / "state")
    assert sign_in(con, "wang.d1", "New-pass-2026").outcome == "disabled"
    assert sign_in(con, "wang.d1", password).outcome != "ok"
    missing = aftercare("users", "add", "x", "--role", "region_manager", env=env)
    assert missing.returncode == 2 and "--region" in missing.stderr


def test_the_demo_gets_one_account_per_role_on_real_dealers(serving_db, capsys):
    from dashboards.accounts import demo_accounts, print_demo_accounts

    state = serving_db.parent / "state"
    created = demo_accounts(state, serving_db)
    assert [(name, role, scope) for name, role, scope, _ in created] == [
        ("demo.admin", "admin", "-"),
        ("demo.analyst", "analyst", "-"),
        ("demo.region", "region_manager", "华东"),  # the region with the most dealers
        ("demo.d002", "dealer_manager", "D002"),
        ("demo.d003", "dealer_manager", "D003"),
    ]
    con = accounts_db(state)
    assert all(sign_in(con, name, password).outcome == "ok" for name, _, _, password in created)
    # a second demo resets them: the old passwords stop working, the new ones work
    again = demo_accounts(state, serving_db)
    assert sign_in(con, "demo.admin", created[0][3]).outcome == "bad_credentials"
    assert sign_in(con, "demo.admin", again[0][3]).outcome == "ok"
    print_demo_accounts(again)
    assert again[3][3] in capsys.readouterr().out
