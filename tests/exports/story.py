"""A hand-made month of reminders for two months and three dealers, as the published table holds it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

M = dt.date(2026, 11, 1)  # the month being prepared
PREVIOUS = dt.date(2026, 10, 1)  # the month just ended

SCHEMA = {
    "month": pl.Date, "task_id": pl.Utf8, "oneid": pl.Utf8, "vin": pl.Utf8, "dealer_code": pl.Utf8,
    "reminder_type": pl.Utf8, "due_date": pl.Date, "channel": pl.Utf8, "is_carried_over": pl.Boolean,
    "carry_months": pl.Int32, "wechat_status": pl.Utf8, "tracked": pl.Boolean, "reached": pl.Boolean,
    "returned": pl.Boolean, "closed_reason": pl.Utf8, "cycle": pl.Utf8, "region": pl.Utf8,
    "dealer_name": pl.Utf8, "first_month": pl.Date, "valid_until": pl.Date, "is_sticker_only": pl.Boolean,
    "is_usage_assumed": pl.Boolean, "campaign_code": pl.Utf8, "model_name": pl.Utf8,
    "owner_name_masked": pl.Utf8, "owner_mobile_masked": pl.Utf8, "owner_mobile_enc": pl.Utf8,
    "contacted": pl.Boolean, "calls": pl.Int32, "returned_dealer_code": pl.Utf8,
    "returned_same_dealer": pl.Boolean, "returned_at": pl.Datetime("us"), "closed_by": pl.Utf8,
    "closed_at": pl.Datetime("us"), "carry_outcome": pl.Utf8, "status_as_of": pl.Date, "is_final": pl.Boolean,
    "list_as_of": pl.Date,
}  # fmt: skip

D = dt.date


def task(
    key, month, dealer, rtype, due, *, carried=0, channel="phone", wechat="not_sent", tracked=False,
    reached=False, returned=False, closed=None, first=None, sticker=False, assumed=False, campaign=None,
):  # fmt: skip
    return {
        "month": month, "task_id": f"task{key}0000000000"[:16], "oneid": f"OID00000000000{key}"[:15],
        "vin": f"LSVAB4BG5NN00000{key}"[:17], "dealer_code": dealer, "reminder_type": rtype, "due_date": due,
        "channel": channel, "is_carried_over": carried > 0, "carry_months": carried, "wechat_status": wechat,
        "tracked": tracked, "reached": reached, "returned": returned, "closed_reason": closed,
        "cycle": due.strftime("%Y-%m"), "region": "华东", "dealer_name": f"{dealer} 4S店",
        "first_month": first or month, "valid_until": D(due.year, due.month, 28), "is_sticker_only": sticker,
        "is_usage_assumed": assumed, "campaign_code": campaign, "model_name": "星途 S7",
        "owner_name_masked": "张*", "owner_mobile_masked": "138****5678",
        "owner_mobile_enc": "c2VjcmV0LWNpcGhlcg==",
        "contacted": tracked or wechat in ("sent", "success"), "calls": 1 if tracked else 0,
        "returned_dealer_code": dealer if returned else None, "returned_same_dealer": returned or None,
        "returned_at": dt.datetime(2026, 10, 20, 10) if returned else None,
        "closed_by": "wang.li" if closed else None,
        "closed_at": dt.datetime(2026, 10, 30) if closed else None,
        "carry_outcome": None, "status_as_of": D(2026, 10, 31), "is_final": False,
        "list_as_of": month - dt.timedelta(days=1),
    }  # fmt: skip


def story_rows() -> pl.DataFrame:
    rows = [
        # month M (2026-11)
        task("a", M, "D001", "maintenance", D(2026, 11, 15)),
        task("b", M, "D001", "insurance", D(2026, 11, 3), carried=1, first=PREVIOUS, channel="wechat"),
        task("c", M, "D001", "warranty", D(2026, 12, 9), closed="sold"),
        task("d", M, "D002", "birthday", D(2026, 11, 30)),
        # month M-1 (2026-10), statuses at its end
        task("e", PREVIOUS, "D001", "maintenance", D(2026, 10, 2), tracked=True),
        task(
            "f",
            PREVIOUS,
            "D001",
            "inspection",
            D(2026, 10, 31),
            channel="wechat",
            wechat="success",
            reached=True,
            returned=True,
            sticker=True,
            assumed=True,
        ),  # fmt: skip
        task(
            "g",
            PREVIOUS,
            "D001",
            "campaign",
            D(2026, 10, 31),
            tracked=True,
            reached=True,
            returned=True,
            campaign="CP2026A",
        ),  # fmt: skip
        task("h", PREVIOUS, "D003", "first_maintenance", D(2026, 10, 12)),
        task("i", PREVIOUS, "D002", "insurance", D(2026, 11, 5), closed="moved"),
        # an older month: never in this month's files
        task("j", D(2026, 9, 1), "D004", "maintenance", D(2026, 9, 9)),
    ]
    return pl.DataFrame(rows, schema=SCHEMA)


def task_id(key: str) -> str:
    return f"task{key}0000000000"[:16]


def write_serving(path: Path, rows: pl.DataFrame, published_month: str = "2026-11") -> Path:
    """A published serving.duckdb holding ``rows`` as ``reminders`` and a publish_log."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.register("story", rows.to_arrow())
        con.execute("create or replace table reminders as select * from story")
        con.execute(
            "create or replace table publish_log as select 'run' as run_id, ? as month, "
            "'2026-10-31' as as_of_date, '2026-10-31T20:30:00' as published_at",
            [published_month],
        )
    finally:
        con.close()
    return path
