"""Reminder dispatch: one template message per ``wechat``-channel reminder task of the month.

* Dry run unless ``wechat.dispatch_enabled``: nothing is sent, the plan is only counted.
* Idempotent: ``client_msg_id`` = task_id + month, and ``wechat.template_send_log`` records every
  task; a task with a final row (sent or failed) is never sent again. A ``pending`` row (written
  before the call) is retried with the same client_msg_id, which WeChat de-duplicates for 10 min.
* Within the daily quota: the remaining template quota is read first and never exceeded; a quota
  stop leaves the rest for the next run.
* Service content only: the reminder type, the vehicle, the due date and the dealer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb

from assets.wechat.tables import ensure_tables, now_local, table_exists
from sources.wechat import ApiError, OfficialAccountClient, QuotaExhausted

TEMPLATE_PATH = "/cgi-bin/message/template/send"
SERVICE_NAMES = {
    "first_maintenance": "首次保养",
    "maintenance": "定期保养",
    "warranty": "整车质保到期",
    "insurance": "车辆保险到期",
    "inspection": "车辆年审",
    "birthday": "车主生日关怀",
    "campaign": "服务活动",
}
# per-task errors: recorded as final (the follower left, or the openid is not ours); not retried
FINAL_ERRORS = {40003: "failed:invalid openid", 43004: "failed:not a follower", 43101: "failed:user refused"}


@dataclass
class ReminderTask:
    task_id: str
    month: str
    openid: str | None
    vin: str
    dealer_code: str
    reminder_type: str
    due_date: dt.date | None


@dataclass
class DispatchReport:
    tasks: int = 0
    no_openid: int = 0
    already_done: int = 0
    to_send: int = 0
    sent: int = 0
    failed: int = 0
    dry_run: bool = True
    quota_remaining: int | None = None
    notes: list[str] = field(default_factory=list)


def client_msg_id(task_id: str, month: str) -> str:
    return f"{task_id}-{month}"


def template_data(task: ReminderTask) -> dict[str, dict[str, str]]:
    """The message body: service facts only (no offers, no prices)."""
    return {
        "thing1": {"value": SERVICE_NAMES.get(task.reminder_type, "车辆服务提醒")},
        "character_string2": {"value": task.vin[-8:] if task.vin else ""},
        "time3": {"value": task.due_date.isoformat() if task.due_date else ""},
        "thing4": {"value": f"经销商 {task.dealer_code}"},
    }


def load_tasks(con: duckdb.DuckDBPyConnection, month: str) -> list[ReminderTask] | None:
    """The month's wechat tasks with the follower openid of the owner; None if no reminders table yet."""
    if not table_exists(con, "marts", "reminders"):
        return None
    has_map = table_exists(con, "identity", "oneid_map")
    has_followers = table_exists(con, "wechat", "oa_followers")
    openid_join = ""
    if has_map:
        follower_join = (
            "LEFT JOIN wechat.oa_followers f ON f.openid = m.identifier_key" if has_followers else ""
        )
        subscribed = "coalesce(f.subscribe, false)" if has_followers else "true"
        openid_join = f"""
            LEFT JOIN (
                SELECT m.oneid, m.identifier_key AS openid
                FROM identity.oneid_map m {follower_join}
                WHERE m.identifier_type = 'oa_openid'
                QUALIFY row_number() OVER (
                    PARTITION BY m.oneid ORDER BY {subscribed} DESC, m.last_seen_at DESC NULLS LAST, m.identifier_key
                ) = 1
            ) o ON o.oneid = r.oneid"""
    rows = con.execute(
        f"""
        SELECT r.task_id::VARCHAR, {"o.openid" if has_map else "NULL"}, r.vin, r.dealer_code,
               r.reminder_type, r.due_date::DATE
        FROM marts.reminders r {openid_join}
        WHERE r.channel = 'wechat' AND CAST(r.month AS VARCHAR) LIKE ?
        ORDER BY r.task_id
        """,
        [f"{month}%"],
    ).fetchall()
    return [ReminderTask(t, month, o, v or "", d or "", ty or "", due) for t, o, v, d, ty, due in rows]


def _log(con, task: ReminderTask, openid: str, msgid: Any, result: str) -> None:
    cid = client_msg_id(task.task_id, task.month)
    con.execute(
        "DELETE FROM wechat.template_send_log WHERE task_id = ? AND month = ?", [task.task_id, task.month]
    )
    con.execute(
        "INSERT INTO wechat.template_send_log VALUES (?, ?, ?, ?, ?, ?, ?)",
        [task.task_id, task.month, openid, cid, None if msgid is None else str(msgid), now_local(), result],
    )


def dispatch(
    con: duckdb.DuckDBPyConnection,
    month: str,
    client: OfficialAccountClient | None,
    template_id: str,
    enabled: bool,
) -> DispatchReport:
    ensure_tables(con)
    report = DispatchReport(dry_run=not enabled)
    tasks = load_tasks(con, month)
    if tasks is None:
        report.notes.append("no reminder tasks: marts.reminders does not exist yet")
        return report
    report.tasks = len(tasks)
    final = {
        r[0]
        for r in con.execute(
            "SELECT task_id FROM wechat.template_send_log WHERE month = ? AND result <> 'pending'", [month]
        ).fetchall()
    }
    todo = []
    for task in tasks:
        if not task.openid:
            report.no_openid += 1
        elif task.task_id in final:
            report.already_done += 1
        else:
            todo.append(task)
    report.to_send = len(todo)
    if not enabled or not todo:
        if not enabled:
            report.notes.append(
                f"dry run: {len(todo)} template messages would be sent (wechat.dispatch_enabled is off)"
            )
        return report
    assert client is not None
    budget = len(todo)
    try:
        remain = int(client.quota(TEMPLATE_PATH)["quota"]["remain"])
        report.quota_remaining = remain
        budget = min(budget, remain)
    except ApiError as exc:  # the quota API is optional; the 45009 stop still protects us
        report.notes.append(f"quota API unavailable ({exc.errcode}); relying on 45009")
    for task in todo[:budget]:
        assert task.openid is not None
        _log(con, task, task.openid, None, "pending")
        try:
            msgid = client.send_template(
                task.openid, template_id, template_data(task), client_msg_id(task.task_id, month)
            )
        except QuotaExhausted:
            report.notes.append(
                f"daily template quota exhausted after {report.sent} sends; the next run continues"
            )
            raise
        except ApiError as exc:
            if exc.errcode in FINAL_ERRORS:
                _log(con, task, task.openid, None, FINAL_ERRORS[exc.errcode])
                report.failed += 1
                continue
            raise
        _log(con, task, task.openid, msgid, "sent")
        report.sent += 1
    if budget < len(todo):
        report.notes.append(f"{len(todo) - budget} tasks left for the next run: daily template quota")
    return report
