"""Reading one export file into all-text columns named as ``SOURCES.md`` names them.

What a dealer's system or a person with Excel hands over is taken as it is: comma or tab, UTF-8
with or without BOM, UTF-16 with a BOM (Excel's "Unicode text") or GBK/GB18030, up to five title
rows above the header, English or Chinese headers in any order, unknown extra columns. Nothing is
typed here; ``normalize`` does that.

A file that cannot be read as a whole raises ``UnreadableFile`` with the reason in English and
Chinese, naming the byte or line where it can. A line that cannot be a row (more fields than the
header, a cell longer than ``MAX_CELL_CHARS``) does not sink the file: it is set aside in
``RawExport.rejected`` with its row number and reason, for the quarantine.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sys
from calendar import monthrange
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sources.exports.tables import TABLES, TABLES_BY_NAME, Table  # noqa: F401 (TABLES_BY_NAME: callers)
from sources.identifiers import fold_width
from sources.scrub import scrub_text

MAX_TITLE_ROWS = 5
SNIFF_BYTES = 64 * 1024
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
XLSX_SUFFIXES = {".xlsx"}
EXTRA_PREFIX = "__extra__"
ROW_COLUMN = "_source_row"
# no export value is this long: a longer cell is a broken line (a lost line break, binary junk)
MAX_CELL_CHARS = 32 * 1024
RAW_PREVIEW_CHARS = 200  # how much of a rejected line's cell the quarantine keeps


class UnreadableFile(Exception):
    """The file as a whole cannot be ingested: ``str()`` is the English reason, ``zh`` the Chinese."""

    def __init__(self, reason: str, zh: str = ""):
        super().__init__(reason)
        self.zh = zh or reason


def line_of(data: bytes, position: int) -> int:
    """1-based line number of a byte position, as a text editor shows it."""
    return data.count(b"\n", 0, position) + 1


# ---------------------------------------------------------------------------- file names

_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})?(?!\d)")


@dataclass(frozen=True)
class FileName:
    table: Table | None
    file_date: dt.date | None


def _table_prefixes() -> list[tuple[str, Table]]:
    pairs = [(t.name, t) for t in TABLES] + [(zh, t) for t in TABLES for zh in t.names_zh]
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


_PREFIXES = _table_prefixes()
_AFTER_NAME = ("_", "-", " ")


def parse_file_name(name: str) -> FileName:
    """Table from the name's prefix (English, or a Chinese table name), export date from the digits after it.

    ``repair_orders_2026-11-30.csv`` → (repair_orders, 2026-11-30); ``dealers.xlsx`` → (dealers,
    None); ``vehicle_sales_202611.csv`` and ``车辆销售_202611.xlsx`` → (vehicle_sales, the month's
    last day). Longest name wins, so ``campaign_participants_...`` is not read as ``campaigns``.
    """
    stem = fold_width(Path(name).stem).strip().lower()
    table, rest = None, stem
    for prefix, candidate in _PREFIXES:
        if stem == prefix or (stem.startswith(prefix) and stem[len(prefix)] in _AFTER_NAME):
            table, rest = candidate, stem[len(prefix) :]
            break
        if not prefix.isascii() and stem.startswith(prefix) and stem[len(prefix)].isdigit():
            table, rest = candidate, stem[len(prefix) :]  # 车辆销售202611: no separator needed
            break
    file_date = None
    match = _NAME_DATE.search(rest)
    if match:
        year, month, day = int(match[1]), int(match[2]), match[3]
        try:
            file_date = dt.date(year, month, int(day) if day else monthrange(year, month)[1])
        except ValueError:
            file_date = None
    return FileName(table, file_date)


def unrecognised_name(name: str) -> UnreadableFile:
    """The reason for a file whose name starts with no table name: which names work."""
    names = "; ".join(f"{t.name} ({', '.join(t.names_zh)})" for t in TABLES)
    return UnreadableFile(
        f"unrecognised table name in '{name}': the name must start with one of {names}, then optionally "
        "_ and the export date as YYYY-MM-DD, YYYYMMDD or YYYYMM (repair_orders_2026-11-03.csv, "
        "车辆销售_202611.xlsx)",
        f"文件名“{name}”中的表名无法识别：文件名须以下列表名之一开头：{names}，可再接 _ 和导出日期"
        "（YYYY-MM-DD、YYYYMMDD 或 YYYYMM，例如 repair_orders_2026-11-03.csv、车辆销售_202611.xlsx）",
    )


# ---------------------------------------------------------------------------- headers


def fold_header(text: str | None) -> str:
    """How headers are compared: NFKC (full-width folded), no spaces at all, lower case."""
    if text is None:
        return ""
    return re.sub(r"\s+", "", fold_width(str(text)).replace("\ufeff", "")).lower()


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
            "(expected English column names or their Chinese aliases)",
            f"前 {MAX_TITLE_ROWS + 1} 行中没有 {table.name} 的表头（应为英文列名或其中文别名）",
        )
    index, _, names = best
    missing = [c for c in table.required_columns if c not in names]
    if missing:
        raise UnreadableFile(
            f"missing required column(s): {', '.join(missing)}", f"缺少必填列：{', '.join(missing)}"
        )
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
    # lines that cannot be rows: _source_row, _q_column, _q_reason, _raw_row (JSON, scrubbed)
    rejected: pl.DataFrame = field(default_factory=lambda: empty_rejected())

    @property
    def rows_read(self) -> int:
        return self.frame.height + self.rejected.height


REJECTED_SCHEMA = {
    ROW_COLUMN: pl.Int32,
    "_q_column": pl.String,
    "_q_reason": pl.String,
    "_raw_row": pl.String,
}


def empty_rejected() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECTED_SCHEMA)


def detect_encoding(data: bytes) -> str:
    """``utf-8-sig``, ``utf-16``, ``utf-8`` or ``gb18030`` (a superset of GBK), judged on the file's start.

    Only a first guess: ``decode_text`` checks the whole file.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = data[:SNIFF_BYTES]
    if b"\x00" in sample:
        raise UnreadableFile(
            "binary content (NUL bytes): not a CSV text file (UTF-16 needs its byte-order mark)",
            "二进制内容（含 NUL 字节）：不是 CSV 文本文件（UTF-16 文件须带字节顺序标记 BOM）",
        )
    for cut in range(4):  # the sample may end inside a multi-byte character
        try:
            sample[: len(sample) - cut].decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            continue
    return "gb18030"


