"""SpreadsheetML (.xlsx) sheet rows built column-wise in polars.

Why: writers such as xlsxwriter write cell by cell in Python (~15-25 us a cell); the sample OEM's
exports and the dealer files hold millions of cells. Here a column becomes its cells' XML in one
polars expression and a row is the concatenation of its cells, in native code. Used by the sample
OEM's minimal writer (``sources/sample_oem/xlsx_fast.py``) and by the dealer files, which splice
these rows into the package xlsxwriter writes (``assets/exports/dealer_files.py``).

Cells: text as inline strings (a VIN or a task id never becomes a number), numbers as ``<v>`` with
an optional style index, an empty value as no cell at all.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

# Excel's day 0 in the 1900 date system (the day before its phantom 1900-02-29)
EXCEL_EPOCH = dt.date(1899, 12, 30)
# characters XML 1.0 cannot hold: one stray control character and Excel refuses the whole file
XML_UNSAFE = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"


def column_letter(index: int) -> str:
    """``0`` -> ``A``, ``26`` -> ``AA``."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def escape(text: pl.Expr) -> pl.Expr:
    return (
        text.str.replace_all(XML_UNSAFE, "")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def text_cell(value: pl.Expr, letter: str, row: pl.Expr) -> pl.Expr:
    """An inline-string cell in column ``letter`` of row ``row`` (a string expression)."""
    cell = pl.concat_str(
        [
            pl.lit(f'<c r="{letter}'),
            row,
            pl.lit('" t="inlineStr"><is><t xml:space="preserve">'),
            escape(value.cast(pl.Utf8)),
            pl.lit("</t></is></c>"),
        ]
    )
    return pl.when(value.is_null()).then(pl.lit("")).otherwise(cell)


def number_cell(value: pl.Expr, letter: str, row: pl.Expr, style: int = 0) -> pl.Expr:
    """A number cell; ``style`` is the index of its cell format in the workbook's styles (0: none)."""
    attribute = f' s="{style}"' if style else ""
    cell = pl.concat_str(
        [pl.lit(f'<c r="{letter}'), row, pl.lit(f'"{attribute}><v>'), value.cast(pl.Utf8), pl.lit("</v></c>")]
    )
    return pl.when(value.is_null()).then(pl.lit("")).otherwise(cell)


def excel_days(date: pl.Expr) -> pl.Expr:
    """A date as Excel's serial day number (shown as a date by a date-formatted cell)."""
    return (date.cast(pl.Date) - pl.lit(EXCEL_EPOCH)).dt.total_days()


def row_xml(cells: list[pl.Expr], row: pl.Expr) -> pl.Expr:
    """The ``<row>`` element of ``cells`` (built with ``row``, the same row number expression)."""
    return pl.concat_str([pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>")])
