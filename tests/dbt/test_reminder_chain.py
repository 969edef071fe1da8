"""Reminder lists month after month on the hand-made story of reminder_story.py, real ``dbt build``s.

Four monthly runs (2026-09 to 2026-12, each as of the last day of the month before), then two
reruns, built once for this module and test_kpis_on_reminder_story.py (``reminder_story_runs`` in
tests/dbt/conftest.py). The first, 2026-11 and the last run ``dbt build`` (every data test); the
others ``dbt run`` the monthly models and their parents, which is what changes with the month.
The single-model rules have dbt unit tests (models/intermediate/reminders/_reminders__unit_tests.yml);
here are the chains: what a month's statuses make of the next list, how statuses turn final, and
that reruns change nothing.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from tests.dbt.conftest import query
from tests.dbt.reminder_story import (
    MONTHS,
    V_ANON,
    V_CALL,
    V_CLOSE,
    V_LOST,
    V_MAX,
    V_NAT,
    V_NEW18,
    V_OLD15,
    V_REOPEN,
    V_RESALE,
    V_WAR,
    V_WIN,
    V_WX,
    task_id,
)

# every table of the chain, to compare whole after a rerun
CHAIN_TABLES = [
    "intermediate.int_reminder_lists",
    "intermediate.int_reminder_statuses",
    "intermediate.int_reminder_months",
    "marts.reminders",
]
LAST = MONTHS[-1]


OCTOBER = dt.date(2026, 10, 1)


def snapshot(warehouse) -> dict[str, list]:
    """Every chain table's rows (sorted), and the mart's as dicts under "mart"."""
    tables = {table: query(warehouse, f"select * from {table} order by all") for table in CHAIN_TABLES}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cursor = con.execute("select * from marts.reminders order by month, task_id")
        names = [d[0] for d in cursor.description]
        tables["mart"] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    return tables


@pytest.fixture(scope="module")
def chain(reminder_story_runs):
    """The warehouse after the four runs and the reruns, the tables after each run, and after a
    rerun of 2026-11 and of 2026-12 (tests/dbt/conftest.py ``reminder_story_runs``)."""
    after = {month: snapshot(copy) for month, copy in reminder_story_runs.after.items()}
    reruns = {month: snapshot(copy) for month, copy in reminder_story_runs.rerun.items()}
    return reminder_story_runs.warehouse, after, reruns


COLUMNS = (
    "month::varchar, is_carried_over, carry_months, channel, oneid, dealer_code, due_date::varchar, "
    "wechat_status, tracked, reached, contacted, returned, returned_dealer_code, returned_same_dealer, "
    "closed_reason, carry_outcome, is_final"
)


def rows_of(warehouse, tid: str) -> list[dict]:
    names = [c.strip().split("::")[0] for c in COLUMNS.split(",")]
    rows = query(warehouse, f"select {COLUMNS} from marts.reminders where task_id = '{tid}' order by month")
    return [dict(zip(names, row, strict=True)) for row in rows]


def months_and_carries(warehouse, tid: str) -> list[tuple]:
    return [(r["month"], r["carry_months"], r["carry_outcome"]) for r in rows_of(warehouse, tid)]


def test_the_first_run_starts_the_chain_and_the_next_ones_continue_it(chain):
    warehouse, _, _ = chain
    months = query(
        warehouse,
        "select month::varchar, list_as_of::varchar, is_chain_start, listed_tasks, new_tasks + carried_tasks "
        "from intermediate.int_reminder_months order by month",
    )
    assert [(m, a, s) for m, a, s, _, _ in months] == [
        ("2026-09-01", "2026-08-31", True),
        ("2026-10-01", "2026-09-30", False),
        ("2026-11-01", "2026-10-31", False),
        ("2026-12-01", "2026-11-30", False),
    ]
    assert all(tasks == parts for *_, tasks, parts in months)
    # nothing carries into the first list of a chain
    assert query(
        warehouse, "select count(*) from marts.reminders where month = '2026-09-01' and is_carried_over"
    ) == [(0,)]


def test_every_task_id_is_md5_of_vin_type_and_cycle(chain):
    warehouse, _, _ = chain
    rows = query(warehouse, "select distinct task_id, vin, reminder_type, cycle from marts.reminders")
    assert rows and all(tid == task_id(vin, rtype, cycle) for tid, vin, rtype, cycle in rows)


def test_the_carried_tasks_of_each_month_are_exactly_those_the_previous_month_carried(chain):
    warehouse, _, _ = chain
    for previous, month in zip(MONTHS, MONTHS[1:], strict=False):
        carried = set(query(warehouse, f"select task_id from marts.reminders where month = '{month}-01' "
                                       "and is_carried_over"))  # fmt: skip
        kept = set(query(warehouse, f"select task_id from marts.reminders where month = '{previous}-01' "
                                    "and carry_outcome = 'carried'"))  # fmt: skip
        assert carried == kept, month
    # the newest month's outcome is not known before the next run
    assert query(
        warehouse, f"select distinct carry_outcome from marts.reminders where month = '{LAST}-01'"
    ) == [(None,)]


def test_a_campaign_task_carries_max_carry_months_times_then_stops(chain):
    warehouse, _, _ = chain
    tid = task_id(V_MAX, "campaign", "CAMP_OPEN")
    assert months_and_carries(warehouse, tid) == [
        ("2026-09-01", 0, "carried"),
        ("2026-10-01", 1, "carried"),
        ("2026-11-01", 2, "max_carry"),
    ]
    # it keeps the due date of its first month (the campaign has no end date) and its dealer
    assert {(r["due_date"], r["dealer_code"]) for r in rows_of(warehouse, tid)} == {("2026-09-30", "D002")}


def test_a_maintenance_task_stops_when_its_window_has_passed(chain):
    warehouse, _, _ = chain
    assert months_and_carries(warehouse, task_id(V_WIN, "maintenance", "2026-09")) == [
        ("2026-09-01", 0, "carried"),
        ("2026-10-01", 1, "carried"),
        ("2026-11-01", 2, "window_passed"),
    ]


def test_warranty_and_insurance_carry_only_into_their_due_month(chain):
    warehouse, _, _ = chain
    for rtype in ("warranty", "insurance"):
        rows = rows_of(warehouse, task_id(V_WAR, rtype, "2026-10"))
        assert [(r["month"], r["carry_months"], r["carry_outcome"], r["due_date"]) for r in rows] == [
            ("2026-09-01", 0, "carried", "2026-10-15"),
            ("2026-10-01", 1, "window_passed", "2026-10-15"),
        ], rtype


def test_a_wechat_task_tracked_and_returned_is_done(chain):
    warehouse, _, _ = chain
    (october,) = rows_of(warehouse, task_id(V_WX, "maintenance", "2026-10"))
    assert (
        october["month"] == "2026-10-01" and october["channel"] == "wechat" and october["oneid"] == "OID_WANG"
    )
    assert (october["wechat_status"], october["tracked"], october["reached"], october["contacted"]) == (
        "success", True, True, True,
    )  # fmt: skip
    assert (october["returned"], october["returned_dealer_code"], october["returned_same_dealer"]) == (
        True, "D001", True,
    )  # fmt: skip
    assert october["carry_outcome"] == "done" and october["is_final"]


def test_a_send_whose_reply_was_lost_stays_unsettled_and_the_task_carries(chain):
    warehouse, _, _ = chain
    october, november = rows_of(warehouse, task_id(V_LOST, "maintenance", "2026-10"))[:2]
    assert (october["wechat_status"], october["reached"], october["contacted"], october["tracked"]) == (
        "unsettled", False, False, False,
    )  # fmt: skip
    assert october["carry_outcome"] == "carried"
    assert (november["is_carried_over"], november["carry_months"], november["wechat_status"]) == (
        True, 1, "not_sent",
    )  # fmt: skip


def test_a_managers_close_stops_the_carry_and_a_reopen_restores_it(chain):
    warehouse, _, _ = chain
    closed = task_id(V_CLOSE, "maintenance", "2026-10")
    assert months_and_carries(warehouse, closed) == [("2026-10-01", 0, "closed")]
    assert query(
        warehouse,
        "select closed_reason, closed_by, closed_at::varchar from marts.reminders where task_id = "
        f"'{closed}'",
    ) == [("moved", "wang.li", "2026-10-15 10:00:00")]
    reopened = task_id(V_REOPEN, "maintenance", "2026-10")
    assert months_and_carries(warehouse, reopened)[:2] == [
        ("2026-10-01", 0, "carried"),
        ("2026-11-01", 1, "carried"),
    ]
    assert {r["closed_reason"] for r in rows_of(warehouse, reopened)} == {None}


def test_a_phone_task_reached_and_returned_is_done(chain):
    warehouse, _, _ = chain
    (october,) = rows_of(warehouse, task_id(V_CALL, "maintenance", "2026-10"))
    assert (october["channel"], october["tracked"], october["reached"], october["returned"]) == (
        "phone", True, True, True,
    )  # fmt: skip
    assert october["carry_outcome"] == "done"


def test_a_return_in_the_grace_days_is_provisional_then_final_and_a_natural_return_still_carries(chain):
    warehouse, after, _ = chain
    tid = task_id(V_NAT, "maintenance", "2026-10")
    # the run for 2026-11 (cut-off 2026-10-31) cannot know of the repair order of 2026-11-05
    (provisional,) = [r for r in after["2026-11"]["mart"] if r["task_id"] == tid and r["month"] == OCTOBER]
    assert (provisional["returned"], provisional["is_final"], provisional["status_as_of"]) == (
        False, False, dt.date(2026, 10, 31),
    )  # fmt: skip
    assert provisional["carry_outcome"] == "carried"
    # the run for 2026-12 (cut-off 2026-11-30) makes October final: returned, at another dealer
    october, november = rows_of(warehouse, tid)[:2]
    assert (october["returned"], october["returned_dealer_code"], october["returned_same_dealer"]) == (
        True, "D003", False,
    )  # fmt: skip
    assert october["is_final"] and october["carry_outcome"] == "carried"
    # November: returned, never reached: a phone task needs both, it carries again
    assert (november["returned"], november["reached"], november["carry_outcome"]) == (True, False, "carried")
    statuses = query(
        warehouse,
        "select month::varchar, status_as_of::varchar, returned, is_final from "
        f"intermediate.int_reminder_statuses where task_id = '{tid}' order by month",
    )
    assert statuses[:2] == [
        ("2026-10-01", "2026-11-30", True, True),
        ("2026-11-01", "2026-11-30", True, False),
    ]


def test_after_a_resale_the_carried_task_goes_to_the_new_owner_and_stays_with_its_dealer(chain):
    warehouse, _, _ = chain
    october, november = rows_of(warehouse, task_id(V_RESALE, "first_maintenance", "2026-10"))[:2]
    assert (october["oneid"], october["dealer_code"]) == ("OID_BOB", "D001")
    assert (november["oneid"], november["dealer_code"], november["is_carried_over"]) == (
        "OID_CAROL",
        "D001",
        True,
    )
    # the car itself is now serviced by the dealer that resold it: new tasks would go there
    assert query(warehouse, f"select servicing_dealer_code from marts.vehicles where vin = '{V_RESALE}'") == [
        ("D003",)
    ]


def test_an_owner_without_a_usable_identifier_still_gets_a_phone_task(chain):
    warehouse, _, _ = chain
    rows = rows_of(warehouse, task_id(V_ANON, "first_maintenance", "2026-09"))
    assert rows[0]["month"] == "2026-09-01" and rows[0]["due_date"] == "2026-09-10"
    assert {(r["oneid"], r["channel"]) for r in rows} == {(None, "phone")}
    assert query(
        warehouse,
        f"select count(*) from marts.reminders where vin = '{V_ANON}' and reminder_type = 'birthday'",
    ) == [(0,)]


def test_birthdays_from_15_and_18_digit_id_numbers(chain):
    warehouse, _, _ = chain
    birthdays = query(
        warehouse,
        "select vin, month::varchar, cycle, due_date::varchar, oneid from marts.reminders "
        "where reminder_type = 'birthday' order by month",
    )
    assert birthdays == [
        (V_OLD15, "2026-10-01", "2026-10", "2026-10-12", "OID_OLD15"),
        (V_NEW18, "2026-12-01", "2026-12", "2026-12-31", "OID_NEW18"),
    ]


def test_rerunning_a_month_changes_no_row_even_after_later_months(chain):
    _, after, reruns = chain
    final = after[MONTHS[-1]]
    # 2026-11 rerun after 2026-12 was built: its list is the same, later statuses are not rolled back
    assert reruns["2026-11"] == final
    # and the newest month rerun on the same inputs
    assert reruns[LAST] == final


def test_a_new_month_never_rewrites_an_earlier_months_list(chain):
    _, after, _ = chain
    for earlier, later in zip(MONTHS, MONTHS[1:], strict=False):
        lists = after[earlier]["intermediate.int_reminder_lists"]
        assert set(lists) <= set(after[later]["intermediate.int_reminder_lists"]), later
