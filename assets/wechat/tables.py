"""The ``wechat`` warehouse schema (docs/architecture.md "WeChat / WeCom tables").

Timestamps are naive Beijing local time, like the dealer exports. Keys are kept by the writers
(delete + insert in one transaction) rather than by PRIMARY KEY constraints, which DuckDB does not
allow to update on tables with LIST columns.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb

from sources.clock import SHANGHAI

DDL = [
    "CREATE SCHEMA IF NOT EXISTS wechat",
    """CREATE TABLE IF NOT EXISTS wechat.oa_followers (
        openid VARCHAR NOT NULL, unionid VARCHAR, subscribe BOOLEAN, subscribe_time TIMESTAMP,
        subscribe_scene VARCHAR, qr_scene_str VARCHAR, tagid_list INTEGER[], fetched_at TIMESTAMP)""",
    # the follower-list scan in progress and the openids whose user info is still to fetch:
    # together with sync_cursors they let a run cut off by the daily quota resume where it stopped
    "CREATE TABLE IF NOT EXISTS wechat.oa_follower_scan (openid VARCHAR NOT NULL)",
    "CREATE TABLE IF NOT EXISTS wechat.oa_userinfo_queue (openid VARCHAR NOT NULL)",
    """CREATE TABLE IF NOT EXISTS wechat.sync_cursors (
        name VARCHAR NOT NULL, cursor VARCHAR, state JSON, updated_at TIMESTAMP)""",
    "CREATE TABLE IF NOT EXISTS wechat.wecom_follow_users (userid VARCHAR NOT NULL, fetched_at TIMESTAMP)",
    """CREATE TABLE IF NOT EXISTS wechat.wecom_external_contacts (
        external_userid VARCHAR NOT NULL, follow_userid VARCHAR NOT NULL, unionid VARCHAR,
        name_masked VARCHAR, createtime TIMESTAMP, add_way INTEGER, state VARCHAR,
        remark_mobile_hmacs VARCHAR[], fetched_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS wechat.wecom_behavior_daily (
        userid VARCHAR NOT NULL, stat_date DATE NOT NULL, new_apply_cnt INTEGER, new_contact_cnt INTEGER,
        chat_cnt INTEGER, message_cnt INTEGER, reply_percentage DOUBLE, avg_reply_time DOUBLE,
        negative_feedback_cnt INTEGER, fetched_at TIMESTAMP)""",
    # per consultant, the contiguous range of days fetched: the behaviour backfill's cursor
    """CREATE TABLE IF NOT EXISTS wechat.wecom_behavior_cursor (
        userid VARCHAR NOT NULL, fetched_from DATE, fetched_through DATE, updated_at TIMESTAMP)""",
    # the mass messages listed so far and each member's send task: results fetched after the
    # member sent (status 2) are final; a message whose results are all final is never fetched again
    """CREATE TABLE IF NOT EXISTS wechat.wecom_groupmsgs (
        msgid VARCHAR NOT NULL, creator VARCHAR, create_time TIMESTAMP, listed_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS wechat.wecom_groupmsg_tasks (
        msgid VARCHAR NOT NULL, userid VARCHAR NOT NULL, status INTEGER, send_time TIMESTAMP,
        results_fetched BOOLEAN, fetched_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS wechat.wecom_groupmsg_results (
        msgid VARCHAR NOT NULL, creator VARCHAR, create_time TIMESTAMP, userid VARCHAR NOT NULL,
        external_userid VARCHAR NOT NULL, chat_id VARCHAR, status INTEGER, send_time TIMESTAMP,
        fetched_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS wechat.callback_events (
        event_id VARCHAR NOT NULL, event VARCHAR, openid VARCHAR, msg_id VARCHAR, status VARCHAR,
        event_time TIMESTAMP, received_at TIMESTAMP, raw JSON)""",
    """CREATE TABLE IF NOT EXISTS wechat.template_send_log (
        task_id VARCHAR NOT NULL, month VARCHAR NOT NULL, openid VARCHAR, client_msg_id VARCHAR NOT NULL,
        msgid VARCHAR, sent_at TIMESTAMP, result VARCHAR, error VARCHAR)""",
    # added after the first release: the error of a send whose answer was lost or refused
    "ALTER TABLE wechat.template_send_log ADD COLUMN IF NOT EXISTS error VARCHAR",
    # added later: the cut-off of the pull that last asked a mass message's tasks (the weekly
    # re-ask of an old message a member has not sent, wecom_groupmsgs.py)
    "ALTER TABLE wechat.wecom_groupmsgs ADD COLUMN IF NOT EXISTS tasks_checked_through DATE",
]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def read_cursor(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any] | None:
    """The ``state`` of a pull's row in ``wechat.sync_cursors``, or None when it has none."""
    rows = con.execute("SELECT state FROM wechat.sync_cursors WHERE name = ?", [name]).fetchall()
    return json.loads(rows[0][0]) if rows and rows[0][0] else None


def save_cursor(
    con: duckdb.DuckDBPyConnection, name: str, cursor: str, state: dict[str, Any], updated_at: dt.datetime
) -> None:
    """Replace a pull's row in ``wechat.sync_cursors``; inside the caller's transaction, if any."""
    con.execute("DELETE FROM wechat.sync_cursors WHERE name = ?", [name])
    con.execute(
        "INSERT INTO wechat.sync_cursors VALUES (?, ?, ?, ?)", [name, cursor, json.dumps(state), updated_at]
    )


def local_ts(unix: int | float | str | None) -> dt.datetime | None:
    """Unix seconds -> naive Beijing local time."""
    if unix is None or unix == "":
        return None
    return dt.datetime.fromtimestamp(int(unix), SHANGHAI).replace(tzinfo=None)


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchall()  # fetchall: a half-read result blocks the connection in DuckDB 2
    return bool(row and row[0][0])
