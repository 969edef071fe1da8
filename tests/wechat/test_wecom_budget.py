"""WeCom within its quota (issue 16): a per-run call budget, a cursor that resumes the backfill,
settled group messages never fetched again. Real Dagster materializations and the real simulator."""

from __future__ import annotations

import datetime as dt

import duckdb

from assets.wechat.tables import ensure_tables
from assets.wechat.wechat_assets import (
    BEHAVIOR_DAILY,
    EXTERNAL_CONTACTS,
    FOLLOW_USERS,
    GROUPMSG_RESULTS,
    wechat_pulls,
    wecom_activity,
)
from assets.wechat.wecom_behavior import Window, extend_range, plan_windows, sync_behavior
from assets.wechat.wecom_groupmsgs import _unsettled, ranges_to_list
from sources.wechat import CallBudget, WecomClient
from sources.wechat_sim.synthetic import CORPID, WECOM_SECRET
from tests.wechat.conftest import asset_metadata, materialize

BEHAVIOR = "/cgi-bin/externalcontact/get_user_behavior_data"
TASKS = "/cgi-bin/externalcontact/get_groupmsg_task"
RESULTS = "/cgi-bin/externalcontact/get_groupmsg_send_result"
AS_OF = dt.date(2026, 10, 31)  # the run of 2026-11
FLOOR = AS_OF - dt.timedelta(days=179)  # the 180 days the API serves


def calls_made(control, path: str) -> list[str]:
    """Bodies of the successful calls to ``path`` the simulator answered (errcode 0)."""
    response = control.http.get("/__sim/requests", params={"path": path, "limit": 20_000})
    rows = response.raise_for_status().json()["requests"]
    return [r["detail"] for r in rows if r["errcode"] == 0]


def test_plan_is_newest_first_and_contiguous():
    d = dt.date
    plan = plan_windows(["a", "b"], {"b": (d(2026, 9, 1), d(2026, 10, 20))}, AS_OF)
    # forward windows of every consultant first, the newest days of a new consultant among them
    assert plan[:2] == [Window("a", d(2026, 10, 2), AS_OF), Window("b", d(2026, 10, 21), AS_OF)]
    assert [w for w in plan if w.userid == "a"][-1] == Window("a", FLOOR, d(2026, 6, 3))
    assert len([w for w in plan if w.userid == "a"]) == 6
    # b: 11 days forward, then back from 2026-08-31 to the floor in 30-day windows
    assert [w for w in plan if w.userid == "b"][1] == Window("b", d(2026, 8, 2), d(2026, 8, 31))
    days = {u: sum((w.last - w.first).days + 1 for w in plan if w.userid == u) for u in ("a", "b")}
    assert days == {"a": 180, "b": 180 - 50}
    # the daily increment: one window of one day per consultant
    assert plan_windows(["a"], {"a": (FLOOR, AS_OF)}, AS_OF + dt.timedelta(days=1)) == [
        Window("a", AS_OF + dt.timedelta(days=1), AS_OF + dt.timedelta(days=1))
    ]
    # only adjacent windows move the cursor
    known = (d(2026, 10, 2), AS_OF)
    assert extend_range(known, [Window("a", d(2026, 9, 2), d(2026, 10, 1))]) == (d(2026, 9, 2), AS_OF)
    assert extend_range(known, [Window("a", d(2026, 8, 3), d(2026, 9, 1))]) == known


def test_listed_range_is_asked_only_for_what_is_new():
    assert ranges_to_list(100, 200, None) == ([(100, 200)], (100, 200))
    assert ranges_to_list(150, 260, (100, 200)) == ([(201, 260)], (100, 260))
    assert ranges_to_list(150, 180, (100, 200)) == ([], (100, 200))
    assert ranges_to_list(50, 180, (100, 200)) == ([(50, 99)], (50, 200))
    assert ranges_to_list(500, 600, (100, 200)) == ([(500, 600)], (500, 600))


CONTACTS = [FOLLOW_USERS, EXTERNAL_CONTACTS]


