"""WeCom consultant behaviour per day, pulled within a per-run call budget and resumed by a cursor.

``get_user_behavior_data`` answers at most 30 days per call and sums over every userid it is given,
so the pull costs one call per consultant and 30-day window: a first backfill of the 180 days the API
serves is 6 calls per consultant (~72,000 at M), a daily increment 1, a monthly one 1-2.

The cursor (``wechat.wecom_behavior_cursor``) holds, per consultant, the contiguous range of days
already fetched (``fetched_from`` .. ``fetched_through``). A run plans its windows from it, newest
first: the days after ``fetched_through`` up to the run's ``as_of`` (what the month's KPIs need), then
the days before ``fetched_from`` back to the 180-day floor. Windows are fetched in waves; each wave's
rows and the cursor ranges it extends are committed together, so a run stopped by its budget (or by an
error) loses nothing and the next run never asks for a window twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from assets.wechat.tables import ensure_tables
from sources.clock import SHANGHAI, now_local
from sources.wechat import BackfillInProgress, BudgetSpent, WecomClient
from sources.wechat.wecom import BEHAVIOR_DAYS

BEHAVIOR_LOOKBACK_DAYS = 180  # the API serves at most the last 180 days
WAVE = 2000  # windows per committed wave


@dataclass(frozen=True)
class Window:
    userid: str
    first: dt.date
    last: dt.date


def plan_windows(
    userids: list[str],
    fetched: dict[str, tuple[dt.date, dt.date]],
    as_of: dt.date,
    lookback_days: int = BEHAVIOR_LOOKBACK_DAYS,
    window_days: int = BEHAVIOR_DAYS,
) -> list[Window]:
    """The windows still to fetch, in the order to fetch them (pure).

    Per consultant: forward from the day after ``fetched_through`` to ``as_of`` (oldest window first,
    so the fetched range stays contiguous), then backward from the day before ``fetched_from`` to the
    floor (newest first). A consultant never fetched, or whose range ends before the floor, starts
    with the window ending at ``as_of``. Over consultants the windows are interleaved round by round,
    all forward rounds before any backward one: a run cut short by its budget has the most recent
    days of as many consultants as possible.
    """
    floor = as_of - dt.timedelta(days=lookback_days - 1)
    span = dt.timedelta(days=window_days - 1)
    day = dt.timedelta(days=1)
    forward: list[list[Window]] = []
    backward: list[list[Window]] = []
    for userid in userids:
        ahead: list[Window] = []
        behind: list[Window] = []
        known = fetched.get(userid)
        if known is None or known[1] + day < floor:
            # nothing usable yet: the newest window first, then back to the floor
            first = max(floor, as_of - span)
            ahead.append(Window(userid, first, as_of))
            low = first
        else:
            low, high = known
            start = high + day
            while start <= as_of:
                end = min(as_of, start + span)
                ahead.append(Window(userid, start, end))
                start = end + day
        while low - day >= floor:
            end = low - day
            start = max(floor, end - span)
            behind.append(Window(userid, start, end))
            low = start
        forward.append(ahead)
        backward.append(behind)
    return _interleave(forward) + _interleave(backward)


def _interleave(per_user: list[list[Window]]) -> list[Window]:
    out: list[Window] = []
    rounds = max((len(w) for w in per_user), default=0)
    for r in range(rounds):
        out.extend(w[r] for w in per_user if r < len(w))
    return out


def extend_range(
    known: tuple[dt.date, dt.date] | None, windows: list[Window]
) -> tuple[dt.date, dt.date] | None:
    """``known`` grown by the windows adjacent to it (pure); a window that is not adjacent is left
    out (its rows are stored, the cursor does not claim it, and a later run asks for it again)."""
    day = dt.timedelta(days=1)
    pending = sorted(windows, key=lambda w: w.first)
    if known is None:
        if not pending:
            return None
        # a consultant's first windows: anchored on the newest (the plan fetches it first)
        newest = pending.pop()
        known = (newest.first, newest.last)
    low, high = known
    grown = True
    while grown:
        grown = False
        for w in list(pending):
            if w.first <= high + day and w.last > high:
                high, grown = w.last, True
            elif w.last >= low - day and w.first < low:
                low, grown = w.first, True
            elif low <= w.first and w.last <= high:
                pass
            else:
                continue
            pending.remove(w)
    return low, high


def _cursors(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[dt.date, dt.date]]:
    """The cursor per consultant; for a warehouse from before the cursor, the stored days' range."""
    rows = con.execute(
        "SELECT userid, fetched_from, fetched_through FROM wechat.wecom_behavior_cursor"
    ).fetchall()
    cursors = {r[0]: (r[1], r[2]) for r in rows}
    if not cursors:
        legacy = con.execute(
            "SELECT userid, min(stat_date), max(stat_date) FROM wechat.wecom_behavior_daily GROUP BY userid"
        ).fetchall()
        cursors = {r[0]: (r[1], r[2]) for r in legacy}
    return cursors


BEHAVIOR_SCHEMA = {
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
}


