"""Reminder dispatch: one template message per ``wechat``-channel reminder task of the month.

* Dry run unless ``wechat.dispatch_enabled``: nothing is sent, the plan is only counted.
* At most one message per task and month, ever. ``client_msg_id`` = task_id + month, and
  ``wechat.template_send_log`` records every attempt: a ``pending`` row before the call, then
  ``sent`` with WeChat's ``msgid`` or a ``failed:*`` answer. A task with any row is never sent
  again. In particular a ``pending`` row, whose answer was lost (cut connection, timeout, 5xx after
  the client's retries, or a crash between the call and the log), is **not** retried: WeChat
  de-duplicates ``client_msg_id`` for 10 minutes only, so a later retry could deliver a second
  message. The settlement asset (``settlement.py``) settles it from its delivery result, or leaves
  it ``unsettled`` for review.
* One task's error does not stop the batch: a business error answer is recorded on the task
  (``failed:<reason>``) and the batch goes on. Only what no other task can get past stops it: the
  daily quota (45009) or the minute limit persisting, credentials/allowlist/permission, an unknown
  template id, an API that cannot be reached. The stopping task's row is removed when WeChat
  answered with that error (nothing was sent, the next run sends it) and kept ``pending`` otherwise.
* Within the daily quota: the remaining template quota is read first and never exceeded; a quota
  stop leaves the rest for the next run.
* Never for a month older than the newest one already dispatched: a rerun or a backfill of a past
  month re-settles its sends but does not remind customers of a month that is over.
* Service content only: the reminder type, the vehicle, the due date and the dealer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from assets.wechat.tables import ensure_tables, table_exists
from sources.clock import now_local
from sources.enumerations import messages
from sources.wechat import ApiError, ConfigurationError, OfficialAccountClient, QuotaExhausted, RateLimited
from sources.wechat.errors import TokenRejected, Transient, WechatError

TEMPLATE_PATH = "/cgi-bin/message/template/send"
SERVICE_NAMES = messages("reminder_type")  # the wording per reminder type (enumerations seed)
# WeChat refused this one message (the follower left, the openid is not ours, the user refused
# template messages): recorded as final, never retried
FINAL_ERRORS = {40003: "failed:invalid openid", 43004: "failed:not a follower", 43101: "failed:user refused"}
# answers that no other task of the batch can get past: the template id is unknown to the account
STOPPING_ERRCODES = {40037: "wechat.reminder_template_id is unknown to the Official Account (40037)"}
PENDING = "pending"
SENT = "sent"


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
    already_done: int = 0  # a sent or failed row exists: never again
    awaiting_settlement: int = 0  # a pending row from an earlier attempt: never resent
    to_send: int = 0
    sent: int = 0
    failed: int = 0  # WeChat refused the message (failed:*)
    reply_lost: int = 0  # sent or not, nobody knows: left pending for the settlement
    dry_run: bool = True
    quota_remaining: int | None = None
    stopped: str | None = None  # why the batch stopped early, if it did
    notes: list[str] = field(default_factory=list)


class DispatchStopped(Exception):
    """The batch stopped on an error no other task can get past; the report says what was done."""

    def __init__(self, message: str, report: DispatchReport):
        super().__init__(message)
        self.report = report


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
                    PARTITION BY m.oneid
                    ORDER BY {subscribed} DESC, m.last_seen_at DESC NULLS LAST, m.identifier_key
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


def _log(
    con, task: ReminderTask, openid: str, msgid: int | None, result: str, error: str | None = None
) -> None:
    """The task's row of the send log, replaced (delete + insert in one transaction)."""
    con.execute("BEGIN")
    try:
        con.execute(
            "DELETE FROM wechat.template_send_log WHERE task_id = ? AND month = ?", [task.task_id, task.month]
        )
        con.execute(
            "INSERT INTO wechat.template_send_log (task_id, month, openid, client_msg_id, msgid, sent_at, "
            "result, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                task.task_id,
                task.month,
                openid,
                client_msg_id(task.task_id, task.month),
                None if msgid is None else str(msgid),
                now_local(),
                result,
                error,
            ],
        )
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _keep_error(con, task: ReminderTask, error: str) -> None:
    """The error of a call whose answer was lost, on its still-pending row (kept for review)."""
    con.execute(
        "UPDATE wechat.template_send_log SET error = ? WHERE task_id = ? AND month = ?",
        [error, task.task_id, task.month],
    )


