"""Incremental follower sync: the full openid list every day, user info only for what changed.

1. *list*: page through ``user/get`` into ``wechat.oa_follower_scan``; the next_openid to resume
   from is saved after every page in ``wechat.sync_cursors``.
2. *plan*: openids to (re)fetch = new in the list, or named by a subscribe/unsubscribe callback
   event since the last completed sync (a follower who left and came back between two runs is only
   visible there). Saved in ``wechat.oa_userinfo_queue``. Followers gone from the list are marked
   unsubscribed without a call (user info of an unsubscribed openid says only ``subscribe: 0``; the
   last known details are kept), unless implausibly many are gone at once (``GONE_VERIFY_SHARE``):
   then they are asked for, so a list cut short by the server cannot unsubscribe half the account.
   A month where 5 % of followers changed costs the list pages plus user info for the new ones:
   ~4 % of a full pull's calls (docs/wechat.md).
3. *info*: ``user/info/batchget`` 100 at a time, ``max_concurrency`` in flight; every wave is
   written and removed from the queue before the next, so a quota stop loses nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from assets.wechat.tables import ensure_tables, local_ts, read_cursor, save_cursor, table_exists
from sources.clock import now_local
from sources.wechat import OfficialAccountClient

CURSOR = "oa_followers"
WAVE = 5000  # openids per written wave of user-info calls
# more than this share of the subscribed followers gone from one list: verify them by user info
GONE_VERIFY_SHARE = 0.10


@dataclass
class SyncReport:
    listed: int = 0
    new: int = 0
    gone: int = 0
    from_events: int = 0
    fetched: int = 0
    info_calls: int = 0
    list_pages: int = 0
    resumed: bool = False
    notes: list[str] = field(default_factory=list)


def plan_refetch(
    listed: set[str], previous_subscribed: set[str], event_openids: set[str]
) -> dict[str, set[str]]:
    """Which openids need user info: the rule of an incremental daily sync (pure)."""
    new = listed - previous_subscribed
    gone = previous_subscribed - listed
    return {"new": new, "gone": gone, "events": event_openids - new - gone}


def _cursor(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    return read_cursor(con, CURSOR) or {"phase": "idle"}


def _save_cursor(con: duckdb.DuckDBPyConnection, state: dict[str, Any]) -> None:
    save_cursor(con, CURSOR, state.get("next_openid", ""), state, now_local())


def _event_openids(con: duckdb.DuckDBPyConnection, since: str | None) -> set[str]:
    if not table_exists(con, "wechat", "callback_events"):
        return set()
    query = "SELECT DISTINCT openid FROM wechat.callback_events WHERE event IN ('subscribe', 'unsubscribe')"
    params: list[Any] = []
    if since:
        query += " AND received_at >= ?"
        params.append(dt.datetime.fromisoformat(since))
    return {r[0] for r in con.execute(query, params).fetchall() if r[0]}


def _follower_rows(infos: dict[str, dict[str, Any]], fetched_at: dt.datetime) -> pl.DataFrame:
    rows = []
    for openid, info in infos.items():
        subscribed = int(info.get("subscribe", 0) or 0) == 1
        rows.append(
            {
                "openid": openid,
                "unionid": info.get("unionid") or None,
                "subscribe": subscribed,
                "subscribe_time": local_ts(info.get("subscribe_time")) if subscribed else None,
                "subscribe_scene": info.get("subscribe_scene") if subscribed else None,
                "qr_scene_str": info.get("qr_scene_str") if subscribed else None,
                "tagid_list": [int(t) for t in info.get("tagid_list") or []] if subscribed else None,
                "fetched_at": fetched_at,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "openid": pl.Utf8,
            "unionid": pl.Utf8,
            "subscribe": pl.Boolean,
            "subscribe_time": pl.Datetime("us"),
            "subscribe_scene": pl.Utf8,
            "qr_scene_str": pl.Utf8,
            "tagid_list": pl.List(pl.Int32),
            "fetched_at": pl.Datetime("us"),
        },
    )


def _write_infos(
    con: duckdb.DuckDBPyConnection, requested: list[str], infos: dict[str, dict[str, Any]]
) -> None:
    """Upsert followers; an unsubscribed answer keeps the last known subscription details."""
    frame = _follower_rows(infos, now_local())
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("fetched", frame.to_arrow())
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE merged AS
            SELECT f.openid,
                   coalesce(f.unionid, o.unionid) AS unionid,
                   f.subscribe,
                   CASE WHEN f.subscribe THEN f.subscribe_time ELSE o.subscribe_time END AS subscribe_time,
                   CASE WHEN f.subscribe THEN f.subscribe_scene ELSE o.subscribe_scene END AS subscribe_scene,
                   CASE WHEN f.subscribe THEN f.qr_scene_str ELSE o.qr_scene_str END AS qr_scene_str,
                   CASE WHEN f.subscribe THEN f.tagid_list ELSE o.tagid_list END AS tagid_list,
                   f.fetched_at
            FROM fetched f LEFT JOIN wechat.oa_followers o USING (openid)
            """
        )
        con.execute("DELETE FROM wechat.oa_followers WHERE openid IN (SELECT openid FROM merged)")
        con.execute(
            "INSERT INTO wechat.oa_followers SELECT openid, unionid, subscribe, subscribe_time, "
            "subscribe_scene, qr_scene_str, tagid_list, fetched_at FROM merged"
        )
        con.register("done", pl.DataFrame({"openid": requested}).to_arrow())
        con.execute("DELETE FROM wechat.oa_userinfo_queue WHERE openid IN (SELECT openid FROM done)")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("fetched")
        con.unregister("done")