def test_call_budget_counts_and_logs_progress():
    lines: list[str] = []
    budget = CallBudget(7, progress_every=3, log=lines.append, label="WeCom behaviour")
    for _ in range(7):
        budget.take("/x")
    assert budget.left == 0 and len(lines) == 2 and "6 calls made" in lines[1]
    try:
        budget.take("/x")
    except Exception as exc:  # noqa: BLE001
        assert "budget of 7 calls is used up" in str(exc)
    else:
        raise AssertionError("an eighth call went through")


def test_behaviour_backfill_over_two_runs_within_budget_no_call_repeated(
    sim, control, platform_env, monkeypatch
):
    consultants = sim.simulator.state.wecom.follow_users()
    windows = 6 * len(consultants)  # 180 days in 30-day windows
    assert len(consultants) >= 5
    assert materialize([wechat_pulls, wecom_activity], platform_env, selection=CONTACTS).success
    control.post("counters/reset")

    monkeypatch.setenv("AFTERCARE_WECOM_CALL_BUDGET", "20")
    monkeypatch.setenv("AFTERCARE_WECOM_PROGRESS_EVERY", "5")
    first = materialize([wechat_pulls, wecom_activity], platform_env, selection=[BEHAVIOR_DAILY])
    assert first.success  # the month is not failed
    metadata = asset_metadata(first, "wechat", "wecom_behavior_daily")
    assert metadata["feed_status"] == "backfill in progress"
    assert "aftercare/warnings" not in metadata
    assert f"20 of {windows} behaviour windows" in metadata["aftercare/notices"][0]
    assert control.calls(BEHAVIOR) == 20
    with duckdb.connect(str(platform_env / "warehouse.duckdb"), read_only=True) as con:
        newest = con.execute(
            "SELECT count(DISTINCT userid) FROM wechat.wecom_behavior_daily WHERE stat_date = ?", [AS_OF]
        ).fetchall()[0][0]
    assert newest == len(consultants)  # the most recent month of every consultant came first

    monkeypatch.setenv("AFTERCARE_WECOM_CALL_BUDGET", "1000")
    second = materialize([wechat_pulls, wecom_activity], platform_env, selection=[BEHAVIOR_DAILY])
    assert asset_metadata(second, "wechat", "wecom_behavior_daily")["feed_status"] == "available"
    bodies = calls_made(control, BEHAVIOR)
    assert len(bodies) == windows and len(set(bodies)) == windows  # each window asked exactly once

    corp = sim.simulator.state.wecom
    with duckdb.connect(str(platform_env / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT userid, stat_date, chat_cnt, message_cnt FROM wechat.wecom_behavior_daily"
        ).fetchall()
        cursor = con.execute(
            "SELECT DISTINCT fetched_from, fetched_through FROM wechat.wecom_behavior_cursor"
        ).fetchall()
    assert len(rows) == len({(r[0], r[1]) for r in rows}) == 180 * len(consultants)
    assert {r[1] for r in rows} == {FLOOR + dt.timedelta(days=i) for i in range(180)}
    for userid, day, chats, messages in rows:
        truth = corp.behavior.get((userid, day)) or {"chat_cnt": 0, "message_cnt": 0}
        assert (chats, messages) == (truth["chat_cnt"], truth["message_cnt"])
    assert cursor == [(FLOOR, AS_OF)]

    control.post("counters/reset")
    assert materialize([wechat_pulls, wecom_activity], platform_env, selection=[BEHAVIOR_DAILY]).success
    assert control.calls(BEHAVIOR) == 0  # nothing left, nothing asked again


def test_daily_increment_is_one_call_per_consultant(sim, control, warehouse):
    consultants = sim.simulator.state.wecom.follow_users()
    warehouse.execute("CREATE SCHEMA wechat")
    warehouse.execute(
        "CREATE TABLE wechat.wecom_follow_users (userid VARCHAR NOT NULL, fetched_at TIMESTAMP)"
    )
    warehouse.executemany(
        "INSERT INTO wechat.wecom_follow_users VALUES (?, now())", [[u] for u in consultants]
    )
    with WecomClient(sim.url, CORPID, WECOM_SECRET) as client:
        sync_behavior(client, warehouse, AS_OF - dt.timedelta(days=1))
        control.post("counters/reset")
        counts = sync_behavior(client, warehouse, AS_OF)
    assert control.calls(BEHAVIOR) == len(consultants) == counts["windows"]
    assert counts["days"] == len(consultants)


def groupmsg_truth(corp) -> set[tuple]:
    """The simulator's send results of every member who sent (a member who has not sent has only
    "not sent" results: never asked, docs/wechat.md)."""
    sent = {(m, r["userid"]) for m, rs in corp.groupmsg_results.items() for r in rs if r["status"] != 0}
    return {
        (m, r["userid"], r["external_userid"], r["status"])
        for m, rs in corp.groupmsg_results.items()
        for r in rs
        if (m, r["userid"]) in sent
    }


def stored_results(data) -> set[tuple]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return set(
            con.execute(
                "SELECT msgid, userid, external_userid, status FROM wechat.wecom_groupmsg_results"
            ).fetchall()
        )


def test_settled_group_messages_are_never_fetched_again(sim, control, platform_env, monkeypatch):
    corp = sim.simulator.state.wecom
    assert materialize([wechat_pulls, wecom_activity], platform_env, selection=[GROUPMSG_RESULTS]).success
    assert stored_results(platform_env) == groupmsg_truth(corp)
    sent = {(m, r["userid"]) for m, rs in corp.groupmsg_results.items() for r in rs if r["status"] != 0}
    assert control.calls(RESULTS) == len(sent)

    # the same month again: every task was sent, every message settled: no task, no result call
    control.post("counters/reset")
    again = materialize([wechat_pulls, wecom_activity], platform_env, selection=[GROUPMSG_RESULTS])
    assert asset_metadata(again, "wechat", "wecom_groupmsg_results")["settled_skipped"] == len(corp.groupmsgs)
    assert control.calls(TASKS) == control.calls(RESULTS) == 0

    # two new messages a member has not sent yet (results with status 0): one created on
    # 2026-11-15, one on 2026-11-28, both before the cut-off 2026-11-30 of the runs for 2026-12
    member = next(iter(corp.relations_by_user))
    relation = corp.relations_by_user[member][0]
    unsent = {}
    for msgid, day in (("msgOld0001", 15), ("msgFresh001", 28)):
        created = int(dt.datetime(2026, 11, day, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp())
        corp.groupmsgs.append(
            {"msgid": msgid, "creator": member, "create_time": created, "chat_type": "single"}
        )
        unsent[msgid] = {
            "userid": member,
            "external_userid": relation.external_userid,
            "status": 0,
            "send_time": None,
        }
        corp.groupmsg_results[msgid] = [unsent[msgid]]
    control.post("counters/reset")
    assert materialize(
        [wechat_pulls, wecom_activity], platform_env, month="2026-12", selection=[GROUPMSG_RESULTS]
    ).success
    assert sorted(calls_made(control, TASKS)) == [
        '{"msgid": "msgFresh001", "limit": 1000, "cursor": ""}',
        '{"msgid": "msgOld0001", "limit": 1000, "cursor": ""}',
    ]
    assert control.calls(RESULTS) == 0  # the member has not sent: nothing but "not sent" to ask

    # the next pull with the same cut-off: the fresh message (created in the 7 days before the
    # cut-off) is asked again, the older one waits for its weekly re-ask
    control.post("counters/reset")
    again = materialize(
        [wechat_pulls, wecom_activity], platform_env, month="2026-12", selection=[GROUPMSG_RESULTS]
    )
    assert calls_made(control, TASKS) == ['{"msgid": "msgFresh001", "limit": 1000, "cursor": ""}']
    assert asset_metadata(again, "wechat", "wecom_groupmsg_results")["recheck_waiting"] == 1

    # both sent; a pull a week or more after the last ask (cut-off 2026-12-31) asks both, results once
    for result in unsent.values():
        result.update(status=1, send_time=corp.groupmsgs[-1]["create_time"] + 600)
    control.post("counters/reset")
    assert materialize(
        [wechat_pulls, wecom_activity], platform_env, month="2027-01", selection=[GROUPMSG_RESULTS]
    ).success
    assert control.calls(TASKS) == control.calls(RESULTS) == 2
    assert {("msgOld0001", member, relation.external_userid, 1)} <= stored_results(platform_env)
    control.post("counters/reset")
    assert materialize(
        [wechat_pulls, wecom_activity], platform_env, month="2027-01", selection=[GROUPMSG_RESULTS]
    ).success
    assert control.calls(TASKS) == control.calls(RESULTS) == 0


def test_group_messages_resume_after_the_budget(sim, control, platform_env, monkeypatch):
    corp = sim.simulator.state.wecom
    monkeypatch.setenv("AFTERCARE_WECOM_CALL_BUDGET", "7")
    first = materialize([wechat_pulls, wecom_activity], platform_env, selection=[GROUPMSG_RESULTS])
    metadata = asset_metadata(first, "wechat", "wecom_groupmsg_results")
    assert first.success and metadata["feed_status"] == "backfill in progress"
    assert sum(control.get("counters")["calls"].values()) <= 7 + 1  # + the token
    monkeypatch.setenv("AFTERCARE_WECOM_CALL_BUDGET", "1000")
    second = materialize([wechat_pulls, wecom_activity], platform_env, selection=[GROUPMSG_RESULTS])
    assert asset_metadata(second, "wechat", "wecom_groupmsg_results")["feed_status"] == "available"
    assert stored_results(platform_env) == groupmsg_truth(corp)
    results = calls_made(control, RESULTS)
    assert len(results) == len(set(results))  # no member's results asked twice


def test_a_weeks_re_asks_of_old_unsent_messages_spread_over_its_nights():
    """Every old unsent message checked at one night comes due once in the week after, on a night of
    its own (not all on one night); one unchecked for two weeks is due on any night, a fresh one on
    every night."""
    con = duckdb.connect()
    ensure_tables(con)
    checked = dt.date(2026, 10, 1)
    created = dt.datetime(2026, 9, 20, 10)
    old = [f"msgOld{i:04d}" for i in range(140)]
    con.executemany(
        "INSERT INTO wechat.wecom_groupmsgs VALUES (?, 'u1', ?, ?, ?)",
        [(m, created, created, checked) for m in old]
        + [
            ("msgFresh", dt.datetime(2026, 10, 9, 10), created, checked),
            ("msgOverdue", created, created, checked - dt.timedelta(days=8)),
        ],
    )
    con.executemany(
        "INSERT INTO wechat.wecom_groupmsg_tasks VALUES (?, 'u1', 0, NULL, false, ?)",
        [(m, created) for m in [*old, "msgFresh", "msgOverdue"]],
    )
    window = (dt.datetime(2026, 7, 1), dt.datetime(2026, 12, 31))
    nights = {}
    for day in range(8, 15):  # the week after the check: 2026-10-08 .. 10-14
        as_of = dt.date(2026, 10, day)
        due, waiting = _unsettled(con, *window, as_of)
        due_ids = {row[0] for row in due}
        assert {"msgFresh", "msgOverdue"} <= due_ids and waiting == len(old) + 2 - len(due_ids)
        nights[day] = due_ids & set(old)
    # each old message once in the week, none on two nights; no night holds more than half of them
    assert sorted(m for ids in nights.values() for m in ids) == sorted(old)
    assert max(len(ids) for ids in nights.values()) < len(old) / 2
    # the day before a week has passed: only the fresh and the overdue one
    due, _ = _unsettled(con, *window, dt.date(2026, 10, 7))
    assert {row[0] for row in due} == {"msgFresh", "msgOverdue"}
