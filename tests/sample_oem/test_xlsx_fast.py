"""The column-vectorized xlsx writer produces files openpyxl and calamine read as Excel would."""

from __future__ import annotations

import datetime as dt
import hashlib

import fastexcel
import openpyxl
import polars as pl

from pipelines.cli import main
from sources.sample_oem.xlsx_fast import STYLE_AMOUNT, STYLE_DATE, STYLE_DATETIME, column_letter, write_xlsx


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "text": ["A&B <x>", None, "  spaced  "],
            "date": [46329.0, 46330.0, None],  # 2026-11-03, 2026-11-04
            "ts": [46329.5, None, 46330.25],
            "amount": [1234.5, 0.0, 99999.99],
            "plain": [1.0, 2.0, 3.0],
        }
    )


def test_openpyxl_reads_titles_header_values_and_dates(tmp_path):
    path = tmp_path / "t.xlsx"
    styles = [0, STYLE_DATE, STYLE_DATETIME, STYLE_AMOUNT, 0]
    write_xlsx(path, _frame(), [" 工单号 ", "开票日期", "进厂时间", "结算金额", "n"], ["标题", ""], styles)
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][0] == "标题" and all(v is None for v in rows[1])
    assert rows[2] == (" 工单号 ", "开票日期", "进厂时间", "结算金额", "n")
    assert rows[3][0] == "A&B <x>"
    assert rows[3][1] == dt.datetime(2026, 11, 3)
    assert rows[3][2] == dt.datetime(2026, 11, 3, 12, 0)
    assert rows[3][3] == 1234.5 and rows[3][4] == 1
    assert rows[4][0] is None and rows[4][2] is None
    assert rows[5][0] == "  spaced  " and rows[5][1] is None


def test_calamine_reads_dates_as_datetimes(tmp_path):
    path = tmp_path / "t.xlsx"
    write_xlsx(
        path, _frame(), ["a", "b", "c", "d", "e"], [], [0, STYLE_DATE, STYLE_DATETIME, STYLE_AMOUNT, 0]
    )
    df = fastexcel.read_excel(path).load_sheet(0).to_polars()
    assert df.columns == ["a", "b", "c", "d", "e"]
    assert df.schema["c"] == pl.Datetime("ms")
    assert df["c"][0] == dt.datetime(2026, 11, 3, 12, 0)
    assert df["d"].to_list() == [1234.5, 0.0, 99999.99]


def test_bytes_are_deterministic_and_letters_go_past_z(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    for p in (a, b):
        write_xlsx(p, _frame(), list("abcde"), ["t"], [0] * 5)
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_cli_generate_prints_a_summary(tmp_path, capsys):
    assert (
        main(["generate", "--out", str(tmp_path), "--vehicles", "300", "--months", "3", "--end", "2026-06"])
        == 0
    )
    out = capsys.readouterr().out
    assert "repair_orders" in out and "files" in out
    assert (tmp_path / "truth" / "dirt_rates.json").exists()
