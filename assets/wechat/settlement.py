"""Settle the reminder sends: one WeChat status per (task, month) ever sent.

``wechat.template_send_log`` (the dispatch's log) + ``TEMPLATESENDJOBFINISH`` events in
``wechat.callback_events`` -> ``wechat.template_send_results`` (docs/reminders.md "WeChat sends
and their results"), which dbt reads for ``wechat_status``.

Rules, in order:

* ``failed:*`` in the log: WeChat refused the send -> ``failed_send``.
* a ``msgid`` in the log: its delivery event's status (``success``, ``failed_user_block``,
  ``failed_system``), else ``sent`` (accepted, no result yet).
* ``pending`` without a ``msgid`` (the answer was lost): the delivery event that can be matched to
  it, else ``unsettled``. A match is an event of the same openid, not claimed by any logged
  ``msgid``, *received* by our callback receiver between ``MATCH_BEFORE`` before and ``MATCH_AFTER``
  after the send was attempted, and it must be unambiguous both ways: the only such event for that
  send and the only such send for that event. Times compare ``received_at`` (our receiver's clock,
  the clock ``sent_at`` is written with) rather than the event's ``CreateTime`` (WeChat's clock; the
  simulator runs its own). The matched event's ``msg_id`` becomes the row's ``msgid``.

An ``unsettled`` send is left for review and never resent (the dispatch never resends a pending
row). The table is recomputed whole from the log and the events at every run, so a late event
settles a send on the next run, and a rerun gives the same rows.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from assets.wechat.tables import ensure_tables

# how far from the attempt a delivery event may be received and still be matched to a lost answer:
# WeChat pushes TEMPLATESENDJOBFINISH within seconds and gives up after three tries; the minute
# before allows for the receiver's clock being a little ahead of the pipeline host's
MATCH_BEFORE = dt.timedelta(minutes=1)
MATCH_AFTER = dt.timedelta(hours=1)

STATUSES = ("sent", "success", "failed_user_block", "failed_system", "failed_send", "unsettled")

RESULTS_DDL = """
create or replace table wechat.template_send_results (
    task_id varchar not null,
    month varchar not null,
    openid varchar,
    msgid varchar,
    sent_at timestamp,
    wechat_status varchar not null
)
"""

# WeChat's delivery status text -> our code (the texts are "success", "failed:user block" and
# "failed: system failed"; spacing is matched loosely)
_DELIVERY_STATUS = """
    case
        when {s} is null then null
        when lower({s}) like 'success%' then 'success'
        when lower({s}) like '%user block%' then 'failed_user_block'
        else 'failed_system'
    end"""

SETTLE_SQL = f"""
with send_log as (
    select task_id, month, openid, msgid, sent_at, result from wechat.template_send_log
),

delivery as (
    -- one delivery result per msgid (the receiver already drops WeChat's repeated pushes)
    select msg_id, openid, status, received_at
    from wechat.callback_events
    where event = 'TEMPLATESENDJOBFINISH' and msg_id is not null
    qualify row_number() over (partition by msg_id order by received_at, event_id) = 1
),

unclaimed as (
    select d.*
    from delivery d
    where not exists (select 1 from send_log l where l.msgid = d.msg_id)
),

candidates as (
    select l.task_id, l.month, u.msg_id, u.status
    from send_log l
    join unclaimed u
        on u.openid = l.openid
        and u.received_at between l.sent_at - $before and l.sent_at + $after
    where l.result = 'pending' and l.msgid is null
),

matched as (
    select task_id, month, msg_id, status
    from candidates
    qualify count(*) over (partition by task_id, month) = 1 and count(*) over (partition by msg_id) = 1
)

select
    l.task_id,
    l.month,
    l.openid,
    coalesce(l.msgid, m.msg_id) as msgid,
    l.sent_at,
    case
        when l.result like 'failed%' then 'failed_send'
        when l.msgid is not null then coalesce({_DELIVERY_STATUS.format(s="d.status")}, 'sent')
        when m.msg_id is not null then {_DELIVERY_STATUS.format(s="m.status")}
        else 'unsettled'
    end as wechat_status
from send_log l
left join delivery d on d.msg_id = l.msgid
left join matched m on m.task_id = l.task_id and m.month = l.month
order by l.month, l.task_id
"""


def settle_sends(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rewrite ``wechat.template_send_results``; return the row count per status (and matches)."""
    ensure_tables(con)  # the log and the events exist (empty) before the first send
    con.execute("begin")
    con.execute(RESULTS_DDL)
    con.execute(
        f"insert into wechat.template_send_results {SETTLE_SQL}",
        {"before": MATCH_BEFORE, "after": MATCH_AFTER},
    )
    con.execute("commit")
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in con.execute(
        "select wechat_status, count(*) from wechat.template_send_results group by 1"
    ).fetchall():
        counts[status] = n
    counts["settled_by_match"] = con.execute(
        "select count(*) from wechat.template_send_results r join wechat.template_send_log l "
        "using (task_id, month) where l.msgid is null and r.msgid is not null"
    ).fetchall()[0][0]
    return counts
