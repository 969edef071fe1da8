"""Every dealer's reminder files, written after the quality gate from the published database.

``paths.exports/<YYYY-MM>/<dealer_code>/`` gets ``reminders.xlsx`` (one sheet per list, Chinese
headers) and the same lists as UTF-8-with-BOM CSV files (``due.csv``, ``not_reminded.csv``,
``not_tracked.csv``, ``not_returned.csv``: ASCII names survive any zip tool or Windows code page;
the Chinese is inside). What goes into the lists is ``lists.py``.

* Read from ``serving.duckdb``, i.e. only what passed the gate (masked mobiles and names only).
* Atomic per file: written to a temporary file in the dealer's folder, then ``os.replace``-d over
  the old one, so a dealer never opens a half-written file.
* Byte-identical on a rerun: fixed document properties (the created date is the run's cut-off),
  fixed zip timestamps (xlsxwriter's), a total row order. A file whose bytes would not change is not
  touched at all, so a rerun leaves even the modification times alone.
"""

import datetime as dt
import functools
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from assets.exports.lists import (
    LISTS,
    NEEDED_COLUMNS,
    Column,
    DealerList,
    closed_rows,
    dealer_codes,
    list_month,
    present,
    select_rows,
)
from assets.partitions import monthly_partitions, one_month_per_run
from assets.resources import AftercareSettings, RunMonth
from sources import spreadsheet

WORKBOOK_NAME = "reminders.xlsx"
OWN_FILES = (WORKBOOK_NAME, *(f"{spec.key}.csv" for spec in LISTS))
# working columns beside a list's shown columns (whose names are the Chinese headers)
DEALER, ROW_XML = "__dealer_code", "__row_xml"
# dealers whose sheet rows are rendered in one go: fewer and polars' per-call overhead dominates,
# all 800 at M and every row's XML sits in memory at once (3.8 GB)
DEALERS_PER_BATCH = 50
# threads putting dealers' files together while the main thread renders the next batch: the zip's
# deflate, polars and fsync run without the GIL, so the second core joins in; at M (800 dealers,
# 4,000 files) 42-53 s became 32-33 s (docs/benchmarks.md, "The month after the group-message fix")
EXPORT_THREADS = 2
# a dealer code becomes a folder name: anything else (a slash, "..", spaces) is refused
SAFE_DEALER_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class ExportError(Exception):
    """The published database cannot give this month's lists; the message says why."""


@dataclass
class ExportReport:
    month: str
    folder: Path
    dealers: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # per list, all dealers
    closed_left_out: int = 0
    files_written: int = 0
    files_unchanged: int = 0
    skipped_dealer_codes: list[str] = field(default_factory=list)
    stale_folders_removed: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- reading


def read_reminders(serving: Path, month: dt.date) -> pl.DataFrame:
    """The ``reminders`` rows of M and M-1 from the published database (read-only, short)."""
    if not serving.exists():
        raise ExportError(f"{serving} does not exist: nothing has been published yet")
    months = sorted({list_month(month, spec) for spec in LISTS})
    con = duckdb.connect(str(serving), read_only=True)
    try:
        tables = {t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()}
        if "reminders" not in tables:
            raise ExportError(f"{serving} has no reminders table: the reminder models did not publish")
        published = con.execute("select month from publish_log").fetchall() if "publish_log" in tables else []
        if published and published[0][0] < month.strftime("%Y-%m"):
            raise ExportError(
                f"{serving} was published for {published[0][0]}, before {month:%Y-%m}: its lists are not "
                "there yet"
            )
        have = {c for (c,) in con.execute("select column_name from information_schema.columns "
                                           "where table_name = 'reminders'").fetchall()}  # fmt: skip
        missing = [c for c in NEEDED_COLUMNS if c not in have]
        if missing:
            raise ExportError(f"{serving}: reminders lacks the columns {', '.join(missing)}")
        columns = ", ".join(f'"{c}"' for c in NEEDED_COLUMNS)
        table = con.sql(
            f"select {columns} from reminders where month in (?, ?)", params=[months[0], months[-1]]
        ).to_arrow_table()
        return pl.from_arrow(table)
    finally:
        con.close()