def _behavior_frame(fetched: list[dict[str, Any]], fetched_at: dt.datetime) -> pl.DataFrame:
    def number(value, kind):
        return None if value is None else kind(value)

    return pl.DataFrame(
        [
            {
                "userid": r["userid"],
                "stat_date": dt.datetime.fromtimestamp(int(r["stat_time"]), SHANGHAI).date(),
                "new_apply_cnt": int(r.get("new_apply_cnt") or 0),
                "new_contact_cnt": int(r.get("new_contact_cnt") or 0),
                "chat_cnt": int(r.get("chat_cnt") or 0),
                "message_cnt": int(r.get("message_cnt") or 0),
                "reply_percentage": number(r.get("reply_percentage"), float),
                "avg_reply_time": number(r.get("avg_reply_time"), float),
                "negative_feedback_cnt": int(r.get("negative_feedback_cnt") or 0),
                "fetched_at": fetched_at,
            }
            for r in fetched
        ],
        schema=BEHAVIOR_SCHEMA,
    )


def _commit_wave(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    ranges: dict[str, tuple[dt.date, dt.date]],
) -> None:
    """The wave's rows and the cursor ranges they extend, in one transaction."""
    cursor = pl.DataFrame(
        {
            "userid": list(ranges),
            "fetched_from": [r[0] for r in ranges.values()],
            "fetched_through": [r[1] for r in ranges.values()],
            "updated_at": [now_local()] * len(ranges),
        },
        schema={
            "userid": pl.Utf8,
            "fetched_from": pl.Date,
            "fetched_through": pl.Date,
            "updated_at": pl.Datetime("us"),
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
        if cursor.height:
            con.register("cursor_rows", cursor.to_arrow())
            con.execute(
                "DELETE FROM wechat.wecom_behavior_cursor WHERE userid IN (SELECT userid FROM cursor_rows)"
            )
            con.execute("INSERT INTO wechat.wecom_behavior_cursor BY NAME SELECT * FROM cursor_rows")
            con.unregister("cursor_rows")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def sync_behavior(
    client: WecomClient,
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    log: Callable[[str], None] = lambda message: None,
    userids: list[str] | None = None,
) -> dict[str, int]:
    """Daily statistics up to ``as_of`` for every consultant, within the client's call budget.

    The consultants are ``userids`` when given (the list this run's contacts pull just fetched),
    else the ones ``wechat.wecom_follow_users`` holds.

    Raises ``BackfillInProgress`` (after committing everything fetched) when the budget ends the run
    with windows left; any other error after committing the waves already done.
    """
    ensure_tables(con)
    if userids is None:
        userids = [r[0] for r in con.execute("SELECT userid FROM wechat.wecom_follow_users").fetchall()]
    userids = sorted(set(userids))
    cursors = _cursors(con)
    plan = plan_windows(userids, cursors, as_of)
    if client.budget is not None:
        client.budget.planned = len(plan)
    log(f"WeCom behaviour: {len(plan)} windows to fetch for {len(userids)} consultants up to {as_of}")
    done = days = 0
    consultants = {w.userid for w in plan}
    while done < len(plan):
        allowed = len(plan) - done if client.budget is None else client.budget.left
        wave = plan[done : done + min(WAVE, allowed)]
        if not wave:
            break
        fetched, completed, error = _fetch_wave(client, wave, as_of)
        by_user: dict[str, list[Window]] = {}
        for w in completed:
            by_user.setdefault(w.userid, []).append(w)
        ranges = {}
        for userid, windows in by_user.items():
            grown = extend_range(cursors.get(userid), windows)
            if grown is not None:
                cursors[userid] = ranges[userid] = grown
        frame = _behavior_frame(fetched, now_local())
        _commit_wave(con, frame, ranges)
        done += len(wave)
        days += frame.height
        if error is not None and not isinstance(error, BudgetSpent):
            raise error
        if error is not None:
            done -= len(wave) - len(completed)
            break
    left = len(plan) - done
    counts = {"consultants": len(consultants), "windows": done, "windows_left": left, "days": days}
    if left:
        raise BackfillInProgress(
            f"{done} of {len(plan)} behaviour windows (30 days of one consultant each) fetched this run, "
            f"{left} left for the next run (wecom.call_budget)",
            done,
            left,
        )
    return counts


def _fetch_wave(
    client: WecomClient, wave: list[Window], as_of: dt.date
) -> tuple[list[dict[str, Any]], list[Window], Exception | None]:
    """Fetch a wave's windows ``max_concurrency`` at a time; keeps what succeeded before an error."""

    def fetch(w: Window) -> list[dict[str, Any]]:
        return [{**row, "userid": w.userid} for row in client.behavior(w.userid, w.first, w.last)]

    rows: list[dict[str, Any]] = []
    completed: list[Window] = []
    error: Exception | None = None
    with ThreadPoolExecutor(max_workers=client.max_concurrency) as pool:
        futures = [(w, pool.submit(fetch, w)) for w in wave]
        for w, future in futures:
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - reported after the wave's successes are kept
                error = error or exc
                continue
            rows.extend(result)
            completed.append(w)
    return rows, completed, error
