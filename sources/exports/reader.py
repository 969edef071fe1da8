"""Reading one export file into all-text columns named as ``SOURCES.md`` names them.

What a dealer's system or a person with Excel hands over is taken as it is: comma or tab, UTF-8
with or without BOM or GBK/GB18030, up to five title rows above the header, English or Chinese
headers in any order, unknown extra columns. Nothing is typed here; ``normalize`` does that.

A file that cannot be read raises ``UnreadableFile`` with a sentence saying why.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from calendar import monthrange
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sources.exports.tables import TABLES_BY_NAME, Table

MAX_TITLE_ROWS = 5
SNIFF_BYTES = 64 * 1024
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
XLSX_SUFFIXES = {".xlsx"}
EXTRA_PREFIX = "__extra__"
ROW_COLUMN = "_source_row"


class UnreadableFile(Exception):
    """The file as a whole cannot be ingested; the message is the reason shown to people."""


# ---------------------------------------------------------------------------- file names

_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})?(?!\d)")


@dataclass(frozen=True)
class FileName:
    table: Table | None
    file_date: dt.date | None


def parse_file_name(name: str) -> FileName:
    """Table from the English prefix, export date from the digits after it.

    ``repair_orders_2026-11-30.csv`` → (repair_orders, 2026-11-30); ``dealers.xlsx`` → (dealers,
    None); ``vehicle_sales_202611.csv`` → the month's last day. Longest table name wins, so
    ``campaign_participants_...`` is not read as ``campaigns``.
    """
    stem = unicodedata.normalize("NFKC", Path(name).stem).strip().lower()
    table = None
    for candidate in sorted(TABLES_BY_NAME, key=len, reverse=True):
        if stem == candidate or stem.startswith(candidate + "_") or stem.startswith(candidate + "-"):
            table = TABLES_BY_NAME[candidate]
            break
    rest = stem[len(table.name) :] if table else stem
    file_date = None
    match = _NAME_DATE.search(rest)
    if match:
        year, month, day = int(match[1]), int(match[2]), match[3]
        try:
            file_date = dt.date(year, month, int(day) if day else monthrange(year, month)[1])
        except ValueError:
            file_date = None
    return FileName(table, file_date)


# ---------------------------------------------------------------------------- headers


def fold_header(text: str | None) -> str:
    """How headers are compared: NFKC (full-width folded), no spaces at all, lower case."""
    if text is None:
        return ""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")).lower()


def header_lookup(table: Table) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for col in table.columns:
        for name in (col.name, *col.aliases):
            lookup.setdefault(fold_header(name), col.name)
    return lookup


def map_headers(table: Table, headers: list[str | None]) -> tuple[list[str], int]:
    """Column names for a header row (known → English name, unknown → kept aside) and the hit count."""
    lookup = header_lookup(table)
    names: list[str] = []
    seen: set[str] = set()
    hits = 0
    for position, header in enumerate(headers):
        canonical = lookup.get(fold_header(header))
        if canonical and canonical not in seen:
            seen.add(canonical)
            names.append(canonical)
            hits += 1
        else:
            label = (str(header).strip() if header is not None else "") or f"column_{position + 1}"
            name = f"{EXTRA_PREFIX}{label}"
            while name in names:
                name += "_"
            names.append(name)
    return names, hits


def find_header(table: Table, rows: list[list[str | None]]) -> tuple[int, list[str]]:
    """Index of the header among the first rows (title rows above it) and the mapped names."""
    best: tuple[int, int, list[str]] | None = None
    for index, row in enumerate(rows[: MAX_TITLE_ROWS + 1]):
        names, hits = map_headers(table, row)
        if hits and (best is None or hits > best[1]):
            best = (index, hits, names)
    if best is None:
        raise UnreadableFile(
            f"no header row for {table.name} in the first {MAX_TITLE_ROWS + 1} rows "
            "(expected English column names or their Chinese aliases)"
        )
    index, _, names = best
    missing = [c for c in table.required_columns if c not in names]
    if missing:
        raise UnreadableFile(f"missing required column(s): {', '.join(missing)}")
    return index, names


# ---------------------------------------------------------------------------- reading


@dataclass
class RawExport:
    """All-text rows of one file: known columns under their English names, unknown ones prefixed."""

    table: Table
    frame: pl.DataFrame  # String columns + _source_row (Excel row number)
    encoding: str = ""
    delimiter: str = ""
    header_row: int = 0  # 1-based
    extra_columns: list[str] = field(default_factory=list)


def detect_encoding(data: bytes) -> str:
    """``utf-8-sig``, ``utf-8`` or ``gb18030`` (a superset of GBK), judged on the file's start."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    sample = data[:SNIFF_BYTES]
    if b"\x00" in sample:
        raise UnreadableFile("binary content (NUL bytes): not a CSV text file")
    for cut in range(4):  # the sample may end inside a multi-byte character
        try:
            sample[: len(sample) - cut].decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            continue
    error = None
    for cut in range(4):  # a GB18030 character is up to 4 bytes long
        try:
            sample[: len(sample) - cut].decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError as exc:
            error = error or exc
    raise UnreadableFile(f"unknown text encoding (neither UTF-8 nor GBK/GB18030): {error.reason}")