# ---------------------------------------------------------------------------- writing


DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')


def _cell_formats(workbook: xlsxwriter.Workbook) -> dict[str, object]:
    return {
        "header": workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
    }


def _sheet_frame(workbook, formats, name: str, columns: tuple[Column, ...], shown: pl.DataFrame) -> None:
    """A sheet with everything but its data rows: widths, date columns, the header, frozen and filtered."""
    sheet = workbook.add_worksheet(name)
    for index, (column, header) in enumerate(zip(columns, shown.columns, strict=True)):
        sheet.set_column(index, index, column.width, formats["date"] if column.kind == "date" else None)
        sheet.write_string(0, index, header, formats["header"])
    sheet.freeze_panes(1, 0)
    if shown.height:
        sheet.autofilter(0, 0, shown.height, len(columns) - 1)


def list_row_xml(
    names: list[str], columns: tuple[Column, ...], row_number: pl.Expr, date_style: int
) -> pl.Expr:
    """Each row as a SpreadsheetML ``<row>`` element (``sources/spreadsheet.py``); ``row_number``
    is its Excel row (2 for the first data row, under the header).

    Why not xlsxwriter's ``write_*`` per cell: ~15 us of Python per cell, and at M a month's files
    hold ~30 million cells (7-8 minutes); these expressions build the same XML in polars' native
    code, for a batch of dealers at once. xlsxwriter still writes the rest of the package (styles,
    header, widths, frozen header, filter, properties)."""
    row = row_number.cast(pl.Utf8)
    cells = []
    for index, (name, column) in enumerate(zip(names, columns, strict=True)):
        letter, value = spreadsheet.column_letter(index), pl.col(name)
        if column.kind == "date":
            cells.append(spreadsheet.number_cell(spreadsheet.excel_days(value), letter, row, date_style))
        elif column.kind == "int":
            cells.append(spreadsheet.number_cell(value, letter, row))
        else:  # text stays text: a VIN or a task id is never turned into a number
            cells.append(spreadsheet.text_cell(value, letter, row))
    return spreadsheet.row_xml(cells, row)


def sheet_rows_xml(shown: pl.DataFrame, columns: tuple[Column, ...]) -> str:
    """The data rows of one sheet (``shown`` as ``present`` returns it) as XML."""
    rows = shown.select(list_row_xml(shown.columns, columns, pl.int_range(pl.len()) + 2, date_style()))
    return "".join(rows.to_series().to_list())


def _with_rows(package: bytes, sheets: dict[str, tuple[str, str]]) -> bytes:
    """The xlsxwriter package with each sheet's data rows put into its ``<sheetData>`` and its
    ``<dimension>`` set to the filled range. Entries keep xlsxwriter's order and fixed timestamps,
    so the same lists give the same bytes. Deflate level 1: a third of the default's time, the
    file ~15 % larger."""
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename in sheets:
                rows, dimension = sheets[info.filename]
                data = DIMENSION.sub(f'<dimension ref="{dimension}"/>'.encode(), data, count=1)
                head, tail = data.split(b"</sheetData>", 1)
                data = head + rows.encode("utf-8") + b"</sheetData>" + tail
            target.writestr(info, data, compresslevel=1)
    return out.getvalue()