def _mostly_utf8(data: bytes) -> bool:
    """Whether a file that is not valid UTF-8 is still UTF-8 text with a few bad bytes.

    GBK text read as UTF-8 is nearly all invalid; UTF-8 with a stray byte is nearly all valid.
    """
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", errors="ignore")) - bad  # non-ASCII, counted in C
    return good >= 4 * bad and good > 0


def _simplified_share(text: str, sample: int = 20_000) -> tuple[float, int]:
    """Share of the first ``sample`` East Asian characters (U+3000 and up: CJK symbols, kana,
    ideographs, full-width forms) that GB2312, the common simplified Chinese set, holds.

    Big5 (traditional Chinese) bytes also decode as GB18030, into rare ideographs and stray kana: a
    file read that way is garbled although no byte is invalid. Real GBK exports are nearly all
    GB2312 characters (symbols below U+3000 such as ``¥`` are not counted either way).
    """
    seen = found = 0
    for match in re.finditer(r"[\u3000-\U0010ffff]", text):
        seen += 1
        try:
            match.group().encode("gb2312")
            found += 1
        except UnicodeEncodeError:
            pass
        if seen >= sample:
            break
    return (found / seen if seen else 1.0), seen


MIN_SIMPLIFIED_SHARE = 0.9


def decode_gb18030(data: bytes) -> str:
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = line_of(data, exc.start)
        raise UnreadableFile(
            f"unknown text encoding: neither UTF-8 nor GBK/GB18030 (byte {exc.start}, line {line}); "
            "save the file as UTF-8",
            f"无法识别的文本编码：既不是 UTF-8 也不是 GBK/GB18030（第 {line} 行，第 {exc.start} 字节）；"
            "请另存为 UTF-8",
        ) from exc
    share, seen = _simplified_share(text)
    if seen and share < MIN_SIMPLIFIED_SHARE:
        raise UnreadableFile(
            f"the text is not GBK/GB18030: read that way only {share:.0%} of its Chinese characters are "
            "common simplified ones (Big5 or another encoding?); save the file as UTF-8",
            f"文本不是 GBK/GB18030 编码：按此读取只有 {share:.0%} 的汉字是常用简体字"
            "（可能是 Big5 等其他编码）；请另存为 UTF-8",
        )
    return text