def _forget(con, task: ReminderTask) -> None:
    """WeChat answered with an error that sent nothing: the task may be sent by a later run."""
    con.execute(
        "DELETE FROM wechat.template_send_log WHERE task_id = ? AND month = ?", [task.task_id, task.month]
    )


def newest_dispatched_month(con: duckdb.DuckDBPyConnection) -> str | None:
    return con.execute("SELECT max(month) FROM wechat.template_send_log").fetchall()[0][0]


def dispatch(
    con: duckdb.DuckDBPyConnection,
    month: str,
    client: OfficialAccountClient | None,
    template_id: str,
    enabled: bool,
) -> DispatchReport:
    """Send the month's reminders; raise ``DispatchStopped`` (with the report) when the batch stops."""
    ensure_tables(con)
    report = DispatchReport(dry_run=not enabled)
    tasks = load_tasks(con, month)
    if tasks is None:
        report.notes.append("no reminder tasks: marts.reminders does not exist yet")
        return report
    report.tasks = len(tasks)
    logged = dict(
        con.execute(
            "SELECT task_id, result FROM wechat.template_send_log WHERE month = ?", [month]
        ).fetchall()
    )
    todo = []
    for task in tasks:
        if not task.openid:
            report.no_openid += 1
        elif logged.get(task.task_id) == PENDING:
            report.awaiting_settlement += 1
        elif task.task_id in logged:
            report.already_done += 1
        else:
            todo.append(task)
    report.to_send = len(todo)
    newest = newest_dispatched_month(con)
    if todo and newest is not None and newest > month:
        report.notes.append(
            f"{len(todo)} tasks not sent: {month} is older than {newest}, the newest month already "
            "dispatched (reminders of a past month are not sent)"
        )
        report.to_send = 0
        return report
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
        _log(con, task, task.openid, None, PENDING)
        try:
            msgid = client.send_template(
                task.openid, template_id, template_data(task), client_msg_id(task.task_id, month)
            )
        except (QuotaExhausted, RateLimited, ConfigurationError, TokenRejected) as exc:
            # WeChat answered: this message was not sent, and no other one would be
            _forget(con, task)
            report.stopped = str(exc)
            break
        except Transient as exc:
            # the answer was lost (cut connection, timeout, 5xx, busy through every retry): WeChat
            # may have sent it. Never resend: the settlement decides from the delivery result.
            _keep_error(con, task, f"reply lost: {exc}")
            report.reply_lost += 1
            continue
        except ApiError as exc:
            if exc.errcode in STOPPING_ERRCODES:
                _forget(con, task)
                report.stopped = f"{STOPPING_ERRCODES[exc.errcode]}: {exc}"
                break
            result = FINAL_ERRORS.get(exc.errcode, f"failed:errcode {exc.errcode}")
            _log(con, task, task.openid, None, result, str(exc))
            report.failed += 1
            continue
        except WechatError as exc:  # unreachable, or anything else outside a WeChat answer
            _keep_error(con, task, f"no answer: {exc}")
            report.reply_lost += 1
            report.stopped = str(exc)
            break
        _log(con, task, task.openid, msgid, SENT)
        report.sent += 1
    if report.stopped:
        done = report.sent + report.failed + report.reply_lost
        report.notes.append(f"stopped after {done} of {len(todo)} tasks: {report.stopped}")
        raise DispatchStopped(report.stopped, report)
    if budget < len(todo):
        report.notes.append(f"{len(todo) - budget} tasks left for the next run: daily template quota")
    if report.reply_lost:
        report.notes.append(
            f"{report.reply_lost} sends lost their reply: left pending, settled from their delivery "
            "result by the next run (never resent)"
        )
    return report