def _package(
    lists: list[tuple[DealerList, pl.DataFrame]], created: dt.datetime, title: str, language: str
) -> tuple[bytes, int]:
    """The workbook without data rows, and the style index xlsxwriter gave the date format."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    # fixed properties: without them xlsxwriter stamps the current time and a rerun differs
    workbook.set_properties(
        {"title": title, "author": "aftercare", "company": "aftercare", "created": created}
    )
    formats = _cell_formats(workbook)
    for spec, shown in lists:
        _sheet_frame(workbook, formats, spec.title(language), spec.columns, shown)
    workbook.close()
    return buffer.getvalue(), formats["date"].xf_index  # the index is assigned when the package is written


@functools.cache
def date_style() -> int:
    """The date format's style index in every ``reminders.xlsx`` (the formats are made and used in
    the same order in every workbook); rows are rendered with it before their workbook exists."""
    empty = [(spec, present(pl.DataFrame(schema=dict.fromkeys(NEEDED_COLUMNS)), spec)) for spec in LISTS]
    return _package(empty, dt.datetime(2000, 1, 1), "", "zh")[1]


def workbook_bytes(
    lists: list[tuple[DealerList, pl.DataFrame]],
    created: dt.datetime,
    title: str,
    language: str = "zh",
    rows: list[str] | None = None,
) -> bytes:
    """``reminders.xlsx`` for one dealer: one sheet per list, in memory, reproducible. ``rows``: each
    sheet's data rows already rendered (``list_row_xml``), else they are rendered here."""
    package, style = _package(lists, created, title, language)
    if style != date_style():
        raise AssertionError(f"the date format has style {style}, the rows were rendered with {date_style()}")
    if rows is None:
        rows = [sheet_rows_xml(shown, spec.columns) for spec, shown in lists]
    sheets = {
        f"xl/worksheets/sheet{number}.xml": (
            xml,
            f"A1:{xl_rowcol_to_cell(shown.height, len(spec.columns) - 1)}",
        )
        for number, ((spec, shown), xml) in enumerate(zip(lists, rows, strict=True), start=1)
    }
    return _with_rows(package, sheets)


def csv_bytes(shown: pl.DataFrame) -> bytes:
    """UTF-8 with a BOM, so Excel on Windows opens the Chinese correctly."""
    return shown.write_csv(include_bom=True, date_format="%Y-%m-%d").encode("utf-8")


def write_if_changed(path: Path, data: bytes) -> bool:
    """Atomically replace ``path`` with ``data``; leave it alone (False) when it holds those bytes."""
    if path.exists() and path.read_bytes() == data:
        return False
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return True


def _remove_stale(month_folder: Path, keep: set[str], report: ExportReport) -> None:
    """A dealer folder of an earlier run of this month that has no list now: our files go."""
    if not month_folder.exists():
        return
    for folder in sorted(p for p in month_folder.iterdir() if p.is_dir() and p.name not in keep):
        for name in OWN_FILES:
            (folder / name).unlink(missing_ok=True)
        if not any(folder.iterdir()):
            folder.rmdir()
        report.stale_folders_removed.append(folder.name)


def _rendered_by_dealer(selected: pl.DataFrame, spec: DealerList, dealers: list[str]) -> dict:
    """One list of some dealers as shown (``present``) with each row's sheet XML, split by dealer;
    under ``None`` the empty list."""
    rows = selected.filter(pl.col("dealer_code").is_in(dealers))
    shown = present(rows, spec)
    row_of_dealer = pl.int_range(pl.len()).over(DEALER) + 2  # the header is row 1
    parts = (
        shown.with_columns(rows["dealer_code"].alias(DEALER))
        .with_columns(list_row_xml(shown.columns, spec.columns, row_of_dealer, date_style()).alias(ROW_XML))
        .partition_by(DEALER, as_dict=True, maintain_order=True)
    )
    parts[None] = shown.clear().with_columns(
        pl.lit(None, pl.Utf8).alias(DEALER), pl.lit(None, pl.Utf8).alias(ROW_XML)
    )
    return parts


def _write_dealer_folder(
    month_folder: Path, rendered: dict, created: dt.datetime, month: str, code: str
) -> tuple[int, int]:
    """One dealer's ``reminders.xlsx`` and CSV files from its batch's rendered lists, each written
    only when its bytes change; returns (files written, files unchanged)."""
    folder = month_folder / code
    folder.mkdir(exist_ok=True)
    lists, sheet_rows = [], []
    for spec in LISTS:
        part = rendered[spec.key].get((code,))
        if part is None:
            part = rendered[spec.key][None]
        lists.append((spec, part.drop(DEALER, ROW_XML)))
        sheet_rows.append("".join(part[ROW_XML].to_list()))
    files = {f"{spec.key}.csv": csv_bytes(shown) for spec, shown in lists}
    files[WORKBOOK_NAME] = workbook_bytes(lists, created, f"{month} 售后提醒名单 {code}", rows=sheet_rows)
    changed = [write_if_changed(folder / name, data) for name, data in sorted(files.items())]
    return sum(changed), len(changed) - sum(changed)


