"""Reminder dispatch through Dagster against the simulator: dry run, once per task, quota."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from assets.wechat.dispatch import ReminderTask, client_msg_id, template_data
from assets.wechat.wechat_assets import oa_followers, template_send_log
from tests.wechat.conftest import asset_metadata, materialize

SEND = "/cgi-bin/message/template/send"
MONTH = "2026-11"


@pytest.fixture
def reminders(sim, control, platform_env):
    """Followers synced, then a reminders mart and a OneID map as the other areas will write them."""
    assert materialize([oa_followers], platform_env).success
    followers = sim.simulator.state.oa.followers
    subscribed = [o for o, f in followers.items() if f.subscribe]
    blocked = next(o for o in subscribed if followers[o].blocks_template)
    reachable = [o for o in subscribed if not followers[o].blocks_template][:6]
    leaving = reachable.pop()  # unsubscribes after the sync: WeChat answers 43004
    tasks = [
        (f"T{i:03d}", MONTH, f"OID{i:012d}", "wechat", openid)
        for i, openid in enumerate([*reachable, blocked, leaving])
    ]
    tasks += [
        ("T900", MONTH, "OID000000000900", "wechat", None),  # no openid known for this OneID
        ("T901", MONTH, "OID000000000901", "phone", subscribed[-1]),
        ("T902", "2026-10", "OID000000000902", "wechat", subscribed[-2]),
    ]
    with duckdb.connect(str(platform_env / "warehouse.duckdb")) as con:
        con.execute("CREATE SCHEMA marts; CREATE SCHEMA identity")
        con.execute(
            "CREATE TABLE marts.reminders (task_id VARCHAR, month DATE, oneid VARCHAR, vin VARCHAR, dealer_code VARCHAR, "
            "reminder_type VARCHAR, due_date DATE, channel VARCHAR)"
        )
        con.execute(
            "CREATE TABLE identity.oneid_map (identifier_type VARCHAR, identifier_key VARCHAR, oneid VARCHAR, "
            "first_seen_at TIMESTAMP, last_seen_at TIMESTAMP)"
        )
        for task_id, month, oneid, channel, openid in tasks:
            con.execute(
                "INSERT INTO marts.reminders VALUES (?, ?, ?, ?, 'D001', 'maintenance', DATE '2026-11-20', ?)",
                [
                    task_id,
                    dt.date.fromisoformat(month + "-01"),
                    oneid,
                    f"LSVAB4BG5NN{task_id[1:]:0>6}",
                    channel,
                ],
            )
            if openid:
                con.execute(
                    "INSERT INTO identity.oneid_map VALUES ('oa_openid', ?, ?, now(), now())", [openid, oneid]
                )
            con.execute(
                "INSERT INTO identity.oneid_map VALUES ('mobile', ?, ?, now(), now())",
                [f"hmac{task_id}", oneid],
            )
    control.post("followers/unsubscribe", {"openids": [leaving], "push": False})
    return {"reachable": reachable, "blocked": blocked, "leaving": leaving}


def send_log(data) -> dict[str, tuple]:
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        rows = con.execute(
            "SELECT task_id, client_msg_id, msgid, result FROM wechat.template_send_log"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_template_content_is_service_facts_only():
    task = ReminderTask("T1", MONTH, "o", "LSVAB4BG5NN123456", "D001", "maintenance", dt.date(2026, 11, 20))
    data = template_data(task)
    assert data == {
        "thing1": {"value": "定期保养"},
        "character_string2": {"value": "NN123456"},
        "time3": {"value": "2026-11-20"},
        "thing4": {"value": "经销商 D001"},
    }
    assert client_msg_id("T1", MONTH) == "T1-2026-11"


def test_no_reminders_table_means_no_tasks(platform_env, control):
    result = materialize([template_send_log], platform_env)
    assert result.success
    assert "no reminder tasks" in asset_metadata(result, "wechat", "template_send_log")["notes"]
    assert control.calls(SEND) == 0


def test_dry_run_then_enabled_sends_once_per_task(reminders, platform_env, control, monkeypatch):
    dry = materialize([template_send_log], platform_env, month=MONTH)
    assert dry.success
    meta = asset_metadata(dry, "wechat", "template_send_log")
    assert meta["dry_run"] is True and meta["to_send"] == 7 and meta["no_openid"] == 1 and meta["sent"] == 0
    assert control.calls(SEND) == 0 and control.get("templates")["sent"] == []

    monkeypatch.setenv("AFTERCARE_WECHAT_DISPATCH_ENABLED", "true")
    live = materialize([template_send_log], platform_env, month=MONTH)
    assert live.success
    meta = asset_metadata(live, "wechat", "template_send_log")
    assert (meta["sent"], meta["failed"]) == (6, 1)
    sent = control.get("templates")["sent"]
    assert len(sent) == 6
    assert {s["client_msg_id"] for s in sent} == {f"T{i:03d}-{MONTH}" for i in range(6)}
    assert all(s["data"]["thing1"]["value"] == "定期保养" for s in sent)
    log = send_log(platform_env)
    assert log["T006"][2] == "failed:not a follower" and log["T004"][2] == "sent"
    assert {r for _, _, r in log.values()} == {"sent", "failed:not a follower"}
    calls = control.calls(SEND)

    again = materialize([template_send_log], platform_env, month=MONTH)
    assert again.success
    assert asset_metadata(again, "wechat", "template_send_log")["already_done"] == 7
    assert control.calls(SEND) == calls  # a rerun sends nothing
    assert len(control.get("templates")["sent"]) == 6


def test_dispatch_stays_within_the_daily_quota_and_resumes(reminders, platform_env, control, monkeypatch):
    monkeypatch.setenv("AFTERCARE_WECHAT_DISPATCH_ENABLED", "true")
    control.post("quota/limits", {"daily": {SEND: 4}})
    first = materialize([template_send_log], platform_env, month=MONTH)
    assert first.success
    meta = asset_metadata(first, "wechat", "template_send_log")
    assert meta["sent"] + meta["failed"] == 4 and "left for the next run" in meta["notes"]
    assert control.get("counters")["errcodes"][SEND].get("45009") is None  # never ran into the wall
    control.post("quota/reset")
    second = materialize([template_send_log], platform_env, month=MONTH)
    assert second.success
    assert len(control.get("templates")["sent"]) == 6
    assert len(send_log(platform_env)) == 7
