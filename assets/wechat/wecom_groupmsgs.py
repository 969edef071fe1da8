"""Results of the consultants' mass messages (群发), pulled within a per-run call budget.

Three APIs: ``get_groupmsg_list_v2`` lists the messages created in a time range, ``get_groupmsg_task``
gives each member's task (status 0 not sent, 2 sent), ``get_groupmsg_send_result`` a member's
per-customer results. A member's results are final once the task is sent, so:

* the list is asked only for the time not listed before (the listed range is the cursor
  ``wecom_groupmsgs`` in ``wechat.sync_cursors``; messages go to ``wechat.wecom_groupmsgs``);
* a member's results are **final** once they were fetched after the member sent (task status 2):
  never asked again; a message whose every member's results are final is **settled**: neither its
  tasks nor its results are asked again;
* of an unsettled message, the tasks are fetched again and the results only of members who sent
  and whose results are not final (a member who has not sent has only "not sent" results, which
  no KPI reads: they are not asked);
* an unsettled message is asked at every pull while it is **fresh** (created in the
  ``RECHECK_DAYS`` before the pull's cut-off: members send within days or not at all); after that
  once a week under the nightly schedule, on a weekday of its own (a hash of its msgid, so a
  week's re-asks spread over its nights), and at any pull once two weeks have passed (every run
  of an installation whose only pulls are the month-end runs). A late send is stored within a
  week (two at most), inside the KPIs' settle days (docs/kpis.md).

Messages are fetched in waves; each wave's tasks and results are committed together (a message the
budget cut half-way keeps the members it finished), so a run stopped by its budget loses nothing
and the next run asks only for what is still missing: at most the task lists of the few messages
in flight when the budget ran out are asked twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb
import polars as pl

from assets.wechat.tables import ensure_tables, local_ts, read_cursor, save_cursor
from sources.clock import SHANGHAI, now_local
from sources.wechat import BackfillInProgress, BudgetSpent, WecomClient

GROUPMSG_LOOKBACK_DAYS = 90  # recent mass messages: their send results still change
CURSOR = "wecom_groupmsgs"
WAVE = 200  # messages per committed wave
RECHECK_DAYS = 7  # an unsettled message older than this is asked again once this many days passed
SENT = 2  # task status: the member sent the message

RESULT_SCHEMA = {
    "msgid": pl.Utf8,
    "creator": pl.Utf8,
    "create_time": pl.Datetime("us"),
    "userid": pl.Utf8,
    "external_userid": pl.Utf8,
    "chat_id": pl.Utf8,
    "status": pl.Int32,
    "send_time": pl.Datetime("us"),
    "fetched_at": pl.Datetime("us"),
}
TASK_SCHEMA = {
    "msgid": pl.Utf8,
    "userid": pl.Utf8,
    "status": pl.Int32,
    "send_time": pl.Datetime("us"),
    "results_fetched": pl.Boolean,
    "fetched_at": pl.Datetime("us"),
}


def ranges_to_list(
    since: int, until: int, listed: tuple[int, int] | None
) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """Unix-second ranges of ``[since, until]`` not listed yet, and the listed range after them (pure).

    The listed range stays one interval: a request that does not touch it starts it over.
    """
    if listed is None or since > listed[1] + 1 or until < listed[0] - 1:
        return [(since, until)], (since, until)
    low, high = listed
    todo = []
    if since < low:
        todo.append((since, low - 1))
    if until > high:
        todo.append((high + 1, until))
    return todo, (min(low, since), max(high, until))


def _listed(con: duckdb.DuckDBPyConnection) -> tuple[int, int] | None:
    state = read_cursor(con, CURSOR)
    if state is None:
        return None
    return int(state["listed_from"]), int(state["listed_through"])


def _save_listing(
    con: duckdb.DuckDBPyConnection, msgs: list[dict[str, Any]], listed: tuple[int, int]
) -> None:
    frame = pl.DataFrame(
        {
            "msgid": [m["msgid"] for m in msgs],
            "creator": [m.get("creator") or None for m in msgs],
            "create_time": [local_ts(m.get("create_time")) for m in msgs],
            "listed_at": [now_local()] * len(msgs),
        },
        schema={
            "msgid": pl.Utf8,
            "creator": pl.Utf8,
            "create_time": pl.Datetime("us"),
            "listed_at": pl.Datetime("us"),
        },
    ).unique("msgid", keep="last", maintain_order=True)
    state = {"listed_from": listed[0], "listed_through": listed[1]}
    con.execute("BEGIN TRANSACTION")
    try:
        if frame.height:
            con.register("listed", frame.to_arrow())
            con.execute("DELETE FROM wechat.wecom_groupmsgs WHERE msgid IN (SELECT msgid FROM listed)")
            con.execute("INSERT INTO wechat.wecom_groupmsgs BY NAME SELECT * FROM listed")
            con.unregister("listed")
        save_cursor(con, CURSOR, str(listed[1]), state, now_local())
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _unsettled(
    con: duckdb.DuckDBPyConnection, since: dt.datetime, until: dt.datetime, as_of: dt.date
) -> tuple[list[tuple[str, str | None, dt.datetime | None]], int]:
    """Stored messages of ``[since, until]`` with no tasks yet or a task not sent that are due
    (never asked, a sent member's results still owed, fresh, or last asked ``RECHECK_DAYS`` or more
    before ``as_of``), oldest first; and how many unsettled messages wait for their weekly re-ask."""
    rows = con.execute(
        """
        SELECT m.msgid, m.creator, m.create_time,
            t.msgid IS NULL
            OR t.results_owed
            OR m.create_time >= $fresh_from
            OR m.tasks_checked_through IS NULL
            -- re-asked on the message's own weekday once a week has passed (so the re-asks of
            -- a week spread over its nights instead of coming back all on one), and after two
            -- weeks on any day (an installation whose only pulls are the month-end runs)
            OR (m.tasks_checked_through <= $recheck_through AND hash(m.msgid) % 7 = $weekday)
            OR m.tasks_checked_through <= $overdue_through AS due
        FROM wechat.wecom_groupmsgs m
        LEFT JOIN (
            SELECT
                msgid,
                bool_and(status = $sent AND results_fetched) AS all_sent,
                -- a member sent but the budget stopped the run before their results
                bool_or(status = $sent AND NOT results_fetched) AS results_owed
            FROM wechat.wecom_groupmsg_tasks GROUP BY msgid
        ) t ON t.msgid = m.msgid
        WHERE m.create_time BETWEEN $since AND $until AND coalesce(NOT t.all_sent, true)
        ORDER BY m.create_time, m.msgid
        """,
        {
            "fresh_from": as_of - dt.timedelta(days=RECHECK_DAYS - 1),
            "recheck_through": as_of - dt.timedelta(days=RECHECK_DAYS),
            "weekday": as_of.toordinal() % 7,
            "overdue_through": as_of - dt.timedelta(days=2 * RECHECK_DAYS),
            "sent": SENT,
            "since": since,
            "until": until,
        },
    ).fetchall()
    due = [row[:3] for row in rows if row[3]]
    return due, len(rows) - len(due)


def sync_groupmsg_results(
    client: WecomClient,
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, int]:
    """Send results of the mass messages created in the 90 days up to ``as_of``.

    Raises ``BackfillInProgress`` (after committing everything fetched) when the budget ends the run
    with messages left; any other error after committing the waves already done.
    """
    ensure_tables(con)
    until = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), SHANGHAI) - dt.timedelta(seconds=1)
    since = until - dt.timedelta(days=GROUPMSG_LOOKBACK_DAYS)
    todo, listed = ranges_to_list(int(since.timestamp()), int(until.timestamp()), _listed(con))
    msgs: list[dict[str, Any]] = []
    try:
        for first, last in todo:
            msgs += client.groupmsgs(
                dt.datetime.fromtimestamp(first, SHANGHAI), dt.datetime.fromtimestamp(last, SHANGHAI)
            )
    except BudgetSpent as exc:
        raise BackfillInProgress(f"group messages not listed yet: {exc}", 0, 1) from exc
    _save_listing(con, msgs, listed)

    naive = (since.replace(tzinfo=None), until.replace(tzinfo=None))
    pending, waiting = _unsettled(con, *naive, as_of)
    in_window = con.execute(
        "SELECT count(*) FROM wechat.wecom_groupmsgs WHERE create_time BETWEEN ? AND ?", list(naive)
    ).fetchall()[0][0]
    # members whose results were fetched after they sent: final, never asked again
    final = {
        (r[0], r[1])
        for r in con.execute(
            "SELECT msgid, userid FROM wechat.wecom_groupmsg_tasks WHERE status = ? AND results_fetched",
            [SENT],
        ).fetchall()
    }
    if client.budget is not None:
        client.budget.planned = client.budget.used + 2 * len(pending)  # a task list, a member's results
    log(
        f"WeCom group messages: {len(msgs)} newly listed, {in_window} in the {GROUPMSG_LOOKBACK_DAYS} days "
        f"up to {as_of}, {len(pending)} not settled to fetch, {waiting} not settled asked less than "
        f"{RECHECK_DAYS} days ago"
    )
    done = results = 0
    for start in range(0, len(pending), WAVE):
        fetched, finished, error = _fetch_wave(client, pending[start : start + WAVE], final)
        _commit_wave(con, fetched, as_of)
        done += finished
        results += sum(len(f["results"]) for f in fetched)
        if error is None:
            continue
        if not isinstance(error, BudgetSpent):
            raise error
        # what the wave finished is stored; the rest waits for the next run
        raise BackfillInProgress(
            f"{done} of {len(pending)} unsettled group messages fetched this run, {len(pending) - done} "
            "left for the next run (wecom.call_budget)",
            done,
            len(pending) - done,
        )
    return {
        "messages": in_window,
        "listed": len(msgs),
        "settled_skipped": in_window - len(pending) - waiting,
        "recheck_waiting": waiting,
        "fetched": done,
        "results": results,
    }


def _fetch_message(
    client: WecomClient, msg: tuple[str, str | None, dt.datetime | None], final: set[tuple[str, str]]
) -> dict[str, Any] | None:
    """One message's tasks, and the results of the members whose results are not final yet.

    The budget may run out half-way: then the members done so far are returned (``stopped``) and
    stored, the rest is marked not fetched; None when even the task list could not be asked.
    """
    msgid, creator, create_time = msg
    fetched_at = now_local()
    try:
        tasks = client.groupmsg_tasks(msgid)
    except BudgetSpent:
        return None
    refetched: list[str] = []
    results: list[dict[str, Any]] = []
    stopped = False
    for task in tasks:
        userid = task["userid"]
        if (msgid, userid) in final:
            continue  # sent before the last fetch of its results: they are final and stored
        if int(task.get("status") or 0) != SENT:
            # not sent yet: every result would say "not sent" (status 0), which no KPI counts;
            # asked once the task says the member sent (half the calls of an unsettled message)
            continue
        try:
            answers = client.groupmsg_send_results(msgid, userid)
        except BudgetSpent:
            stopped = True
            break
        refetched.append(userid)
        results += [
            {
                "msgid": msgid,
                "creator": creator,
                "create_time": create_time,
                "userid": result.get("userid") or userid,
                "external_userid": result.get("external_userid") or "",
                "chat_id": result.get("chat_id") or None,
                "status": int(result.get("status") or 0),
                "send_time": local_ts(result.get("send_time")),
                "fetched_at": fetched_at,
            }
            for result in answers
        ]
    task_rows = [
        {
            "msgid": msgid,
            "userid": t["userid"],
            "status": int(t.get("status") or 0),
            "send_time": local_ts(t.get("send_time")),
            "results_fetched": (msgid, t["userid"]) in final or t["userid"] in refetched,
            "fetched_at": fetched_at,
        }
        for t in tasks
    ]
    return {
        "msgid": msgid,
        "tasks": task_rows,
        "refetched": refetched,
        "results": results,
        "stopped": stopped,
    }


def _fetch_wave(
    client: WecomClient,
    wave: list[tuple[str, str | None, dt.datetime | None]],
    final: set[tuple[str, str]],
) -> tuple[list[dict[str, Any]], int, Exception | None]:
    """The wave's messages ``max_concurrency`` at a time: what was fetched (whole or in part), how
    many messages were finished, and the first error (``BudgetSpent`` when the budget ran out)."""
    fetched: list[dict[str, Any]] = []
    finished = 0
    error: Exception | None = None
    with ThreadPoolExecutor(max_workers=client.max_concurrency) as pool:
        futures = [pool.submit(_fetch_message, client, msg, final) for msg in wave]
        for future in futures:
            try:
                message = future.result()
            except Exception as exc:  # noqa: BLE001 - reported after the wave's successes are kept
                error = error or exc
                continue
            if message is None or message["stopped"]:
                error = error or BudgetSpent("the call budget ran out within the wave")
            if message is not None:
                fetched.append(message)
                finished += not message["stopped"]
    return fetched, finished, error


def _commit_wave(con: duckdb.DuckDBPyConnection, fetched: list[dict[str, Any]], as_of: dt.date) -> None:
    """Tasks replaced per message, results per (message, member) refetched, the messages' tasks
    marked asked through ``as_of``, in one transaction."""
    if not fetched:
        return
    tasks = pl.DataFrame([t for f in fetched for t in f["tasks"]], schema=TASK_SCHEMA)
    results = pl.DataFrame([r for f in fetched for r in f["results"]], schema=RESULT_SCHEMA)
    messages = pl.DataFrame({"msgid": [f["msgid"] for f in fetched]}, schema={"msgid": pl.Utf8})
    refetched = pl.DataFrame(
        [{"msgid": f["msgid"], "userid": u} for f in fetched for u in f["refetched"]],
        schema={"msgid": pl.Utf8, "userid": pl.Utf8},
    )
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("messages", messages.to_arrow())
        con.register("refetched", refetched.to_arrow())
        con.register("tasks", tasks.to_arrow())
        con.register("results", results.to_arrow())
        con.execute("DELETE FROM wechat.wecom_groupmsg_tasks WHERE msgid IN (SELECT msgid FROM messages)")
        con.execute("INSERT INTO wechat.wecom_groupmsg_tasks BY NAME SELECT * FROM tasks")
        con.execute(
            "DELETE FROM wechat.wecom_groupmsg_results WHERE (msgid, userid) IN "
            "(SELECT (msgid, userid) FROM refetched)"
        )
        con.execute("INSERT INTO wechat.wecom_groupmsg_results BY NAME SELECT * FROM results")
        con.execute(
            "UPDATE wechat.wecom_groupmsgs SET tasks_checked_through = greatest(coalesce("
            "tasks_checked_through, ?::date), ?::date) WHERE msgid IN (SELECT msgid FROM messages)",
            [as_of, as_of],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in ("messages", "refetched", "tasks", "results"):
            con.unregister(name)
