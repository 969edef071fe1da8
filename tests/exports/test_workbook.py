"""``reminders.xlsx`` as Excel and its readers see it: the data rows are SpreadsheetML built in
polars (``row_xml``), spliced into the package xlsxwriter writes; these tests read it back."""

import datetime as dt
import io
import zipfile

import openpyxl
import polars as pl

from assets.exports.dealer_files import _rendered_by_dealer, workbook_bytes
from assets.exports.lists import LISTS, NEEDED_COLUMNS, present

NOT_REMINDED = LISTS[1]
CREATED = dt.datetime(2026, 10, 31)


def rows(dealers: list[str]) -> pl.DataFrame:
    data: dict[str, list] = {name: [None] * len(dealers) for name in NEEDED_COLUMNS}
    data.update(
        dealer_code=dealers,
        task_id=["T&<1>", "00123", "T3"][: len(dealers)],
        vin=["LVX\x01ABC", None, "LVX3"][: len(dealers)],
        reminder_type=["maintenance", "warranty", "birthday"][: len(dealers)],
        due_date=[dt.date(2024, 2, 29), dt.date(1900, 3, 1), None][: len(dealers)],
        carry_months=[0, 3, None][: len(dealers)],
        is_carried_over=[True, False, None][: len(dealers)],
        owner_name_masked=[" 张*", "李*", "王*"][: len(dealers)],
    )
    types = {"due_date": pl.Date, "valid_until": pl.Date, "first_month": pl.Date, "carry_months": pl.Int64}
    return pl.DataFrame(data, schema_overrides={**types, "calls": pl.Int64})


def test_cells_read_back_typed_escaped_and_empty_where_null():
    shown = present(rows(["D1", "D1", "D1"]), NOT_REMINDED)
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes([(NOT_REMINDED, shown)], CREATED, "t")))
    sheet = book["未提醒"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:5] == ("任务编号", "车架号", "车型", "提醒类型", "到期日期")
    # XML specials escaped, a control character dropped, a leading zero and a leading space kept
    assert [row[0] for row in values[1:]] == ["T&<1>", "00123", "T3"]
    assert values[1][1] == "LVXABC" and values[2][1] is None
    assert values[1][6] == " 张*"
    # a leap day and a date just after Excel's phantom 1900-02-29 are the right days
    assert [row[4] for row in values[1:]] == [dt.datetime(2024, 2, 29), dt.datetime(1900, 3, 1), None]
    assert sheet["E2"].number_format == "yyyy-mm-dd"
    assert [row[10] for row in values[1:]] == [0, 3, None]  # numbers, not text
    assert [row[9] for row in values[1:]] == ["是", "否", "否"]
    assert sheet.dimensions == "A1:U4" and sheet.auto_filter.ref == "A1:U4" and sheet.freeze_panes == "A2"


def test_polars_reads_the_same_rows():
    shown = present(rows(["D1", "D1", "D1"]), NOT_REMINDED)
    read = pl.read_excel(
        io.BytesIO(workbook_bytes([(NOT_REMINDED, shown)], CREATED, "t")), sheet_name="未提醒"
    )
    assert read.height == 3 and read["任务编号"].to_list() == ["T&<1>", "00123", "T3"]


def test_rows_rendered_for_a_batch_of_dealers_give_the_same_bytes_as_one_dealer_alone():
    everyone = rows(["D1", "D2", "D1"])
    parts = _rendered_by_dealer(everyone, NOT_REMINDED, ["D1", "D2"])
    d1 = parts[("D1",)]
    batch = workbook_bytes(
        [(NOT_REMINDED, d1.drop("__dealer_code", "__row_xml"))], CREATED, "t", rows=["".join(d1["__row_xml"])]
    )
    alone = present(everyone.filter(pl.col("dealer_code") == "D1"), NOT_REMINDED)
    assert batch == workbook_bytes([(NOT_REMINDED, alone)], CREATED, "t")
    # each dealer's rows start under the header
    assert d1["__row_xml"].str.slice(0, 10).to_list() == ['<row r="2"', '<row r="3"']


def test_the_same_lists_give_the_same_bytes_and_an_empty_list_a_header_only_sheet():
    empty = present(rows([]), NOT_REMINDED)
    first = workbook_bytes([(NOT_REMINDED, empty)], CREATED, "t")
    assert first == workbook_bytes([(NOT_REMINDED, empty)], CREATED, "t")
    sheet = zipfile.ZipFile(io.BytesIO(first)).read("xl/worksheets/sheet1.xml").decode()
    assert '<dimension ref="A1:U1"/>' in sheet and 'r="2"' not in sheet