def _count_written(writing: Iterator[tuple[int, int]], report: ExportReport) -> None:
    """Wait for a batch's dealers (a failure of one is raised here) and count their files."""
    for written, unchanged in writing:
        report.files_written += written
        report.files_unchanged += unchanged


def write_dealer_files(serving: Path, exports: Path, month: str, as_of: dt.date) -> ExportReport:
    first_day = dt.date.fromisoformat(f"{month}-01")
    rows = read_reminders(serving, first_day)
    report = ExportReport(month=month, folder=exports / month)
    selected = {spec.key: select_rows(rows, first_day, spec) for spec in LISTS}
    report.rows = {spec.key: selected[spec.key].height for spec in LISTS}
    report.closed_left_out = closed_rows(rows, first_day)
    created = dt.datetime.combine(as_of, dt.time(0, 0))
    codes = dealer_codes(selected.values())
    usable = [c for c in codes if SAFE_DEALER_CODE.match(c)]
    report.skipped_dealer_codes = [c for c in codes if c not in usable]
    report.folder.mkdir(parents=True, exist_ok=True)
    _remove_stale(report.folder, set(usable), report)
    # the lists are presented and rendered as sheet rows for a batch of dealers at a time (polars),
    # then each dealer's files are put together and written on the pool's threads while this thread
    # renders the next batch
    with ThreadPoolExecutor(max_workers=EXPORT_THREADS, thread_name_prefix="dealer-files") as pool:
        writing: Iterator[tuple[int, int]] = iter(())
        for start in range(0, len(usable), DEALERS_PER_BATCH):
            batch = usable[start : start + DEALERS_PER_BATCH]
            rendered = {spec.key: _rendered_by_dealer(selected[spec.key], spec, batch) for spec in LISTS}
            _count_written(writing, report)
            write = functools.partial(_write_dealer_folder, report.folder, rendered, created, month)
            writing = pool.map(write, batch)
        _count_written(writing, report)
    report.dealers = len(usable)
    return report


# ---------------------------------------------------------------------------- the asset


@dg.asset(
    key=["exports", "dealer_files"],
    group_name="exports",
    kinds={"xlsx", "csv"},
    partitions_def=monthly_partitions,
    backfill_policy=one_month_per_run,
    deps=[dg.AssetKey(["serving", "database"])],
    description=(
        "Every dealer's reminder lists for month M (应提醒; 未提醒, 未跟踪, 未回厂 of M-1) under "
        "paths.exports/<YYYY-MM>/<dealer_code>/, as reminders.xlsx and UTF-8-BOM CSV, from the "
        "published serving.duckdb (after the quality gate)."
    ),
)
def dealer_files(
    context: dg.AssetExecutionContext, settings: AftercareSettings, run_month: RunMonth
) -> dg.MaterializeResult:
    paths = settings.settings.paths
    assert run_month.month is not None
    try:
        report = write_dealer_files(
            Path(paths.serving), Path(paths.exports), run_month.month, run_month.as_of
        )
    except ExportError as exc:
        raise dg.Failure(description=f"dealer files for {run_month.month}: {exc}") from exc
    if report.skipped_dealer_codes:
        context.log.warning(
            "dealer codes not usable as folder names, their lists were not written: "
            f"{report.skipped_dealer_codes}"
        )
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(report.folder)),
            "dealers": report.dealers,
            **{f"rows_{key}": n for key, n in report.rows.items()},
            "closed_left_out": report.closed_left_out,
            "files_written": report.files_written,
            "files_unchanged": report.files_unchanged,
            "skipped_dealer_codes": ", ".join(report.skipped_dealer_codes) or "-",
            "stale_folders_removed": ", ".join(report.stale_folders_removed) or "-",
        }
    )