def not_utf8(data: bytes, exc: UnicodeDecodeError) -> UnreadableFile:
    """The reason for a UTF-8 file with an invalid byte (or one cut inside a character)."""
    line = line_of(data, exc.start)
    if exc.end >= len(data) and "unexpected end" in exc.reason:
        return UnreadableFile(
            f"the file ends inside a character (byte {exc.start}, line {line}): the copy was cut short",
            f"文件在一个字符中间结束（第 {line} 行，第 {exc.start} 字节）：文件复制不完整",
        )
    return UnreadableFile(
        f"invalid UTF-8 at byte {exc.start} (line {line}): the file is UTF-8 but this byte is not; "
        "export or save it again",
        f"第 {line} 行（第 {exc.start} 字节）不是有效的 UTF-8：文件是 UTF-8 编码但此处字节损坏；"
        "请重新导出或保存",
    )


def decode_text(data: bytes) -> tuple[bytes, str]:
    """The file as UTF-8 bytes, and the encoding it came in; the whole file is checked.

    UTF-8 (with or without BOM) is validated as it is; UTF-16 with a BOM and GBK/GB18030 are
    converted. Anything else is refused with the byte and line where it stops making sense.
    """
    encoding = detect_encoding(data)
    if encoding == "utf-16":
        try:
            return data.decode("utf-16").encode("utf-8"), "utf-16"
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                f"invalid UTF-16 at byte {exc.start}: {exc.reason}", f"第 {exc.start} 字节不是有效的 UTF-16"
            ) from exc
    body = data[3:] if encoding == "utf-8-sig" else data
    if encoding == "gb18030":
        return decode_gb18030(body).encode("utf-8"), "gb18030"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # the start looked like UTF-8 but the rest is not: GBK further down (Excel on Windows), or a
        # UTF-8 file with a corrupt byte
        if encoding == "utf-8-sig" or _mostly_utf8(body):
            raise not_utf8(body, exc) from exc
        return decode_gb18030(body).encode("utf-8"), "gb18030"
    return body, encoding


def _sniff_rows(text: str) -> dict[str, list[list[str]]]:
    lines = text.splitlines()[: MAX_TITLE_ROWS + 1]
    return {sep: [next(csv.reader([line], delimiter=sep), []) for line in lines] for sep in (",", "\t")}


