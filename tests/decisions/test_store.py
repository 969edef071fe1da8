"""The managers' decisions store (sources/decisions.py): append-only, reasons from the seed, the
decision in force at a cut-off."""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3

import pytest

from sources.decisions import (
    CLOSE_REASONS_SEED,
    DecisionError,
    close_reasons,
    decisions_in_force,
    read_decisions,
    record_decision,
    store_path,
)

T = dt.datetime


def test_the_close_reasons_are_the_seed_rows_in_order():
    with CLOSE_REASONS_SEED.open(encoding="utf-8") as handle:
        seed = list(csv.DictReader(handle))
    assert [r.code for r in close_reasons()] == [
        "sold", "moved", "scrapped", "refuses_contact", "wrong_number", "serviced_elsewhere", "duplicate",
    ]  # fmt: skip
    assert [(r.code, r.label_zh, r.label_en) for r in close_reasons()] == [
        (row["code"], row["label_zh"], row["label_en"]) for row in seed
    ]
    assert close_reasons()[0].label_zh == "车辆已出售"


def test_an_empty_store_reads_as_no_decisions(tmp_path):
    assert read_decisions(tmp_path / "state") == []
    assert not store_path(tmp_path / "state").exists()  # reading does not create it


def test_close_with_a_reason_from_the_seed_is_recorded_as_given(tmp_path):
    decision = record_decision(
        tmp_path, "a1b2c3d4e5f60718", "close", "wang.li", reason="sold",
        decided_at=T(2026, 11, 12, 10, 0), dealer_code="D001", month="2026-11", note="customer called",
    )  # fmt: skip
    assert decision.decision_id == 1
    (stored,) = read_decisions(tmp_path)
    assert stored == decision
    assert (stored.task_id, stored.action, stored.reason, stored.decided_by) == (
        "a1b2c3d4e5f60718", "close", "sold", "wang.li",
    )  # fmt: skip
    assert stored.decided_at == T(2026, 11, 12, 10, 0)
    assert (stored.dealer_code, stored.month, stored.note) == ("D001", "2026-11", "customer called")


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (None, "closing needs a reason"),
        ("gone", "closing needs a reason"),
        ("Sold", "closing needs a reason"),
    ],
)
def test_close_without_a_known_reason_is_refused_and_nothing_is_written(tmp_path, reason, expected):
    with pytest.raises(DecisionError, match=expected) as error:
        record_decision(tmp_path, "t1", "close", "wang.li", reason=reason)
    assert "sold" in str(error.value)  # the message lists the codes to choose from
    assert read_decisions(tmp_path) == []


@pytest.mark.parametrize(
    ("task_id", "action", "by", "expected"),
    [
        ("", "close", "wang.li", "task id is required"),
        ("   ", "close", "wang.li", "task id is required"),
        ("t1", "close", "", "who decided is required"),
        ("t1", "delete", "wang.li", "unknown action 'delete'"),
    ],
)
def test_incomplete_decisions_are_refused(tmp_path, task_id, action, by, expected):
    with pytest.raises(DecisionError, match=expected):
        record_decision(tmp_path, task_id, action, by, reason="sold")


def test_reopen_takes_no_reason_and_ids_are_trimmed(tmp_path):
    decision = record_decision(tmp_path, " t1 ", "reopen", " wang.li ", reason="sold")
    assert (decision.task_id, decision.decided_by, decision.reason) == ("t1", "wang.li", None)


def test_decided_at_defaults_to_beijing_wall_clock(tmp_path):
    before = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None, microsecond=0)
    decision = record_decision(tmp_path, "t1", "close", "wang.li", reason="moved")
    after = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None)
    assert before <= decision.decided_at <= after
    assert decision.decided_at.tzinfo is None


def test_the_store_is_append_only_sqlite_that_other_processes_can_read(tmp_path):
    record_decision(tmp_path, "t1", "close", "wang.li", reason="sold", decided_at=T(2026, 11, 2))
    record_decision(tmp_path, "t1", "reopen", "zhao.min", decided_at=T(2026, 11, 5))
    con = sqlite3.connect(store_path(tmp_path))
    rows = con.execute(
        "select task_id, action, reason, decided_at from task_decisions order by 1, 4"
    ).fetchall()
    con.close()
    assert rows == [
        ("t1", "close", "sold", "2026-11-02 00:00:00"),
        ("t1", "reopen", None, "2026-11-05 00:00:00"),
    ]


def test_decisions_are_read_in_the_order_they_were_decided_not_recorded(tmp_path):
    # a decision taken on paper is entered later with --at: it sorts by when it was taken
    record_decision(tmp_path, "t1", "reopen", "a", decided_at=T(2026, 11, 20))
    record_decision(tmp_path, "t1", "close", "a", reason="sold", decided_at=T(2026, 11, 3))
    assert [(d.action, d.decided_at.day) for d in read_decisions(tmp_path)] == [("close", 3), ("reopen", 20)]


def test_the_decision_in_force_is_the_latest_on_or_before_the_cutoff(tmp_path):
    record_decision(tmp_path, "t1", "close", "a", reason="sold", decided_at=T(2026, 10, 10, 9))
    record_decision(tmp_path, "t1", "reopen", "b", decided_at=T(2026, 11, 2, 8))
    record_decision(tmp_path, "t2", "close", "a", reason="moved", decided_at=T(2026, 10, 31, 23, 59, 59))
    record_decision(tmp_path, "t3", "close", "a", reason="scrapped", decided_at=T(2026, 11, 1, 0, 0, 0))
    decisions = read_decisions(tmp_path)

    # the run for 2026-11 has its cut-off at the end of 2026-10-31
    end_of_october = T(2026, 10, 31, 23, 59, 59)
    in_force = decisions_in_force(decisions, end_of_october)
    assert {k: (v.action, v.reason) for k, v in in_force.items()} == {
        "t1": ("close", "sold"),  # the reopen came after the cut-off
        "t2": ("close", "moved"),  # on the last second of the day: in
    }  # t3 was decided after the cut-off: invisible to that month, also on a rerun

    # the run for 2026-12 sees the reopen and the later close
    in_force = decisions_in_force(decisions, T(2026, 11, 30, 23, 59, 59))
    assert {k: v.action for k, v in in_force.items()} == {"t1": "reopen", "t2": "close", "t3": "close"}


def test_two_decisions_at_the_same_instant_are_ordered_by_their_id(tmp_path):
    at = T(2026, 10, 5, 10)
    record_decision(tmp_path, "t1", "close", "a", reason="sold", decided_at=at)
    record_decision(tmp_path, "t1", "reopen", "a", decided_at=at)
    assert decisions_in_force(read_decisions(tmp_path), at)["t1"].action == "reopen"
