"""WeCom assets through Dagster: contacts with hashed remark mobiles, behaviour, group messages."""

from __future__ import annotations

import datetime as dt

import duckdb

from assets.wechat.wechat_assets import (
    BEHAVIOR_DAILY,
    EXTERNAL_CONTACTS,
    FOLLOW_USERS,
    wechat_pulls,
    wecom_activity,
)
from sources.identifiers import is_placeholder_mobile, keyed_hash
from tests.wechat.conftest import asset_metadata, materialize

PII_KEY = b"test-pii-key-0123456789abcdefghijklmnop"


def test_contacts_behaviour_and_groupmsg_results(sim, control, platform_env):
    result = materialize([wechat_pulls, wecom_activity], platform_env, month="2026-11")
    assert result.success, result
    corp = sim.simulator.state.wecom
    con = duckdb.connect(str(platform_env / "warehouse.duckdb"), read_only=True)

    users = {r[0] for r in con.execute("SELECT userid FROM wechat.wecom_follow_users").fetchall()}
    assert users == set(corp.follow_users())
    relations = con.execute(
        "SELECT external_userid, follow_userid, unionid, name_masked, remark_mobile_hmacs FROM "
        "wechat.wecom_external_contacts"
    ).fetchall()
    expected = {(r.external_userid, r.userid) for u in users for r in corp.relations_by_user.get(u, [])}
    assert {(r[0], r[1]) for r in relations} == expected
    assert asset_metadata(result, "wechat", "wecom_external_contacts")["rows"] == len(expected)

    # remark mobiles: only HMACs, never the number
    mobiles = {m for u in users for r in corp.relations_by_user.get(u, []) for m in r.remark_mobiles}
    assert mobiles
    stored = {h for r in relations for h in r[4]}
    real = {m for m in mobiles if not is_placeholder_mobile(m)}
    assert real and real != mobiles  # the state has a placeholder (13900000000): not an identity
    assert stored == {keyed_hash(m, PII_KEY) for m in real}
    dump = " ".join(
        str(v) for row in con.execute("SELECT * FROM wechat.wecom_external_contacts").fetchall() for v in row
    )
    assert not any(m in dump for m in mobiles)
    assert all(r[3] is None or r[3].endswith("*") for r in relations)

    # behaviour: one row per consultant and day up to as_of (2026-10-31), values as in the state
    as_of = dt.date(2026, 10, 31)
    userid = sorted(users)[0]
    row = con.execute(
        "SELECT chat_cnt, message_cnt, reply_percentage FROM wechat.wecom_behavior_daily WHERE userid = ? "
        "AND stat_date = ?",
        [userid, as_of - dt.timedelta(days=5)],
    ).fetchall()[0]
    truth = corp.behavior[(userid, as_of - dt.timedelta(days=5))]
    assert row == (truth["chat_cnt"], truth["message_cnt"], truth["reply_percentage"])
    assert con.execute("SELECT max(stat_date) FROM wechat.wecom_behavior_daily").fetchall()[0][0] == as_of

    # group-message results: every (msgid, member, customer) of the state whose member sent (one
    # who has not has only "not sent" results, never asked: docs/wechat.md)
    results = con.execute(
        "SELECT msgid, userid, external_userid, status FROM wechat.wecom_groupmsg_results"
    ).fetchall()
    sent = {(m, r["userid"]) for m, rs in corp.groupmsg_results.items() for r in rs if r["status"] != 0}
    truth_results = {
        (m, r["userid"], r["external_userid"], r["status"])
        for m, rs in corp.groupmsg_results.items()
        for r in rs
        if (m, r["userid"]) in sent
    }
    assert truth_results and set(results) == truth_results
    con.close()

    # the next run asks only for new days
    control.post("counters/reset")
    assert materialize(
        [wechat_pulls, wecom_activity], platform_env, month="2026-11", selection=[BEHAVIOR_DAILY]
    ).success
    assert control.calls("/cgi-bin/externalcontact/get_user_behavior_data") == 0


def test_a_selected_table_of_the_contacts_snapshot_is_written_alone(sim, control, platform_env):
    """The contacts pull writes the snapshot's tables that were selected, and only those: the
    consultant list alone asks for no customer; the relations alone leave the stored list be."""
    corp = sim.simulator.state.wecom
    control.post("counters/reset")
    result = materialize(
        [wechat_pulls, wecom_activity], platform_env, month="2026-11", selection=[FOLLOW_USERS]
    )
    assert result.success, result
    assert control.calls("/cgi-bin/externalcontact/batch/get_by_user") == 0
    warehouse = str(platform_env / "warehouse.duckdb")
    with duckdb.connect(warehouse, read_only=True) as con:
        users = {r[0] for r in con.execute("SELECT userid FROM wechat.wecom_follow_users").fetchall()}
        assert users == set(corp.follow_users())
        assert con.execute("SELECT count(*) FROM wechat.wecom_external_contacts").fetchall() == [(0,)]
        listed_at = con.execute("SELECT max(fetched_at) FROM wechat.wecom_follow_users").fetchall()
    materialized = {
        e.event_specific_data.materialization.asset_key for e in result.get_asset_materialization_events()
    }
    assert materialized == {FOLLOW_USERS}

    result = materialize(
        [wechat_pulls, wecom_activity], platform_env, month="2026-11", selection=[EXTERNAL_CONTACTS]
    )
    assert result.success, result
    with duckdb.connect(warehouse, read_only=True) as con:
        relations = set(
            con.execute(
                "SELECT external_userid, follow_userid FROM wechat.wecom_external_contacts"
            ).fetchall()
        )
        expected = {(r.external_userid, r.userid) for u in users for r in corp.relations_by_user.get(u, [])}
        assert expected and relations == expected
        # the consultant list is the one the first run stored, not rewritten by this one
        assert con.execute("SELECT max(fetched_at) FROM wechat.wecom_follow_users").fetchall() == listed_at