def read_csv(path: Path, table: Table) -> RawExport:
    original = path.read_bytes()
    if not original.strip():
        raise UnreadableFile("empty file", "空文件")
    encoding = detect_encoding(original)
    if encoding in ("utf-8", "utf-8-sig"):
        # UTF-8 is validated by polars as it parses (no second pass over big files); only when it
        # refuses does ``decode_text`` look at the whole file
        data = original[3:] if encoding == "utf-8-sig" else original
    else:
        data, encoding = decode_text(original)
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
        frame = _polars_csv(data, index, sep)
    except pl.exceptions.ComputeError as exc:
        if "utf-8" not in str(exc).splitlines()[0]:
            # ragged lines, stray quotes: read line by line, set aside what cannot be a row
            return read_csv_rows(table, data, index, sep, names, encoding)
        # the start looked like UTF-8 but the rest is not: GBK further down (Excel on Windows), or a
        # UTF-8 file with a corrupt byte (refused, naming the byte and line)
        data, encoding = decode_text(original)
        try:
            frame = _polars_csv(data, index, sep)
        except pl.exceptions.ComputeError:
            return read_csv_rows(table, data, index, sep, names, encoding)
    return _finish(table, frame, names, index, encoding, "tab" if sep == "\t" else "comma")


def _polars_csv(data: bytes, index: int, sep: str) -> pl.DataFrame:
    return pl.read_csv(
        io.BytesIO(data), has_header=True, skip_rows=index, separator=sep, infer_schema=False, encoding="utf8"
    )


def read_csv_rows(
    table: Table, data: bytes, index: int, sep: str, names: list[str], encoding: str
) -> RawExport:
    """The slow, forgiving path (Python's csv module) for what polars refuses as a whole.

    A line with more fields than the header cannot be a row: it is set aside with its row and line
    number. A quote left open to the end of the file makes the file unreadable (the rows after it
    would be swallowed into one cell): refused with the line where the quote opens.
    """
    csv.field_size_limit(sys.maxsize)  # over-long cells are caught (and set aside) in _finish
    text = data.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    try:
        for _ in range(index + 1):  # title rows and the header
            next(reader, None)
        start = reader.line_num + 1
        for record in reader:
            records.append(record)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UnreadableFile(
            f"cannot parse as CSV at line {start}: {exc} (an unclosed quote?)",
            f"第 {start} 行起无法按 CSV 解析：{exc}（引号未闭合？）",
        ) from exc
    width = len(names)
    header_row = index + 1
    good: list[list[str | None]] = []
    good_rows: list[int] = []
    rejected = []
    for position, (record, line) in enumerate(zip(records, lines, strict=True)):
        row_number = header_row + 1 + position
        if len(record) > width:
            rejected.append(
                {
                    ROW_COLUMN: row_number,
                    "_q_column": None,
                    "_q_reason": (
                        f"ragged line: {len(record)} fields where the header has {width} (line {line})"
                    ),
                    "_raw_row": _raw_line(names, record),
                }
            )
            continue
        good.append([*record, *([None] * (width - len(record)))])
        good_rows.append(row_number)
    frame = pl.DataFrame(
        {f"c{i}": [row[i] for row in good] for i in range(width)},
        schema={f"c{i}": pl.String for i in range(width)},
    )
    raw = _finish(
        table, frame, names, index, encoding, "tab" if sep == "\t" else "comma", source_rows=good_rows
    )
    if rejected:
        raw.rejected = pl.concat([raw.rejected, pl.DataFrame(rejected, schema=REJECTED_SCHEMA)]).sort(
            ROW_COLUMN
        )
    return raw


def _raw_line(names: list[str], values: list[str | None]) -> str:
    """A rejected line as JSON for the quarantine: header → value, surplus fields listed, every value
    scrubbed of personal numbers and cut to ``RAW_PREVIEW_CHARS``."""

    def preview(value: str | None) -> str | None:
        if value is None:
            return None
        text = scrub_text(
            value[: RAW_PREVIEW_CHARS + 40]
        )  # a little more, so a number cut at the edge is seen
        text = text[:RAW_PREVIEW_CHARS] if text else text
        return text + f"…({len(value)} characters)" if len(value) > RAW_PREVIEW_CHARS else text

    labels = [n[len(EXTRA_PREFIX) :] if n.startswith(EXTRA_PREFIX) else n for n in names]
    row: dict[str, object] = {label: preview(v) for label, v in zip(labels, values, strict=False)}
    if len(values) > len(labels):
        row["surplus_fields"] = [preview(v) for v in values[len(labels) :]]
    return json.dumps(row, ensure_ascii=False)