def _sniff_rows(text: str) -> dict[str, list[list[str]]]:
    lines = text.splitlines()[: MAX_TITLE_ROWS + 1]
    return {sep: [next(csv.reader([line], delimiter=sep), []) for line in lines] for sep in (",", "\t")}


def read_csv(path: Path, table: Table) -> RawExport:
    data = path.read_bytes()
    if not data.strip():
        raise UnreadableFile("empty file")
    encoding = detect_encoding(data)
    if encoding == "gb18030":
        try:
            data = data.decode("gb18030").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"invalid GBK/GB18030 text at byte {exc.start}") from exc
    elif encoding == "utf-8-sig":
        data = data[3:]
    head = data[:SNIFF_BYTES].decode("utf-8", errors="ignore")
    best = None
    for sep, rows in _sniff_rows(head).items():
        try:
            index, names = find_header(table, rows)
        except UnreadableFile as exc:
            best = best or (None, None, None, exc)
            continue
        hits = sum(not n.startswith(EXTRA_PREFIX) for n in names)
        if best is None or best[0] is None or hits > best[3]:
            best = (sep, index, names, hits)
    assert best is not None
    if best[0] is None:
        raise best[3]
    sep, index, names, _ = best
    try:
        frame = pl.read_csv(
            io.BytesIO(data),
            has_header=True,
            skip_rows=index,
            separator=sep,
            infer_schema=False,
            encoding="utf8",
        )
    except pl.exceptions.ComputeError as exc:
        message = str(exc).splitlines()[0]
        if "utf-8" in message and encoding == "utf-8":
            # the start looked like UTF-8 but the rest is not: an Excel-on-Windows GBK file
            return read_csv_as(path, table, data.decode("gb18030", errors="strict"), index, sep, names)
        raise UnreadableFile(f"cannot parse as CSV: {message}") from exc
    return _finish(table, frame, names, index, encoding, "tab" if sep == "\t" else "comma")


def read_csv_as(path: Path, table: Table, text: str, index: int, sep: str, names: list[str]) -> RawExport:
    frame = pl.read_csv(
        io.BytesIO(text.encode("utf-8")), has_header=True, skip_rows=index, separator=sep, infer_schema=False
    )
    return _finish(table, frame, names, index, "gb18030", "tab" if sep == "\t" else "comma")


def read_xlsx(path: Path, table: Table) -> RawExport:
    import fastexcel

    if path.stat().st_size == 0:
        raise UnreadableFile("empty file")
    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string")
        grid = sheet.to_polars()
    except Exception as exc:  # calamine reports truncated zips, wrong formats, ... in its own words
        raise UnreadableFile(f"cannot open as .xlsx: {str(exc).splitlines()[0]}") from exc
    if grid.height == 0:
        raise UnreadableFile("empty workbook (first sheet has no rows)")
    head = [list(row) for row in grid.head(MAX_TITLE_ROWS + 1).iter_rows()]
    index, names = find_header(table, head)
    frame = grid.slice(index + 1)
    frame.columns = [f"c{i}" for i in range(frame.width)]
    return _finish(table, frame, names, index, "xlsx", "", positional=True)


def _finish(
    table: Table,
    frame: pl.DataFrame,
    names: list[str],
    header_index: int,
    encoding: str,
    delimiter: str,
    positional: bool = False,
) -> RawExport:
    # columns beyond the header (ragged rows) keep a name too, so nothing is dropped
    width = frame.width
    names = names[:width] + [f"{EXTRA_PREFIX}column_{i + 1}" for i in range(len(names), width)]
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    header_row = header_index + 1
    frame = frame.with_columns(pl.all().cast(pl.String)).with_row_index(ROW_COLUMN, offset=header_row + 1)
    frame = frame.with_columns(pl.col(ROW_COLUMN).cast(pl.Int32))
    # blank lines carry nothing: they are not rows
    data_columns = [c for c in frame.columns if c != ROW_COLUMN]
    if data_columns:
        frame = frame.filter(
            pl.any_horizontal(pl.col(c).str.strip_chars().str.len_chars() > 0 for c in data_columns)
        )
    for col in table.columns:  # an optional column absent from this file is null for its rows
        if col.name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(col.name))
    extra = [c for c in frame.columns if c.startswith(EXTRA_PREFIX)]
    return RawExport(table, frame, encoding, delimiter, header_row, extra)


def read_export(path: Path, table: Table) -> RawExport:
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return read_xlsx(path, table)
    if suffix in CSV_SUFFIXES:
        return read_csv(path, table)
    raise UnreadableFile(f"unsupported file type {suffix or '(none)'}: expected .csv, .tsv, .txt or .xlsx")