def sync_followers(
    client: OfficialAccountClient,
    con: duckdb.DuckDBPyConnection,
    log: Callable[[str], None] = lambda message: None,
) -> SyncReport:
    """Run (or resume) one follower sync; raises the client's error after saving progress."""
    ensure_tables(con)
    report = SyncReport()
    state = _cursor(con)
    report.resumed = state.get("phase") in ("list", "info")
    if state.get("phase") not in ("list", "info"):
        con.execute("DELETE FROM wechat.oa_follower_scan")
        state = {
            "phase": "list",
            "next_openid": "",
            "started_at": now_local().isoformat(),
            "last_completed": state.get("last_completed"),
        }
        _save_cursor(con, state)

    if state["phase"] == "list":
        if report.resumed:
            log(f"resuming the follower list after next_openid {state['next_openid']!r}")
        for page in client.iter_follower_pages(state["next_openid"]):
            con.execute("BEGIN TRANSACTION")
            con.register("page", pl.DataFrame({"openid": page.openids}).to_arrow())
            con.execute("INSERT INTO wechat.oa_follower_scan SELECT openid FROM page")
            con.unregister("page")
            state["next_openid"] = page.resume_from
            _save_cursor(con, state)
            con.execute("COMMIT")
            report.list_pages += 1
        listed = {r[0] for r in con.execute("SELECT DISTINCT openid FROM wechat.oa_follower_scan").fetchall()}
        previous = {
            r[0] for r in con.execute("SELECT openid FROM wechat.oa_followers WHERE subscribe").fetchall()
        }
        plan = plan_refetch(listed, previous, _event_openids(con, state.get("last_completed")))
        verify_gone = len(plan["gone"]) > GONE_VERIFY_SHARE * max(1, len(previous))
        queue = sorted(plan["new"] | plan["events"] | (plan["gone"] if verify_gone else set()))
        if verify_gone:
            log(f"{len(plan['gone'])} of {len(previous)} followers gone from the list: verifying each")
        report.listed, report.new, report.gone, report.from_events = (
            len(listed),
            len(plan["new"]),
            len(plan["gone"]),
            len(plan["events"]),
        )
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM wechat.oa_userinfo_queue")
        con.register("queue", pl.DataFrame({"openid": queue}, schema={"openid": pl.Utf8}).to_arrow())
        con.execute("INSERT INTO wechat.oa_userinfo_queue SELECT openid FROM queue")
        con.unregister("queue")
        if not verify_gone and plan["gone"]:
            con.register("gone", pl.DataFrame({"openid": sorted(plan["gone"])}).to_arrow())
            con.execute(
                "UPDATE wechat.oa_followers SET subscribe = false, fetched_at = ? "
                "WHERE openid IN (SELECT openid FROM gone)",
                [now_local()],
            )
            con.unregister("gone")
        state.update(phase="info", listed=len(listed), planned=len(queue))
        _save_cursor(con, state)
        con.execute("COMMIT")
        log(
            f"{len(listed)} followers listed; user info needed for {len(queue)} "
            f"({report.new} new, {report.gone} gone, {report.from_events} from events)"
        )

    while True:
        wave = [
            r[0]
            for r in con.execute(
                "SELECT openid FROM wechat.oa_userinfo_queue ORDER BY openid LIMIT ?", [WAVE]
            ).fetchall()
        ]
        if not wave:
            break
        result = client.user_infos(wave)
        report.info_calls += result.calls
        report.fetched += len(result.infos)
        done = [o for o in wave if o in result.infos] if result.error else wave
        if done:
            _write_infos(con, done, {o: result.infos[o] for o in done if o in result.infos})
        if result.error is not None:
            left = con.execute("SELECT count(*) FROM wechat.oa_userinfo_queue").fetchall()[0][0]
            report.notes.append(f"stopped with {left} openids still to fetch")
            raise result.error

    con.execute("DELETE FROM wechat.oa_follower_scan")
    _save_cursor(
        con,
        {
            "phase": "idle",
            "next_openid": "",
            "last_completed": state.get("started_at"),
            "listed": state.get("listed"),
            "planned": state.get("planned"),
        },
    )
    return report