def read_xlsx(path: Path, table: Table) -> RawExport:
    import fastexcel

    if path.stat().st_size == 0:
        raise UnreadableFile("empty file", "空文件")
    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string")
        grid = sheet.to_polars()
    except Exception as exc:  # calamine reports truncated zips, wrong formats, ... in its own words
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnreadableFile(
            f"cannot open as .xlsx: {first}", f"无法作为 .xlsx 打开（文件损坏或不是工作簿）：{first}"
        ) from exc
    if grid.height == 0:
        raise UnreadableFile("empty workbook (first sheet has no rows)", "空工作簿（第一个工作表没有行）")
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
    source_rows: list[int] | None = None,
) -> RawExport:
    # columns beyond the header (ragged rows) keep a name too, so nothing is dropped
    width = frame.width
    names = names[:width] + [f"{EXTRA_PREFIX}column_{i + 1}" for i in range(len(names), width)]
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    header_row = header_index + 1
    frame = frame.with_columns(pl.all().cast(pl.String))
    if source_rows is None:
        frame = frame.with_row_index(ROW_COLUMN, offset=header_row + 1)
    else:
        frame = frame.with_columns(pl.Series(ROW_COLUMN, source_rows)).select(ROW_COLUMN, *names)
    frame = frame.with_columns(pl.col(ROW_COLUMN).cast(pl.Int32))
    # blank lines carry nothing: they are not rows
    data_columns = [c for c in frame.columns if c != ROW_COLUMN]
    if data_columns:
        frame = frame.filter(
            pl.any_horizontal(pl.col(c).str.strip_chars().str.len_chars() > 0 for c in data_columns)
        )
    frame, rejected = _set_aside_giant_cells(frame, data_columns)
    for col in table.columns:  # an optional column absent from this file is null for its rows
        if col.name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(col.name))
    extra = [c for c in frame.columns if c.startswith(EXTRA_PREFIX)]
    return RawExport(table, frame, encoding, delimiter, header_row, extra, rejected)


def _set_aside_giant_cells(frame: pl.DataFrame, columns: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows with a cell longer than ``MAX_CELL_CHARS`` (a lost line break, junk) leave the frame."""
    if not columns or frame.height == 0:
        return frame, empty_rejected()
    longest = pl.max_horizontal(pl.col(c).str.len_chars().fill_null(0) for c in columns)
    giant = frame.filter(longest > MAX_CELL_CHARS)
    if giant.height == 0:
        return frame, empty_rejected()
    rows = []
    for record in giant.iter_rows(named=True):
        too_long = [c for c in columns if record[c] is not None and len(record[c]) > MAX_CELL_CHARS]
        labels = [c[len(EXTRA_PREFIX) :] if c.startswith(EXTRA_PREFIX) else c for c in too_long]
        rows.append(
            {
                ROW_COLUMN: record[ROW_COLUMN],
                "_q_column": ",".join(labels),
                "_q_reason": "cell longer than "
                + f"{MAX_CELL_CHARS} characters: {', '.join(f'{c} ({len(record[c])})' for c in too_long)}",
                "_raw_row": _raw_line(columns, [record[c] for c in columns]),
            }
        )
    return frame.filter(longest <= MAX_CELL_CHARS), pl.DataFrame(rows, schema=REJECTED_SCHEMA)


def read_export(path: Path, table: Table) -> RawExport:
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return read_xlsx(path, table)
    if suffix in CSV_SUFFIXES:
        return read_csv(path, table)
    raise UnreadableFile(
        f"unsupported file type {suffix or '(none)'}: expected .csv, .tsv, .txt or .xlsx",
        f"不支持的文件类型 {suffix or '（无扩展名）'}：应为 .csv、.tsv、.txt 或 .xlsx",
    )
