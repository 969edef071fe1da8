"""Two months of reminder lists on a generated OEM: the carried tasks of month 2 are exactly the
tasks the carry-over rules select from month 1, recomputed here in Python from the landed rows.

The session's generated OEM (tests/generated_oem.py: 3,000 vehicles through ``aftercare run``
the last complete month and then the one after it, with the simulator on loopback: ingestion,
OneID, WeChat sync, the real ``dbt build`` of both months, publish) is read from its warehouse.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest

from sources.scrub import sql_holds_personal_number
from sources.settings import RemindersConfig
from tests.generated_oem import AS_OF, MONTH, PREVIOUS_MONTH

pytestmark = pytest.mark.slow

RULES = RemindersConfig()
# the export's Chinese codes (SOURCES.md) of what the rules read, mapped here independently
CALL_TYPES = {
    "首保": "first_maintenance",
    "保养": "maintenance",
    "质保": "warranty",
    "保险": "insurance",
    "年审": "inspection",
    "生日": "birthday",
    "活动": "campaign",
}
MAINTENANCE_SERVICE_TYPES = ("首保", "定期保养")


@pytest.fixture(scope="module")
def two_months(two_month_oem) -> Path:
    return two_month_oem.warehouse


def read(warehouse: Path, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def test_the_first_month_starts_the_chain_with_every_reminder_type(two_months):
    months = read(
        two_months,
        "select month, is_chain_start, listed_tasks, carried_tasks from intermediate.int_reminder_months "
        "order by month",
    )
    assert months["is_chain_start"].to_list() == [True, False]
    assert months["carried_tasks"].to_list()[0] == 0 and min(months["listed_tasks"].to_list()) > 0
    types = set(read(two_months, "select distinct reminder_type from marts.reminders")["reminder_type"])
    assert {"first_maintenance", "maintenance", "warranty", "insurance", "inspection", "birthday"} <= types


def test_the_carried_tasks_of_month_2_are_exactly_those_the_rules_select_from_month_1(two_months):
    first = read(
        two_months,
        "select task_id, vin, reminder_type, channel, carry_months, valid_until, dealer_code, first_month "
        f"from marts.reminders where month = date '{PREVIOUS_MONTH}-01'",
    )
    # month 1's statuses as the run for month 2 knew them (cut-off AS_OF), from the landed rows
    cutoff = dt.date.fromisoformat(AS_OF)
    start, grace_end = (
        dt.date.fromisoformat(f"{PREVIOUS_MONTH}-01"),
        cutoff + dt.timedelta(days=RULES.return_grace_days),
    )
    calls = read(
        two_months, "select vin, reminder_type, result, duration_s, called_at from landing.reminder_calls"
    )
    calls = calls.with_columns(
        pl.col("reminder_type").replace_strict(CALL_TYPES, default=None),
        pl.col("called_at").cast(pl.Date).alias("called_on"),
    ).filter(pl.col("called_on").is_between(start, cutoff))
    per_task = calls.group_by("vin", "reminder_type").agg(
        pl.len().alias("calls"),
        ((pl.col("result") == "接通") & (pl.col("duration_s") >= RULES.reached_min_call_seconds))
        .any()
        .alias("reached"),
    )
    sends = read(
        two_months,
        f"select task_id, wechat_status from wechat.template_send_results where month = '{PREVIOUS_MONTH}'",
    )
    ros = read(two_months, "select vin, service_type, opened_at from landing.repair_orders").with_columns(
        pl.col("opened_at").cast(pl.Date).alias("opened_on")
    )
    ros = ros.filter(pl.col("opened_on").is_between(start, min(grace_end, cutoff)))
    any_return = ros.select("vin").unique().with_columns(pl.lit(True).alias("returned_any"))
    maintenance_return = (
        ros.filter(pl.col("service_type").is_in(MAINTENANCE_SERVICE_TYPES))
        .select("vin")
        .unique()
        .with_columns(pl.lit(True).alias("returned_maintenance"))
    )
    closed = read(two_months, "select task_id, action, decided_at from decisions.task_decisions")
    assert closed.height == 0  # nobody decided anything in a generated OEM

    judged = (
        first.join(per_task, on=["vin", "reminder_type"], how="left")
        .join(sends, on="task_id", how="left")
        .join(any_return, on="vin", how="left")
        .join(maintenance_return, on="vin", how="left")
        .with_columns(
            tracked=pl.col("calls").fill_null(0) > 0,
            reached=pl.col("reached").fill_null(False)
            | (pl.col("wechat_status") == "success").fill_null(False),
            returned=pl.when(pl.col("reminder_type").is_in(["first_maintenance", "maintenance"]))
            .then(pl.col("returned_maintenance").fill_null(False))
            .otherwise(pl.col("returned_any").fill_null(False)),
        )
        .with_columns(
            done=pl.when(pl.col("channel") == "wechat")
            .then(pl.col("tracked") & pl.col("returned"))
            .otherwise(pl.col("reached") & pl.col("returned")),
        )
    )
    carries = judged.filter(
        ~pl.col("done")
        & (pl.col("carry_months") < RULES.max_carry_months)
        & (pl.col("valid_until").is_null() | (pl.col("valid_until") >= dt.date.fromisoformat(f"{MONTH}-01")))
    )
    carried = read(
        two_months,
        "select task_id, carry_months, dealer_code, first_month from marts.reminders "
        f"where month = date '{MONTH}-01' and is_carried_over",
    )
    assert carries.height > 0 and judged.filter(pl.col("done")).height > 0  # both outcomes occur
    assert set(carried["task_id"]) == set(carries["task_id"])
    # a carried task keeps its dealer and first month and counts one more carry
    kept = carries.select(
        "task_id", "dealer_code", "first_month", (pl.col("carry_months") + 1).alias("carry_months")
    )
    assert kept.sort("task_id").rows() == carried.select(kept.columns).sort("task_id").rows()


def test_month_1s_rows_record_what_the_rule_made_of_them(two_months):
    outcomes = read(
        two_months,
        "select carry_outcome, count(*) as tasks from marts.reminders "
        f"where month = date '{PREVIOUS_MONTH}-01' group by all",
    )
    assert set(outcomes["carry_outcome"]) <= {"carried", "done", "window_passed", "max_carry", "closed"}
    assert None not in set(outcomes["carry_outcome"])


def test_no_plaintext_mobile_or_id_number_in_the_list(two_months):
    con = duckdb.connect(str(two_months), read_only=True)
    try:
        columns = [
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'marts' and "
                "table_name = 'reminders'"
            ).fetchall()
        ]
        for column in columns:
            hits = con.execute(
                "select count(*) from marts.reminders "
                f"where {sql_holds_personal_number(f'cast({chr(34)}{column}{chr(34)} as varchar)')}"
            ).fetchone()[0]
            assert hits == 0, column
    finally:
        con.close()
