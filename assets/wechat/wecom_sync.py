"""WeCom pulls: consultants, their customers, daily behaviour, group-message results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import duckdb
import polars as pl

from assets.wechat.tables import SHANGHAI, ensure_tables, local_ts, now_local
from sources.identifiers import is_placeholder_mobile, mask_name, normalize_mobile
from sources.pii import PiiVault
from sources.wechat import WecomClient

BEHAVIOR_LOOKBACK_DAYS = 180  # the API serves at most the last 180 days
GROUPMSG_LOOKBACK_DAYS = 90  # recent mass messages: their send results still change


def remark_mobile_hmacs(mobiles: Iterable[str], vault: PiiVault, placeholders: Iterable[str]) -> list[str]:
    """HMACs of the valid, non-placeholder remark mobiles (never the numbers themselves)."""
    out = []
    for raw in mobiles:
        mobile = normalize_mobile(raw)
        if mobile and not is_placeholder_mobile(mobile, placeholders):
            hashed = vault.hash(mobile)
            if hashed not in out:
                out.append(hashed)
    return out


def _replace(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, where: str = "", params=None
) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {table} {where}", params or [])
        if frame.height:
            con.register("incoming", frame.to_arrow())
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def sync_contacts(
    client: WecomClient, con: duckdb.DuckDBPyConnection, vault: PiiVault, placeholders: Iterable[str]
) -> dict[str, int]:
    """Snapshot of consultants and every (customer, consultant) relation."""
    ensure_tables(con)
    fetched_at = now_local()
    userids = client.follow_users()
    rows: list[dict[str, Any]] = []
    placeholders = list(placeholders)
    for item in client.iter_customers(userids):
        contact, follow = item.get("external_contact") or {}, item.get("follow_info") or {}
        rows.append(
            {
                "external_userid": contact.get("external_userid"),
                "follow_userid": follow.get("userid"),
                "unionid": contact.get("unionid") or None,
                "name_masked": mask_name(contact.get("name")),
                "createtime": local_ts(follow.get("createtime")),
                "add_way": int(follow.get("add_way") or 0),
                "state": follow.get("state") or None,
                "remark_mobile_hmacs": remark_mobile_hmacs(
                    follow.get("remark_mobiles") or [], vault, placeholders
                ),
                "fetched_at": fetched_at,
            }
        )
    contacts = pl.DataFrame(
        rows,
        schema={
            "external_userid": pl.Utf8,
            "follow_userid": pl.Utf8,
            "unionid": pl.Utf8,
            "name_masked": pl.Utf8,
            "createtime": pl.Datetime("us"),
            "add_way": pl.Int32,
            "state": pl.Utf8,
            "remark_mobile_hmacs": pl.List(pl.Utf8),
            "fetched_at": pl.Datetime("us"),
        },
    ).unique(["external_userid", "follow_userid"], keep="last", maintain_order=True)
    users = pl.DataFrame(
        {"userid": userids, "fetched_at": [fetched_at] * len(userids)},
        schema={"userid": pl.Utf8, "fetched_at": pl.Datetime("us")},
    )
    _replace(con, "wechat.wecom_follow_users", users)
    _replace(con, "wechat.wecom_external_contacts", contacts)
    return {
        "follow_users": users.height,
        "relations": contacts.height,
        "customers": contacts["external_userid"].n_unique() if contacts.height else 0,
    }


def sync_behavior(client: WecomClient, con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, int]:
    """Daily statistics up to ``as_of``, per consultant, from the day after the last one stored."""
    ensure_tables(con)
    userids = [
        r[0] for r in con.execute("SELECT userid FROM wechat.wecom_follow_users ORDER BY userid").fetchall()
    ]
    last = dict(
        con.execute(
            "SELECT userid, max(stat_date) FROM wechat.wecom_behavior_daily GROUP BY userid"
        ).fetchall()
    )
    floor = as_of - dt.timedelta(days=BEHAVIOR_LOOKBACK_DAYS - 1)
    jobs = []
    for userid in userids:
        first = max(floor, last[userid] + dt.timedelta(days=1)) if last.get(userid) else floor
        if first <= as_of:
            jobs.append((userid, first))

    def fetch(job: tuple[str, dt.date]) -> list[dict[str, Any]]:
        userid, first = job
        return [{**row, "userid": userid} for row in client.behavior(userid, first, as_of)]

    with ThreadPoolExecutor(max_workers=client.max_concurrency) as pool:
        fetched = [row for rows in pool.map(fetch, jobs) for row in rows]
    fetched_at = now_local()
    frame = pl.DataFrame(
        [
            {
                "userid": r["userid"],
                "stat_date": dt.datetime.fromtimestamp(int(r["stat_time"]), SHANGHAI).date(),
                "new_apply_cnt": int(r.get("new_apply_cnt") or 0),
                "new_contact_cnt": int(r.get("new_contact_cnt") or 0),
                "chat_cnt": int(r.get("chat_cnt") or 0),
                "message_cnt": int(r.get("message_cnt") or 0),
                "reply_percentage": None
                if r.get("reply_percentage") is None
                else float(r["reply_percentage"]),
                "avg_reply_time": None if r.get("avg_reply_time") is None else float(r["avg_reply_time"]),
                "negative_feedback_cnt": int(r.get("negative_feedback_cnt") or 0),
                "fetched_at": fetched_at,
            }
            for r in fetched
        ],
        schema={
            "userid": pl.Utf8,
            "stat_date": pl.Date,
            "new_apply_cnt": pl.Int32,
            "new_contact_cnt": pl.Int32,
            "chat_cnt": pl.Int32,
            "message_cnt": pl.Int32,
            "reply_percentage": pl.Float64,
            "avg_reply_time": pl.Float64,
            "negative_feedback_cnt": pl.Int32,
            "fetched_at": pl.Datetime("us"),
        },
    )
    con.execute("BEGIN TRANSACTION")
    try:
        if frame.height:
            con.register("incoming", frame.to_arrow())
            con.execute(
                "DELETE FROM wechat.wecom_behavior_daily WHERE (userid, stat_date) IN "
                "(SELECT (userid, stat_date) FROM incoming)"
            )
            con.execute("INSERT INTO wechat.wecom_behavior_daily BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return {"consultants": len(jobs), "days": frame.height}


def sync_groupmsg_results(
    client: WecomClient, con: duckdb.DuckDBPyConnection, as_of: dt.date
) -> dict[str, int]:
    """Send results of the mass messages created in the last 90 days up to ``as_of``."""
    ensure_tables(con)
    until = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), SHANGHAI) - dt.timedelta(seconds=1)
    since = until - dt.timedelta(days=GROUPMSG_LOOKBACK_DAYS)
    msgs = client.groupmsgs(since, until)
    fetched_at = now_local()
    rows = []
    for msg in msgs:
        for task in client.groupmsg_tasks(msg["msgid"]):
            for result in client.groupmsg_send_results(msg["msgid"], task["userid"]):
                rows.append(
                    {
                        "msgid": msg["msgid"],
                        "creator": msg.get("creator") or None,
                        "create_time": local_ts(msg.get("create_time")),
                        "userid": result.get("userid") or task["userid"],
                        "external_userid": result.get("external_userid") or "",
                        "chat_id": result.get("chat_id") or None,
                        "status": int(result.get("status") or 0),
                        "send_time": local_ts(result.get("send_time")),
                        "fetched_at": fetched_at,
                    }
                )
    frame = pl.DataFrame(
        rows,
        schema={
            "msgid": pl.Utf8,
            "creator": pl.Utf8,
            "create_time": pl.Datetime("us"),
            "userid": pl.Utf8,
            "external_userid": pl.Utf8,
            "chat_id": pl.Utf8,
            "status": pl.Int32,
            "send_time": pl.Datetime("us"),
            "fetched_at": pl.Datetime("us"),
        },
    )
    msgids = [m["msgid"] for m in msgs]
    con.execute("BEGIN TRANSACTION")
    try:
        if msgids:
            con.register("msgids", pl.DataFrame({"msgid": msgids}).to_arrow())
            con.execute("DELETE FROM wechat.wecom_groupmsg_results WHERE msgid IN (SELECT msgid FROM msgids)")
            con.unregister("msgids")
        if frame.height:
            con.register("incoming", frame.to_arrow())
            con.execute("INSERT INTO wechat.wecom_groupmsg_results BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return {"messages": len(msgs), "results": frame.height}
