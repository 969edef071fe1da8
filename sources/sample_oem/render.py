"""From typed tables to dirty export files: value dirt (mobiles, ID numbers, bad rows) over whole
columns, then one physical style per file (CSV or xlsx, encoding, delimiter, header language, title
rows, date / amount / boolean forms) chosen from the table's own random stream."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from sources.sample_oem import dates as D
from sources.sample_oem import identity as I
from sources.sample_oem.geography import BRAND
from sources.sample_oem.spec import DIRT, EXTRA_COLUMNS, Table
from sources.sample_oem.xlsx_fast import STYLE_AMOUNT, STYLE_DATE, STYLE_DATETIME, write_xlsx

FULLWIDTH = list("０１２３４５６７８９")
DIGITS = list("0123456789")
DATE_FORMS = ["%Y-%m-%d", "%Y/%-m/%-d", "%Y%m%d", "%Y-%m-%d 00:00:00", "%Y年%-m月%-d日"]
TS_FORMS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%-m/%-d %H:%M:%S", "%Y/%-m/%-d %H:%M"]
BOOL_FORMS = [("Y", "N"), ("是", "否"), ("1", "0"), ("true", "false")]
AMOUNT_FORMS = ["plain", "thousands", "yen_thousands", "yen"]
XLSX_MAX_ROWS = 50_000
FIXED_CREATED = dt.datetime(2020, 1, 1)  # xlsx document date: fixed, so bytes are reproducible
TITLES = {
    "vehicle_sales": "销售开票明细",
    "wechat_bindings": "公众号注册绑定明细",
    "bookings": "预约单明细",
    "repair_orders": "维修工单明细",
    "campaigns": "服务活动",
    "campaign_participants": "活动报名明细",
    "reminder_calls": "车辆提醒单",
    "complaints": "客户投诉",
    "rescues": "紧急救援",
    "dealers": "经销商主数据",
    "staff": "员工主数据",
}


class DirtLog:
    """Counts of every dirt form injected, next to the configured rate."""

    def __init__(self):
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, name: str, injected: int, denominator: int) -> None:
        self.counts[name][0] += int(injected)
        self.counts[name][1] += int(denominator)

    def as_json(self) -> dict:
        out = {}
        for name, spec in DIRT.items():
            injected, denominator = self.counts.get(name, [0, 0])
            out[name] = {
                "rate": spec["rate"],
                "of": spec["of"],
                "injected": injected,
                "denominator": denominator,
                "observed_rate": round(injected / denominator, 5) if denominator else None,
            }
        return out


# ------------------------------------------------------------------------------------- value dirt


def dirty_mobiles(rng: np.random.Generator, values: np.ndarray, log: DirtLog) -> pl.Series:
    """Mobiles as people type them: +86 / 0086 prefixes, spaces, dashes, full-width digits."""
    values = np.asarray(values, dtype=np.int64)
    n = values.size
    present = values > 0
    u = rng.random(n)
    bounds = np.cumsum(
        [
            DIRT[k]["rate"]
            for k in ("mobile_plus86", "mobile_0086", "mobile_spaces", "mobile_dashes", "mobile_fullwidth")
        ]
    )
    form = np.where(present, np.searchsorted(bounds, u, side="right"), 5)  # 5 = as is
    for i, k in enumerate(
        ("mobile_plus86", "mobile_0086", "mobile_spaces", "mobile_dashes", "mobile_fullwidth")
    ):
        log.add(k, (form == i).sum(), present.sum())
    s = pl.Series("m", values).cast(pl.Utf8)
    f = pl.Series("f", form)
    df = pl.DataFrame([s, f])
    m = pl.col("m")
    parts = [m.str.slice(0, 3), m.str.slice(3, 4), m.str.slice(7, 4)]
    out = df.select(
        pl.when(pl.col("f") == 0)
        .then(pl.lit("+86 ") + m)
        .when(pl.col("f") == 1)
        .then(pl.lit("0086") + m)
        .when(pl.col("f") == 2)
        .then(pl.concat_str(parts, separator=" "))
        .when(pl.col("f") == 3)
        .then(pl.concat_str(parts, separator="-"))
        .when(pl.col("f") == 4)
        .then(m.str.replace_many(DIGITS, FULLWIDTH))
        .otherwise(m)
        .alias("m")
    ).to_series()
    return out.zip_with(pl.Series(present), pl.Series([None] * n, dtype=pl.Utf8))


def dirty_id_numbers(rng: np.random.Generator, person: np.ndarray, p: dict, log: DirtLog) -> pl.Series:
    """ID numbers as exported: 18-digit, sometimes the old 15-digit form, lower-case x, a few bad checks."""
    person = np.asarray(person, dtype=np.int64)
    n = person.size
    present = person >= 0
    safe = np.maximum(person, 0)
    body = p["id_body"][safe]
    check = p["id_check"][safe].copy()
    present &= body > 0
    old = present & (p["birth_ymd"][safe] < 19850000)
    as15 = old & (rng.random(n) < DIRT["id_15_digit"]["rate"])
    log.add("id_15_digit", as15.sum(), old.sum())
    bad = present & ~as15 & (rng.random(n) < DIRT["id_bad_checksum"]["rate"])
    log.add("id_bad_checksum", bad.sum(), present.sum())
    ends_x = present & ~as15 & ~bad & (check == ord("X"))
    lower = ends_x & (rng.random(n) < DIRT["id_lower_x"]["rate"])
    log.add("id_lower_x", lower.sum(), ends_x.sum())
    # a wrong check character: the next digit (9 and X become 0)
    wrong = np.where((check == ord("X")) | (check == ord("9")), ord("0"), check + 1)
    check = np.where(bad, wrong, np.where(lower, ord("x"), check))
    s18 = I.id_strings(body, check.astype(np.uint8))
    area = body // 100_000_000_000
    ymd = (body // 1000) % 100_000_000
    v15 = area * 1_000_000_000 + (ymd % 1_000_000) * 1000 + body % 1000
    s15 = pl.Series(v15).cast(pl.Utf8).str.zfill(15)
    out = s15.zip_with(pl.Series(as15), s18)
    return out.zip_with(pl.Series(present), pl.Series([None] * n, dtype=pl.Utf8))


# ------------------------------------------------------------------------------------- file styles


@dataclass
class FileStyle:
    xlsx: bool
    encoding: str  # utf-8 / utf-8-sig / gbk / gb18030
    delimiter: str
    chinese: bool
    title_rows: int
    extra_column: str | None
    shuffle: bool
    dropped: tuple[str, ...]
    date_form: str
    ts_form: str
    xlsx_dates: str  # excel / serial / text
    amount_form: str
    xlsx_amount_numbers: bool
    bool_form: tuple[str, str]
    headers: dict[str, str]


def choose_style(
    rng: np.random.Generator, table: Table, rows: int, log: DirtLog, force_xlsx: bool | None
) -> FileStyle:
    xlsx_ok = rows < XLSX_MAX_ROWS
    xlsx = force_xlsx if force_xlsx is not None else (xlsx_ok and rng.random() < DIRT["file_xlsx"]["rate"])
    if force_xlsx is None and xlsx_ok:
        log.add("file_xlsx", xlsx, 1)
    u = rng.random()
    encoding = "utf-8"
    if not xlsx:
        r = np.cumsum(
            [
                DIRT[k]["rate"]
                for k in ("file_encoding_gbk", "file_encoding_gb18030", "file_encoding_utf8_bom")
            ]
        )
        encoding = ["gbk", "gb18030", "utf-8-sig", "utf-8"][int(np.searchsorted(r, u, side="right"))]
        for k, e in (
            ("file_encoding_gbk", "gbk"),
            ("file_encoding_gb18030", "gb18030"),
            ("file_encoding_utf8_bom", "utf-8-sig"),
        ):
            log.add(k, encoding == e, 1)
    tab = (not xlsx) and rng.random() < DIRT["file_tab_delimited"]["rate"]
    if not xlsx:
        log.add("file_tab_delimited", tab, 1)
    chinese = rng.random() < DIRT["file_chinese_headers"]["rate"]
    log.add("file_chinese_headers", chinese, 1)
    headers = {}
    for c in table.columns:
        h = c.name
        if chinese and c.aliases:
            h = c.aliases[int(rng.integers(0, len(c.aliases)))]
            if any("A" <= ch <= "Z" or "a" <= ch <= "z" for ch in h):
                wide = rng.random() < DIRT["file_header_fullwidth"]["rate"]
                log.add("file_header_fullwidth", wide, 1)
                if wide:
                    h = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in h)
        padded = rng.random() < DIRT["file_header_padded"]["rate"]
        log.add("file_header_padded", padded, 1)
        headers[c.name] = f" {h} " if padded else h
    title_rows = 0
    if xlsx:
        has_titles = rng.random() < DIRT["file_title_rows"]["rate"]
        log.add("file_title_rows", has_titles, 1)
        title_rows = int(rng.integers(1, 6)) if has_titles else 0
    extra = rng.random() < DIRT["file_extra_column"]["rate"]
    log.add("file_extra_column", extra, 1)
    shuffle = rng.random() < DIRT["file_shuffled_columns"]["rate"]
    log.add("file_shuffled_columns", shuffle, 1)
    dropped = []
    for c in table.columns:
        if c.droppable:
            drop = rng.random() < DIRT["file_dropped_optional_column"]["rate"]
            log.add("file_dropped_optional_column", drop, 1)
            if drop:
                dropped.append(c.name)
    xlsx_dates = ["excel", "serial", "text"][int(rng.choice(3, p=[0.5, 0.3, 0.2]))] if xlsx else "text"
    if xlsx:
        log.add("file_excel_serial_dates", xlsx_dates == "serial", 1)
    return FileStyle(
        xlsx=bool(xlsx),
        encoding=encoding,
        delimiter="\t" if tab else ",",
        chinese=bool(chinese),
        title_rows=title_rows,
        extra_column=EXTRA_COLUMNS[int(rng.integers(0, len(EXTRA_COLUMNS)))] if extra else None,
        shuffle=bool(shuffle),
        dropped=tuple(dropped),
        date_form=DATE_FORMS[int(rng.integers(0, len(DATE_FORMS)))],
        ts_form=TS_FORMS[int(rng.integers(0, len(TS_FORMS)))],
        xlsx_dates=xlsx_dates,
        amount_form=AMOUNT_FORMS[int(rng.integers(0, len(AMOUNT_FORMS)))],
        xlsx_amount_numbers=bool(rng.random() < 0.7),
        bool_form=BOOL_FORMS[int(rng.integers(0, len(BOOL_FORMS)))],
        headers=headers,
    )


def _amount_text(col: str, form: str) -> pl.Expr:
    cents = (pl.col(col) * 100).round(0).cast(pl.Int64)
    ip = cents // 100
    frac = (cents % 100).cast(pl.Utf8).str.zfill(2)
    plain = ip.cast(pl.Utf8)
    if form in ("thousands", "yen_thousands"):
        grouped = (
            pl.when(ip >= 1_000_000)
            .then(
                pl.concat_str(
                    [
                        (ip // 1_000_000).cast(pl.Utf8),
                        ((ip // 1000) % 1000).cast(pl.Utf8).str.zfill(3),
                        (ip % 1000).cast(pl.Utf8).str.zfill(3),
                    ],
                    separator=",",
                )
            )
            .when(ip >= 1000)
            .then(
                pl.concat_str(
                    [(ip // 1000).cast(pl.Utf8), (ip % 1000).cast(pl.Utf8).str.zfill(3)], separator=","
                )
            )
            .otherwise(plain)
        )
    else:
        grouped = plain
    text = pl.concat_str([grouped, pl.lit("."), frac])
    if form.startswith("yen"):
        text = pl.lit("¥") + text
    return text


def _excel_serial(col: str, kind: str) -> pl.Expr:
    if kind == "date":
        return pl.col(col).cast(pl.Int32).cast(pl.Float64) + 25569.0
    return pl.col(col).dt.epoch("ms").cast(pl.Float64) / 86_400_000.0 + 25569.0


def render_cells(
    df: pl.DataFrame, table: Table, style: FileStyle, bad_date: np.ndarray | None
) -> pl.DataFrame:
    """Every column as the file shows it: strings, or floats for xlsx numbers/dates."""
    exprs = []
    kinds = {c.name: c.kind for c in table.columns}
    has_bad = bad_date is not None and bool(bad_date.any())
    for name in df.columns:
        kind = kinds.get(name, "text")
        c = pl.col(name)
        if kind in ("date", "ts"):
            # a column holding an impossible date is text in xlsx too (Excel cannot store it as a date)
            as_number = not (has_bad and name == table.date_column)
            if style.xlsx and style.xlsx_dates in ("excel", "serial") and as_number:
                e = _excel_serial(name, kind)
            else:
                e = c.dt.strftime(style.date_form if kind == "date" else style.ts_form)
        elif kind == "amount":
            e = c if (style.xlsx and style.xlsx_amount_numbers) else _amount_text(name, style.amount_form)
        elif kind == "bool":
            t, f = style.bool_form
            e = pl.when(c.is_null()).then(None).when(c).then(pl.lit(t)).otherwise(pl.lit(f))
        elif kind == "int":
            e = c.cast(pl.Float64) if style.xlsx else c.cast(pl.Utf8)
        else:
            e = c.cast(pl.Utf8)
        exprs.append(e.alias(name))
    out = df.select(exprs)
    if has_bad and table.date_column in out.columns:
        # an impossible date, written as text whatever the file's form
        col = table.date_column
        text = "2025-02-30" if kinds[col] == "date" else "2025-02-30 10:00:00"
        out = out.with_columns(
            pl.when(pl.Series(bad_date)).then(pl.lit(text)).otherwise(pl.col(col)).alias(col)
        )
    return out


def _title_lines(table: Table, file_day: int | None, n: int) -> list[str]:
    lines = [f"{BRAND}汽车 {TITLES[table.name]}"]
    if file_day is not None:
        lines.append(f"导出日期：{D.to_date(file_day).isoformat()}")
    lines += ["经销商：全部", "数据来源：DMS/CSC", ""]
    return lines[:n]


def write_file(
    path: Path,
    cells: pl.DataFrame,
    table: Table,
    style: FileStyle,
    file_day: int | None,
) -> None:
    kinds = {c.name: c.kind for c in table.columns}
    headers = [style.headers.get(c, c) for c in cells.columns]
    if style.xlsx and table.system != "master":
        # export files: the column-vectorized writer (xlsxwriter goes cell by cell, too slow at scale)
        codes = []
        for c in cells.columns:
            k = kinds.get(c, "text")
            if k == "date" and style.xlsx_dates == "excel":
                codes.append(STYLE_DATE)
            elif k == "ts" and style.xlsx_dates == "excel":
                codes.append(STYLE_DATETIME)
            elif k == "amount":
                codes.append(STYLE_AMOUNT)
            else:
                codes.append(0)
        write_xlsx(path, cells, headers, _title_lines(table, file_day, style.title_rows), codes)
        return
    if style.xlsx:
        # master data (small): written by xlsxwriter, as a second producer of the same shape
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        wb.set_properties({"created": FIXED_CREATED, "author": "DMS"})
        ws = wb.add_worksheet("Sheet1")
        fmt_date = wb.add_format({"num_format": "yyyy-mm-dd"})
        fmt_ts = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        fmt_amount = wb.add_format({"num_format": "#,##0.00"})
        fmts = []
        for c in cells.columns:
            k = kinds.get(c, "text")
            if k == "date" and style.xlsx_dates == "excel":
                fmts.append(fmt_date)
            elif k == "ts" and style.xlsx_dates == "excel":
                fmts.append(fmt_ts)
            elif k == "amount":
                fmts.append(fmt_amount)
            else:
                fmts.append(None)
        r = 0
        for line in _title_lines(table, file_day, style.title_rows):
            if line:
                ws.write_string(r, 0, line)
            r += 1
        ws.write_row(r, 0, headers)
        r += 1
        for row in cells.iter_rows():
            for ci, val in enumerate(row):
                if val is None:
                    continue
                if isinstance(val, str):
                    ws.write_string(r, ci, val)
                else:
                    ws.write_number(r, ci, val, fmts[ci])
            r += 1
        wb.close()
        return
    text_df = cells.with_columns(pl.all().cast(pl.Utf8))
    text_df.columns = headers
    buf = io.BytesIO()
    windows = style.encoding in ("gbk", "gb18030")
    text_df.write_csv(
        buf, separator=style.delimiter, line_terminator="\r\n" if windows else "\n", null_value=""
    )
    raw = buf.getvalue()
    if style.encoding == "utf-8":
        data = raw
    elif style.encoding == "utf-8-sig":
        data = b"\xef\xbb\xbf" + raw
    else:
        text = raw.decode("utf-8")
        if style.encoding == "gbk":
            text = text.replace("¥", "￥")  # GBK has only the full-width yen sign
        data = text.encode(style.encoding)
    path.write_bytes(data)


def add_extra_column(df: pl.DataFrame, name: str, rng: np.random.Generator) -> pl.DataFrame:
    vals = np.array(["", "", "", "已核对", "待补录", "批次01"])[rng.integers(0, 6, df.height)]
    return df.with_columns(pl.Series(name, vals))
