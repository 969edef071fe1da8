"""What goes into a dealer's reminder files: the four lists, their columns, headers and labels.

Pure functions over a polars frame of ``reminders`` rows (the published table, docs/reminders.md);
no Dagster, no files. ``dealer_files.py`` reads the rows and writes what these functions return.

The lists (PRODUCT.md "Dealer exports"; docs/reminders.md "Dealer files"):

| list | 中文 | rows | rule |
|---|---|---|---|
| ``due`` | 应提醒 | month M | every task of the month, carried ones first and marked (是否结转 = 是) |
| ``not_reminded`` | 未提醒 | month M-1 | not reached (``reached`` false, ``wechat_status`` not ``success``) |
| ``not_tracked`` | 未跟踪 | month M-1 | no DCRC call logged (``tracked`` false) |
| ``not_returned`` | 未回厂 | month M-1 | no qualifying repair order in the window (``returned`` false) |

Not reached: no connected call of at least the minimum length and no WeChat message delivered.
A task a manager closed (``closed_reason`` set: the decision in force at the run's cut-off) is in
none of the lists: there is nothing left for the dealer to do with it. Mobiles and names are the
masked forms only (``138****5678``, ``张*``); the full number is only in the dashboard's audited
download.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import polars as pl

from sources.enumerations import labels

LANGUAGES = ("zh", "en")

# the names of the codes, from the one list of enumerations (dbt_project/seeds/enumerations.csv)
REMINDER_TYPES = labels("reminder_type")
CHANNELS = labels("reminder_channel")
WECHAT_STATUSES = labels("wechat_status")
YES_NO = {True: ("是", "Yes"), False: ("否", "No")}


@dataclass(frozen=True)
class Column:
    """One column of a list: the ``reminders`` column it shows, its header and how it is shown."""

    source: str
    zh: str
    en: str
    kind: str = "text"  # text | date | int | flag (是/否) | label (through ``labels``)
    labels: dict | None = None
    width: int = 12  # characters, for the Excel sheet

    def header(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


TASK_COLUMNS = (
    Column("task_id", "任务编号", "Task ID", width=18),
    Column("vin", "车架号", "VIN", width=20),
    Column("model_name", "车型", "Model", width=14),
    Column("reminder_type", "提醒类型", "Reminder type", "label", REMINDER_TYPES, width=10),
    Column("due_date", "到期日期", "Due date", "date", width=12),
    Column("valid_until", "有效期至", "Valid until", "date", width=12),
    Column("owner_name_masked", "车主", "Owner", width=10),
    Column("owner_mobile_masked", "手机(掩码)", "Mobile (masked)", width=14),
    Column("channel", "提醒渠道", "Channel", "label", CHANNELS, width=10),
    Column("is_carried_over", "是否结转", "Carried over", "flag", width=10),
    Column("carry_months", "结转月数", "Months carried", "int", width=10),
    Column("first_month", "首次提醒月份", "First listed", "date", width=14),
    Column("is_sticker_only", "仅需贴标", "Sticker only", "flag", width=10),
    Column("is_usage_assumed", "使用性质推定", "Usage assumed", "flag", width=12),
    Column("campaign_code", "活动编号", "Campaign", width=12),
)
STATUS_COLUMNS = (
    Column("wechat_status", "微信提醒状态", "WeChat status", "label", WECHAT_STATUSES, width=14),
    Column("tracked", "已跟踪", "Tracked", "flag", width=8),
    Column("calls", "通话次数", "Calls", "int", width=10),
    Column("reached", "已触达", "Reached", "flag", width=8),
    Column("returned", "已回厂", "Returned", "flag", width=8),
    Column("returned_dealer_code", "回厂经销商", "Returned to dealer", width=12),
)


@dataclass(frozen=True)
class DealerList:
    key: str  # file stem of the CSV
    zh: str  # sheet name
    en: str
    months_back: int  # 0: the month M being prepared; 1: the month just ended, M-1
    keep: Callable[[], pl.Expr]  # which of that month's open tasks are listed
    columns: tuple[Column, ...]

    def title(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


LISTS = (
    DealerList("due", "应提醒", "Due", 0, lambda: pl.lit(True), TASK_COLUMNS),
    DealerList(
        "not_reminded",
        "未提醒",
        "Not reminded",
        1,
        lambda: ~pl.col("reached").fill_null(False) & (pl.col("wechat_status").fill_null("") != "success"),
        TASK_COLUMNS + STATUS_COLUMNS,
    ),
    DealerList(
        "not_tracked",
        "未跟踪",
        "Not tracked",
        1,
        lambda: ~pl.col("tracked").fill_null(False),
        TASK_COLUMNS + STATUS_COLUMNS,
    ),
    DealerList(
        "not_returned",
        "未回厂",
        "Not returned",
        1,
        lambda: ~pl.col("returned").fill_null(False),
        TASK_COLUMNS + STATUS_COLUMNS,
    ),
)

# every reminders column the files read
NEEDED_COLUMNS = tuple(
    dict.fromkeys(
        ["month", "dealer_code", "closed_reason"] + [c.source for spec in LISTS for c in spec.columns]
    )
)

# carried tasks first (they are marked too), then by due date; the rest only makes the order total
SORT_KEY = ("is_carried_over", "due_date", "reminder_type", "vin", "task_id")


def list_month(month: dt.date, spec: DealerList) -> dt.date:
    """First day of the month a list shows (``month`` is the first day of M)."""
    index = month.year * 12 + month.month - 1 - spec.months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def select_rows(rows: pl.DataFrame, month: dt.date, spec: DealerList) -> pl.DataFrame:
    """The rows of one list for every dealer: its month, open tasks only, kept by the list's rule."""
    return rows.filter(
        (pl.col("month") == list_month(month, spec)) & pl.col("closed_reason").is_null() & spec.keep()
    ).sort(SORT_KEY, descending=[True, False, False, False, False], nulls_last=True)


def closed_rows(rows: pl.DataFrame, month: dt.date) -> int:
    """Tasks of M and M-1 left out of every list because a manager closed them."""
    months = {list_month(month, spec) for spec in LISTS}
    return rows.filter(pl.col("month").is_in(months) & pl.col("closed_reason").is_not_null()).height


def present(selected: pl.DataFrame, spec: DealerList, language: str = "zh") -> pl.DataFrame:
    """The list as a person reads it: the list's columns in order, headers and codes in ``language``,
    flags as 是/否. Dates stay dates and counts stay integers (typed cells in Excel)."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: one of {LANGUAGES}")
    at = LANGUAGES.index(language)
    shown = []
    for column in spec.columns:
        value = pl.col(column.source)
        if column.kind == "label":
            mapping = {code: names[at] for code, names in (column.labels or {}).items()}
            value = value.cast(pl.Utf8).replace_strict(mapping, default=value.cast(pl.Utf8))
        elif column.kind == "flag":
            value = (
                pl.when(value.fill_null(False))
                .then(pl.lit(YES_NO[True][at]))
                .otherwise(pl.lit(YES_NO[False][at]))
            )
        elif column.kind == "date":
            value = value.cast(pl.Date)
        elif column.kind == "int":
            value = value.cast(pl.Int64)
        else:
            value = value.cast(pl.Utf8)
        shown.append(value.alias(column.header(language)))
    return selected.select(shown)


def dealer_codes(selected: Iterable[pl.DataFrame]) -> list[str]:
    """Every dealer with a row in any of the lists (``select_rows`` of each list), sorted."""
    codes: set[str] = set()
    for rows in selected:
        codes.update(c for c in rows["dealer_code"].unique().to_list() if c)
    return sorted(codes)
