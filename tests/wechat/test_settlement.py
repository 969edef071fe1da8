"""The settlement of reminder sends (assets/wechat/settlement.py) on a hand-made log and events."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from assets.wechat.settlement import settle_sends
from assets.wechat.tables import ensure_tables

AT = dt.datetime(2026, 10, 31, 20, 0, 0)  # when the dispatch for 2026-11 ran
S = dt.timedelta(seconds=1)
M = "2026-11"


@pytest.fixture
def con():
    con = duckdb.connect()
    ensure_tables(con)
    yield con
    con.close()


def log(con, task_id, openid, result, msgid=None, sent_at=AT, month=M):
    con.execute(
        "insert into wechat.template_send_log (task_id, month, openid, client_msg_id, msgid, sent_at, "
        "result) values (?, ?, ?, ?, ?, ?, ?)",
        [task_id, month, openid, f"{task_id}-{month}", msgid, sent_at, result],
    )


def event(con, msg_id, openid, status, received_at, event="TEMPLATESENDJOBFINISH", event_id=None):
    con.execute(
        "insert into wechat.callback_events values (?, ?, ?, ?, ?, ?, ?, '{}')",
        # the event's own CreateTime is WeChat's clock: deliberately far off ours, it is not used
        [event_id or f"e{msg_id}", event, openid, msg_id, status, dt.datetime(2020, 1, 1), received_at],
    )


def results(con) -> dict[str, tuple]:
    rows = con.execute(
        "select task_id, msgid, wechat_status from wechat.template_send_results order by month, task_id"
    ).fetchall()
    return {task: (msgid, status) for task, msgid, status in rows}


def test_nothing_sent_gives_an_empty_table_with_the_contract_columns(con):
    counts = settle_sends(con)
    assert sum(counts.values()) == 0
    assert con.execute("describe wechat.template_send_results").fetchall() == [
        ("task_id", "VARCHAR", "NO", None, None, None),
        ("month", "VARCHAR", "NO", None, None, None),
        ("openid", "VARCHAR", "YES", None, None, None),
        ("msgid", "VARCHAR", "YES", None, None, None),
        ("sent_at", "TIMESTAMP", "YES", None, None, None),
        ("wechat_status", "VARCHAR", "NO", None, None, None),
    ]


def test_known_msgids_take_their_delivery_status(con):
    log(con, "A", "oA", "sent", msgid="101")
    log(con, "B", "oB", "sent", msgid="102")
    log(con, "C", "oC", "sent", msgid="103")
    log(con, "D", "oD", "sent", msgid="104")  # accepted, no result yet
    event(con, "101", "oA", "success", AT + 2 * S)
    event(con, "102", "oB", "failed:user block", AT + 2 * S)
    event(con, "103", "oC", "failed: system failed", AT + 2 * S)
    event(con, "103", "oC", "success", AT + 9 * S, event_id="late-duplicate")  # first received wins
    counts = settle_sends(con)
    assert results(con) == {
        "A": ("101", "success"),
        "B": ("102", "failed_user_block"),
        "C": ("103", "failed_system"),
        "D": ("104", "sent"),
    }
    assert counts["success"] == 1 and counts["sent"] == 1 and counts["settled_by_match"] == 0


def test_refused_sends_are_failed_send(con):
    log(con, "A", "oA", "failed:not a follower")
    log(con, "B", "oB", "failed:invalid openid")
    log(con, "C", "oC", "failed:errcode 47001")
    settle_sends(con)
    assert results(con) == {
        "A": (None, "failed_send"),
        "B": (None, "failed_send"),
        "C": (None, "failed_send"),
    }


def test_a_lost_reply_is_settled_from_the_one_event_of_its_openid_around_its_time(con):
    log(con, "A", "oA", "pending")
    event(con, "201", "oA", "success", AT + 3 * S)
    counts = settle_sends(con)
    assert results(con) == {"A": ("201", "success")}
    assert counts["settled_by_match"] == 1


@pytest.mark.parametrize(
    ("received", "settled"),
    [
        (AT - 60 * S, True),  # the receiver's clock a minute ahead: still this send
        (AT - 61 * S, False),
        (AT + dt.timedelta(hours=1), True),
        (AT + dt.timedelta(hours=1) + S, False),  # too late to be this send's result
    ],
)
def test_the_match_window_edges(con, received, settled):
    log(con, "A", "oA", "pending")
    event(con, "201", "oA", "failed:user block", received)
    settle_sends(con)
    assert results(con)["A"] == (("201", "failed_user_block") if settled else (None, "unsettled"))


def test_without_a_matching_event_a_lost_reply_stays_unsettled(con):
    log(con, "A", "oA", "pending")
    event(con, "301", "oOther", "success", AT + S)  # another follower
    event(con, "302", "oA", "success", AT + S, event="subscribe")  # not a delivery result
    assert settle_sends(con)["unsettled"] == 1
    assert results(con) == {"A": (None, "unsettled")}


def test_an_event_claimed_by_a_known_msgid_is_not_matched_again(con):
    # two tasks of one owner in one run: one answer arrived, one was lost
    log(con, "A", "oA", "sent", msgid="401")
    log(con, "B", "oA", "pending", sent_at=AT + S)
    event(con, "401", "oA", "success", AT + 2 * S)
    event(con, "402", "oA", "failed: system failed", AT + 3 * S)
    settle_sends(con)
    assert results(con) == {"A": ("401", "success"), "B": ("402", "failed_system")}


def test_two_lost_replies_of_one_openid_are_ambiguous_and_stay_unsettled(con):
    log(con, "A", "oA", "pending")
    log(con, "B", "oA", "pending", sent_at=AT + S)
    event(con, "501", "oA", "success", AT + 2 * S)
    event(con, "502", "oA", "success", AT + 3 * S)
    settle_sends(con)
    assert results(con) == {"A": (None, "unsettled"), "B": (None, "unsettled")}


def test_one_event_two_lost_replies_is_ambiguous_too(con):
    log(con, "A", "oA", "pending")
    log(con, "B", "oA", "pending", sent_at=AT + S)
    event(con, "601", "oA", "success", AT + 2 * S)
    settle_sends(con)
    assert results(con) == {"A": (None, "unsettled"), "B": (None, "unsettled")}


def test_lost_replies_of_other_months_are_matched_within_their_own_time(con):
    # a carried task keeps its id: same task, two months, two sends a month apart
    log(con, "A", "oA", "pending", month="2026-10", sent_at=AT - dt.timedelta(days=31))
    log(con, "A", "oA", "pending", month="2026-11")
    event(con, "701", "oA", "success", AT - dt.timedelta(days=31) + S)
    event(con, "702", "oA", "failed:user block", AT + S)
    settle_sends(con)
    rows = con.execute(
        "select month, msgid, wechat_status from wechat.template_send_results order by month"
    ).fetchall()
    assert rows == [("2026-10", "701", "success"), ("2026-11", "702", "failed_user_block")]


def test_the_settlement_is_recomputed_whole_so_a_late_event_settles_and_a_rerun_is_stable(con):
    log(con, "A", "oA", "pending")
    settle_sends(con)
    assert results(con) == {"A": (None, "unsettled")}
    event(con, "801", "oA", "success", AT + 30 * S)
    settle_sends(con)
    first = con.execute("from wechat.template_send_results").fetchall()
    settle_sends(con)
    assert con.execute("from wechat.template_send_results").fetchall() == first
    assert results(con) == {"A": ("801", "success")}
    # the log itself is the dispatch's: the settlement never changes it
    assert con.execute("select result, msgid from wechat.template_send_log").fetchall() == [("pending", None)]
