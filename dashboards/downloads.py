"""Files that leave the dashboard: built when the button is clicked, audited before they leave.

``st.download_button`` accepts a callable for ``data``: Streamlit runs it when the user clicks
(on its own thread, outside the script run). ``audited_download`` gives it one that re-checks the
session, builds the file, appends its line to the audit log (``audit.py``) and only then returns
the bytes; if any step fails, no file is handed over. The dealer lists' content (which rows, which
columns, full mobiles for the dealer's own customers only) is ``dealer_lists.py``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import streamlit as st
import xlsxwriter

from dashboards import settings
from dashboards.audit import Download, file_digest, record_download
from dashboards.i18n import t
from dashboards.sessions import session_alive
from dashboards.signin import ACCOUNT_KEY, LOGIN_KEY
from dashboards.store import connect

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"


@dataclass(frozen=True)
class BuiltFile:
    """A file's bytes and what the audit log says about it."""

    data: bytes
    rows: int
    full_mobiles: int = 0


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 with a BOM, so Excel on Windows opens the Chinese correctly."""
    return frame.write_csv(
        include_bom=True, date_format="%Y-%m-%d", datetime_format="%Y-%m-%d %H:%M:%S"
    ).encode("utf-8")


def xlsx_bytes(
    sheets: list[tuple[str, pl.DataFrame]], title: str, widths: dict[str, int] | None = None
) -> bytes:
    """A workbook with one sheet per frame: bold frozen headers, text kept as text, dates as dates."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    workbook.set_properties({"title": title, "author": "aftercare"})
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for name, frame in sheets:
        sheet = workbook.add_worksheet(name[:31])
        for index, column in enumerate(frame.columns):
            sheet.set_column(index, index, (widths or {}).get(column, max(10, min(40, 2 * len(column) + 4))))
            sheet.write_string(0, index, column, header)
        for row_index, row in enumerate(frame.iter_rows(), start=1):
            for index, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.datetime):
                    sheet.write_datetime(row_index, index, value, stamp)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(row_index, index, dt.datetime.combine(value, dt.time()), date)
                elif isinstance(value, bool):
                    sheet.write_string(row_index, index, "是" if value else "否")
                elif isinstance(value, int | float):
                    sheet.write_number(row_index, index, value)
                else:  # a VIN, a task id or a mobile stays text, never a number
                    sheet.write_string(row_index, index, str(value))
        sheet.freeze_panes(1, 0)
        if frame.height:
            sheet.autofilter(0, 0, frame.height, max(0, frame.width - 1))
    workbook.close()
    return buffer.getvalue()


class DownloadRefused(PermissionError):
    """The session ended between showing the button and clicking it."""


def audited_file(
    build: Callable[[], BuiltFile],
    *,
    login_id: str,
    dealer_code: str,
    month: str,
    list_name: str,
    file_format: str,
    file_name: str,
) -> Callable[[], bytes]:
    """The callable a download button runs on click: check, build, log, hand over."""

    def produce() -> bytes:
        con = connect(settings.state_dir())
        try:
            account = session_alive(con, login_id)
            if account is None:
                raise DownloadRefused("the session has ended; sign in again")
            built = build()
            record_download(
                con,
                Download(
                    downloaded_by=account.name,
                    role=account.role,
                    dealer_code=dealer_code,
                    month=month,
                    list_name=list_name,
                    file_format=file_format,
                    file_name=file_name,
                    rows=built.rows,
                    full_mobiles=built.full_mobiles,
                    file_sha256=file_digest(built.data),
                ),
            )
        finally:
            con.close()
        return built.data

    return produce


def audited_download(
    build: Callable[[], BuiltFile],
    *,
    key: str,
    label: str,
    dealer_code: str,
    month: str,
    list_name: str,
    file_format: str,
    file_name: str,
) -> None:
    """A download button whose file is built on click and logged before it leaves."""
    login_id = st.session_state.get(LOGIN_KEY)
    if login_id is None or st.session_state.get(ACCOUNT_KEY) is None:
        return
    st.download_button(
        label,
        data=audited_file(
            build,
            login_id=login_id,
            dealer_code=dealer_code,
            month=month,
            list_name=list_name,
            file_format=file_format,
            file_name=file_name,
        ),
        file_name=file_name,
        mime=XLSX_MIME if file_format == "xlsx" else CSV_MIME,
        key=key,
        on_click="ignore",
        icon=":material/download:",
        help=t("download_audited"),
    )
