"""When the month-end run takes the nightly pull's contacts snapshot instead of its own
(assets/wechat/wecom_sync.py ``reusable_snapshot``, docs/wechat.md "Daily WeCom pull")."""

import datetime as dt

import duckdb
import pytest

from assets.wechat.tables import ensure_tables
from assets.wechat.wecom_sync import (
    DAILY_PULL,
    MONTH_END_RUN,
    SNAPSHOT_CURSOR,
    StoredSnapshot,
    reusable_snapshot,
    stored_snapshot,
)

CUT_OFF = dt.date(2026, 11, 30)


def snapshot(through: dt.date, taken_by: str = DAILY_PULL) -> StoredSnapshot:
    return StoredSnapshot(through, taken_by, dt.datetime(2026, 11, 30, 3, 0), 10, 400, 380)


@pytest.mark.parametrize(
    ("stored", "max_age", "daily_pull", "reused"),
    [
        (snapshot(dt.date(2026, 11, 29)), 1, False, True),  # the last night's
        (snapshot(dt.date(2026, 11, 30)), 1, False, True),  # the night after (a rerun on the 1st)
        (snapshot(dt.date(2026, 11, 28)), 1, False, False),  # two nights old
        (snapshot(dt.date(2026, 11, 28)), 2, False, True),
        (snapshot(dt.date(2026, 12, 1)), 3, False, False),  # taken after the cut-off: not this month's
        (snapshot(dt.date(2026, 11, 29)), 0, False, False),  # 0: never
        (snapshot(dt.date(2026, 11, 30), MONTH_END_RUN), 1, False, False),  # a month-end run's
        (snapshot(dt.date(2026, 11, 29)), 1, True, False),  # the nightly pull always takes its own
        (None, 1, False, False),
    ],
)
def test_only_a_recent_nightly_snapshot_is_reused_and_only_by_the_month_end_run(
    stored, max_age, daily_pull, reused
):
    assert reusable_snapshot(stored, CUT_OFF, max_age, daily_pull=daily_pull) is reused


def test_an_unreadable_record_means_a_fresh_snapshot_not_a_failed_month():
    con = duckdb.connect()
    ensure_tables(con)
    assert stored_snapshot(con) is None
    con.execute(
        "INSERT INTO wechat.sync_cursors VALUES (?, '2026-11-29', ?, now())",
        [SNAPSHOT_CURSOR, '{"through": "2026-11-29"}'],
    )
    assert stored_snapshot(con) is None
