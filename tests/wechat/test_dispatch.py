"""Reminder dispatch through Dagster against the simulator: dry run, once per task, quota, lost
replies settled and never resent, one task's error not stopping the batch."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from assets.wechat.dispatch import DispatchStopped, ReminderTask, client_msg_id, dispatch, template_data
from assets.wechat.settlement import settle_sends
from assets.wechat.tables import ensure_tables
from assets.wechat.wechat_assets import callback_events, template_send_log, template_send_results
from sources.wechat.callback_server import start_callback_server
from tests.wechat.conftest import MONTH, SEND, asset_metadata, failure_message, materialize, send_log


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


# ---------------------------------------------------------------------------- lost replies, errors


def sent_for(control, client_msg: str) -> list[dict]:
    return [s for s in control.get("templates")["sent"] if s["client_msg_id"] == client_msg]


def results(data) -> dict[str, tuple]:
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        rows = con.execute(
            "SELECT task_id, msgid, wechat_status FROM wechat.template_send_results"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_a_lost_reply_is_settled_from_its_delivery_result_and_never_resent(
    reminders, platform_env, control, monkeypatch
):
    monkeypatch.setenv("AFTERCARE_WECHAT_DISPATCH_ENABLED", "true")
    with start_callback_server(platform_env / "state" / "callbacks") as receiver:
        control.post("callback", {"url": receiver.url})
        # WeChat sends T000's message, but the answer is cut off on every one of the client's tries
        control.post("inject", {"path": SEND, "count": 5, "drop": True})
        first = materialize([template_send_log], platform_env)
        assert first.success, failure_message(first)
        meta = asset_metadata(first, "wechat", "template_send_log")
        assert (meta["sent"], meta["failed"], meta["reply_lost"]) == (5, 1, 1)
        assert "never resent" in meta["notes"]
        assert send_log(platform_env)["T000"] == (f"T000-{MONTH}", None, "pending")
        (delivered,) = sent_for(control, f"T000-{MONTH}")  # one message reached the customer
        control.post("events/flush")

    # the next run settles it from its TEMPLATESENDJOBFINISH event, matched by openid and time
    settled = materialize([callback_events, template_send_results], platform_env)
    assert settled.success, failure_message(settled)
    assert results(platform_env)["T000"] == (str(delivered["msgid"]), "success")
    assert results(platform_env)["T005"][1] == "failed_user_block"  # blocks template messages
    assert results(platform_env)["T006"] == (None, "failed_send")  # unsubscribed: 43004
    counts = asset_metadata(settled, "wechat", "template_send_results")
    assert (counts["success"], counts["settled_by_match"], counts["unsettled"]) == (5, 1, 0)

    # an hour later WeChat's de-duplication has expired: a rerun of the month must not send again
    control.post("clock/advance", seconds=3600)
    calls = control.calls(SEND)
    again = materialize([template_send_log], platform_env)
    assert again.success
    meta = asset_metadata(again, "wechat", "template_send_log")
    assert (meta["awaiting_settlement"], meta["already_done"], meta["to_send"]) == (1, 6, 0)
    assert control.calls(SEND) == calls
    assert len(sent_for(control, f"T000-{MONTH}")) == 1


def test_a_lost_reply_without_a_delivery_result_stays_unsettled(reminders, platform_env, control, oa_client):
    control.post("inject", {"path": SEND, "count": 5, "drop": True})  # and no callback receiver
    with duckdb.connect(str(platform_env / "warehouse.duckdb")) as con:
        report = dispatch(con, MONTH, oa_client, "TPL_SERVICE_REMINDER", enabled=True)
        assert report.reply_lost == 1 and report.sent == 5
        error = con.execute("SELECT error FROM wechat.template_send_log WHERE task_id = 'T000'").fetchall()[
            0
        ][0]
        assert error.startswith("reply lost:")
        settle_sends(con)
        assert con.execute(
            "SELECT wechat_status, msgid FROM wechat.template_send_results WHERE task_id = 'T000'"
        ).fetchall() == [("unsettled", None)]
        control.post("clock/advance", seconds=3600)
        again = dispatch(con, MONTH, oa_client, "TPL_SERVICE_REMINDER", enabled=True)
    assert (again.awaiting_settlement, again.sent) == (1, 0)
    assert len(sent_for(control, f"T000-{MONTH}")) == 1


def test_one_tasks_error_does_not_stop_the_batch(reminders, platform_env, control, oa_client):
    # the first send is refused with a business error the dispatch does not know (47001: bad data)
    control.post("inject", {"path": SEND, "count": 1, "errcode": 47001})
    with duckdb.connect(str(platform_env / "warehouse.duckdb")) as con:
        report = dispatch(con, MONTH, oa_client, "TPL_SERVICE_REMINDER", enabled=True)
    assert (report.sent, report.failed, report.reply_lost, report.stopped) == (5, 2, 0, None)
    log = send_log(platform_env)
    assert log["T000"][2] == "failed:errcode 47001"
    assert log["T006"][2] == "failed:not a follower"
    assert [t for t, (_, _, r) in sorted(log.items()) if r == "sent"] == [
        "T001",
        "T002",
        "T003",
        "T004",
        "T005",
    ]


def test_quota_exhaustion_stops_the_batch_and_the_next_run_sends_the_rest(
    reminders, platform_env, control, monkeypatch
):
    monkeypatch.setenv("AFTERCARE_WECHAT_DISPATCH_ENABLED", "true")
    control.post("quota/limits", {"daily": {SEND: 2}})
    # the quota API is down, so the dispatch cannot plan within the quota and meets 45009
    control.post("inject", {"path": "/cgi-bin/openapi/quota/get", "count": 1, "errcode": 76021})
    first = materialize([template_send_log], platform_env)
    assert not first.success
    message = failure_message(first)
    assert "reminder dispatch stopped" in message and "45009" in message
    log = send_log(platform_env)
    assert {t: r for t, (_, _, r) in log.items()} == {"T000": "sent", "T001": "sent"}  # T002 was refused
    assert len(control.get("templates")["sent"]) == 2

    control.post("quota/reset")  # a new day
    control.post("quota/limits", {"daily": {SEND: 100}})
    second = materialize([template_send_log], platform_env)
    assert second.success, failure_message(second)
    sent = control.get("templates")["sent"]
    assert sorted(s["client_msg_id"] for s in sent) == [f"T00{i}-{MONTH}" for i in range(6)]


def test_a_credential_error_stops_the_batch_before_anything_is_lost(
    reminders, platform_env, control, oa_client
):
    control.post("inject", {"path": SEND, "count": 1, "errcode": 40164})  # IP not on the allowlist
    with (
        duckdb.connect(str(platform_env / "warehouse.duckdb")) as con,
        pytest.raises(DispatchStopped) as stop,
    ):
        dispatch(con, MONTH, oa_client, "TPL_SERVICE_REMINDER", enabled=True)
    assert "allowlist" in str(stop.value)
    assert stop.value.report.sent == 0
    assert send_log(platform_env) == {}  # nothing was sent: the next run sends T000 as any other


def test_a_past_month_is_never_dispatched(reminders, platform_env, control, oa_client):
    with duckdb.connect(str(platform_env / "warehouse.duckdb")) as con:
        ensure_tables(con)
        con.execute(
            "INSERT INTO wechat.template_send_log (task_id, month, openid, client_msg_id, msgid, sent_at, "
            "result) VALUES ('X1', '2026-12', 'o', 'X1-2026-12', '1', now(), 'sent')"
        )
        report = dispatch(con, MONTH, oa_client, "TPL_SERVICE_REMINDER", enabled=True)
    assert (report.to_send, report.sent) == (0, 0)
    assert "older than 2026-12" in report.notes[0]
    assert control.calls(SEND) == 0
