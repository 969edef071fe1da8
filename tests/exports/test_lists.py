"""The dealer lists' rules, columns and labels (assets/exports/lists.py) on a hand-made month."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from assets.exports.lists import (
    LISTS,
    NEEDED_COLUMNS,
    closed_rows,
    dealer_codes,
    list_month,
    present,
    select_rows,
)
from tests.exports.story import SCHEMA, M, story_rows, task_id

SPECS = {spec.key: spec for spec in LISTS}


def ids(frame: pl.DataFrame) -> list[str]:
    return frame["task_id"].to_list()


def test_the_four_lists_in_their_order_with_their_sheet_names():
    assert [(s.key, s.zh, s.months_back) for s in LISTS] == [
        ("due", "应提醒", 0),
        ("not_reminded", "未提醒", 1),
        ("not_tracked", "未跟踪", 1),
        ("not_returned", "未回厂", 1),
    ]
    assert set(NEEDED_COLUMNS) <= set(SCHEMA)  # every column read is in the published contract


@pytest.mark.parametrize(
    ("month", "back", "expected"),
    [(dt.date(2026, 11, 1), 1, dt.date(2026, 10, 1)), (dt.date(2027, 1, 1), 1, dt.date(2026, 12, 1))],
)
def test_the_month_just_ended(month, back, expected):
    assert list_month(month, LISTS[back]) == expected


def test_due_is_the_months_open_tasks_carried_first():
    due = select_rows(story_rows(), M, SPECS["due"])
    # b is carried (shown first), a is new; c was closed by its manager; d is another dealer
    assert ids(due) == [task_id("b"), task_id("a"), task_id("d")]


def test_not_reminded_means_neither_reached_nor_delivered_on_wechat():
    rows = story_rows()
    assert ids(select_rows(rows, M, SPECS["not_reminded"])) == [task_id("e"), task_id("h")]
    # a delivered WeChat message reminds even when reached was not set from it
    patched = rows.with_columns(
        pl.when(pl.col("task_id") == task_id("e"))
        .then(pl.lit("success"))
        .otherwise(pl.col("wechat_status"))
        .alias("wechat_status")
    )
    assert ids(select_rows(patched, M, SPECS["not_reminded"])) == [task_id("h")]


def test_not_tracked_and_not_returned_of_the_month_just_ended():
    rows = story_rows()
    assert ids(select_rows(rows, M, SPECS["not_tracked"])) == [task_id("h"), task_id("f")]  # by due date
    assert ids(select_rows(rows, M, SPECS["not_returned"])) == [task_id("e"), task_id("h")]


def test_closed_tasks_are_in_no_list_and_counted():
    rows = story_rows()
    listed = {t for spec in LISTS for t in ids(select_rows(rows, M, spec))}
    assert task_id("c") not in listed and task_id("i") not in listed
    assert closed_rows(rows, M) == 2


def test_every_dealer_with_a_row_in_any_list():
    # D003 has nothing due in M but a task of M-1 to follow up; D004's rows are of an older month
    assert dealer_codes(select_rows(story_rows(), M, spec) for spec in LISTS) == ["D001", "D002", "D003"]


def test_present_chinese_headers_labels_and_flags():
    due = present(select_rows(story_rows(), M, SPECS["due"]), SPECS["due"])
    assert due.columns == [
        "任务编号",
        "车架号",
        "车型",
        "提醒类型",
        "到期日期",
        "有效期至",
        "车主",
        "手机(掩码)",
        "提醒渠道",
        "是否结转",
        "结转月数",
        "首次提醒月份",
        "仅需贴标",
        "使用性质推定",
        "活动编号",
    ]
    first = due.row(0, named=True)
    assert first["提醒类型"] == "保险" and first["提醒渠道"] == "微信"
    assert (first["是否结转"], first["结转月数"], first["首次提醒月份"]) == ("是", 1, dt.date(2026, 10, 1))
    assert due["提醒类型"].to_list() == ["保险", "保养", "生日关怀"]
    assert due["是否结转"].to_list() == ["是", "否", "否"]
    assert due["手机(掩码)"].to_list() == ["138****5678"] * 3
    assert due.schema["到期日期"] == pl.Date and due.schema["结转月数"] == pl.Int64


def test_present_status_columns_of_the_month_just_ended():
    spec = SPECS["not_tracked"]
    shown = present(select_rows(story_rows(), M, spec), spec)
    assert shown.columns[-6:] == ["微信提醒状态", "已跟踪", "通话次数", "已触达", "已回厂", "回厂经销商"]
    f = shown.row(1, named=True)
    assert (f["提醒类型"], f["微信提醒状态"], f["已触达"], f["已回厂"], f["回厂经销商"]) == (
        "年审",
        "已送达",
        "是",
        "是",
        "D001",
    )
    assert (f["仅需贴标"], f["使用性质推定"]) == ("是", "是")


def test_every_code_has_a_label_and_english_is_selectable():
    due = present(select_rows(story_rows(), M, SPECS["due"]), SPECS["due"], language="en")
    assert due.columns[:4] == ["Task ID", "VIN", "Model", "Reminder type"]
    assert due["Reminder type"].to_list() == ["Insurance", "Maintenance", "Birthday"]
    assert due["Carried over"].to_list() == ["Yes", "No", "No"]
    with pytest.raises(ValueError, match="language 'fr'"):
        present(due, SPECS["due"], language="fr")


def test_an_unknown_code_is_shown_as_it_is_rather_than_dropped():
    rows = story_rows().with_columns(pl.lit("recall").alias("reminder_type"))
    due = present(select_rows(rows, M, SPECS["due"]), SPECS["due"])
    assert due["提醒类型"].to_list() == ["recall"] * 3
