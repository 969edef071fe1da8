"""Value parsers for export cells, as polars expressions over text columns.

Every parser is written once, as an expression, and runs over whole columns (millions of rows stay
fast). The scalar functions at the bottom (``parse_date("2026年11月3日")``) evaluate the same
expression on one value: they are what the tests and the docs show, and they cannot drift from what
ingestion does.

A parser returns null both for an empty cell and for a value it cannot read; ``clean_text`` tells
the two apart (a non-null cleaned value that parses to null is a typing failure).
"""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import polars as pl

# full-width ASCII block (U+FF01..U+FF5E) and the ideographic space, folded like NFKC does
_FULL_WIDTH = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000", "\ufeff", "\u00a0"]
_HALF_WIDTH = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" ", "", " "]

EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year bug folded in)

_DATE_TIME = (
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.\d+)?秒?)?)?$"
)
_COMPACT = r"^(\d{4})(\d{2})(\d{2})(?:[ T]?(\d{2}):?(\d{2}):?(\d{2})?)?$"
# a 5-digit Excel serial (1927-05-18 .. 2173-10-14), optionally with a time fraction; shorter
# numbers are not taken as dates ("2026" is a year, not 1905-07-18)
_EXCEL_SERIAL = r"^\d{5}(?:\.\d+)?$"
_MONTH = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$|^(\d{4})(\d{2})$"

_TRUE = ["y", "yes", "是", "1", "true", "t", "有效", "√"]
_FALSE = ["n", "no", "否", "0", "false", "f", "无效", "×"]

_VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_VIN_VALUES = [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    1,
    2,
    3,
    4,
    5,
    7,
    9,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
]
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}$"


def fold_width(expr: pl.Expr) -> pl.Expr:
    """Full-width letters, digits and punctuation to ASCII (``１３８`` → ``138``); BOM and NBSP out."""
    return expr.str.replace_many(_FULL_WIDTH, _HALF_WIDTH)


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Width-folded, trimmed text; null when nothing is left."""
    text = fold_width(expr).str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text)


def _zero_pad(part: pl.Expr | None, width: int, default: str) -> pl.Expr:
    if part is None:
        return pl.lit(default.zfill(width))
    return part.fill_null(default).str.zfill(width)


def _from_parts(y, m, d, hh, mm, ss) -> pl.Expr:
    text = pl.concat_str(
        [y, pl.lit("-"), _zero_pad(m, 2, "0"), pl.lit("-"), _zero_pad(d, 2, "0"), pl.lit(" "),
         _zero_pad(hh, 2, "0"), pl.lit(":"), _zero_pad(mm, 2, "0"), pl.lit(":"), _zero_pad(ss, 2, "0")]
    )  # fmt: skip
    # strict=False: 2026-02-30 or 25:00 become null, i.e. an impossible date
    return text.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)


def parse_timestamp_expr(expr: pl.Expr) -> pl.Expr:
    """``2026-11-03 14:05:00``, ``2026/11/3``, ``2026年11月3日``, ``20261103``, Excel serials."""
    text = clean_text(expr)
    full = text.str.extract_groups(_DATE_TIME)
    compact = text.str.extract_groups(_COMPACT)
    serial = (
        pl.when(text.str.contains(_EXCEL_SERIAL))
        .then(
            pl.lit(EXCEL_EPOCH)
            + pl.duration(seconds=(text.cast(pl.Float64, strict=False) * 86_400).round(0).cast(pl.Int64))
        )
        .cast(pl.Datetime("us"))
    )
    return pl.coalesce(
        _from_parts(*(full.struct.field(str(i)) for i in range(1, 7))),
        _from_parts(*(compact.struct.field(str(i)) for i in range(1, 7))),
        serial,
    )


def parse_date_expr(expr: pl.Expr) -> pl.Expr:
    """Any form ``parse_timestamp_expr`` reads, the time of day dropped."""
    return parse_timestamp_expr(expr).dt.date()


def parse_month_expr(expr: pl.Expr) -> pl.Expr:
    """A month (``2026-11``, ``2026年11月``, ``202611``, or any date in it) as its first day."""
    text = clean_text(expr)
    month = text.str.extract_groups(_MONTH)
    year = pl.coalesce(month.struct.field("1"), month.struct.field("3"))
    mon = pl.coalesce(month.struct.field("2"), month.struct.field("4"))
    as_month = _from_parts(year, mon, pl.lit("1"), None, None, None).dt.date()
    return pl.coalesce(as_month, parse_date_expr(expr).dt.month_start())


def parse_amount_expr(expr: pl.Expr) -> pl.Expr:
    """``¥12,345.60``, ``12 345.6元`` → Decimal(14,2)."""
    text = clean_text(expr).str.replace_all(r"[¥￥,\s元]|RMB|CNY", "")
    wide = (
        pl.when(text.str.contains(r"^-?\d{1,12}(?:\.\d{1,6})?$"))
        .then(text)
        .cast(pl.Decimal(20, 6), strict=False)
    )
    return wide.round(2).cast(pl.Decimal(14, 2), strict=False)


def parse_integer_expr(expr: pl.Expr) -> pl.Expr:
    """``12,345``, ``12345.0``, ``12345 km``, ``90秒`` → Int32 (null when not a whole number)."""
    text = clean_text(expr).str.replace_all(r"[,\s]|km|KM|公里|秒|s$", "").str.replace(r"\.0+$", "")
    return pl.when(text.str.contains(r"^-?\d+$")).then(text).cast(pl.Int32, strict=False)


def parse_boolean_expr(expr: pl.Expr) -> pl.Expr:
    """``Y/N``, ``是/否``, ``1/0``, ``true/false`` (any case) → Boolean."""
    text = clean_text(expr).str.to_lowercase()
    return pl.when(text.is_in(_TRUE)).then(pl.lit(True)).when(text.is_in(_FALSE)).then(pl.lit(False))


def normalize_vin_expr(expr: pl.Expr) -> pl.Expr:
    """17 characters, upper case, spaces and dashes removed; null when not VIN-shaped (I/O/Q, length)."""
    text = clean_text(expr).str.to_uppercase().str.replace_all(r"[\s\-]", "")
    return pl.when(text.str.contains(VIN_PATTERN)).then(text)


def vin_check_ok_expr(vin: pl.Expr) -> pl.Expr:
    """GB 16735 / ISO 3779 check digit (9th character) of a normalized VIN; null when no VIN."""
    total = pl.sum_horizontal(
        vin.str.slice(i, 1).replace_strict(list(_VIN_CHARS), _VIN_VALUES, default=0, return_dtype=pl.Int32)
        * w
        for i, w in enumerate(_VIN_WEIGHTS)
    )
    remainder = total % 11
    expected = pl.when(remainder == 10).then(pl.lit("X")).otherwise(remainder.cast(pl.String))
    return pl.when(vin.is_not_null()).then(vin.str.slice(8, 1) == expected)


_VIN_LOOKUP = np.zeros(256, dtype=np.int64)
for _char, _value in zip(_VIN_CHARS, _VIN_VALUES, strict=True):
    _VIN_LOOKUP[ord(_char)] = _value


def vin_check_ok_series(vins: pl.Series) -> pl.Series:
    """``vin_check_ok_expr`` for a column of normalized VINs, on bytes with numpy (17x faster).

    Same rule: transliterate, weight, sum, MOD 11 (10 → X), compare with the 9th character.
    """
    present = vins.is_not_null()
    valid = vins.filter(present).to_list()
    if not valid:
        return pl.Series(vins.name, [None] * vins.len(), dtype=pl.Boolean)
    codes = np.frombuffer("".join(valid).encode("ascii"), dtype=np.uint8).reshape(-1, 17)
    remainder = (_VIN_LOOKUP[codes] * np.array(_VIN_WEIGHTS)).sum(axis=1) % 11
    expected = np.where(remainder == 10, ord("X"), remainder + ord("0"))
    ok = pl.Series(codes[:, 8] == expected)
    result = pl.Series(vins.name, [None] * vins.len(), dtype=pl.Boolean)
    return result.scatter(present.arg_true(), ok)


# ---------------------------------------------------------------------------- one value at a time


def _one(expr_fn, raw: str | None):
    return pl.select(expr_fn(pl.lit(raw, dtype=pl.String))).item()


def parse_timestamp(raw: str | None) -> dt.datetime | None:
    return _one(parse_timestamp_expr, raw)


def parse_date(raw: str | None) -> dt.date | None:
    return _one(parse_date_expr, raw)


def parse_month(raw: str | None) -> dt.date | None:
    return _one(parse_month_expr, raw)


def parse_amount(raw: str | None) -> decimal.Decimal | None:
    return _one(parse_amount_expr, raw)


def parse_integer(raw: str | None) -> int | None:
    return _one(parse_integer_expr, raw)


def parse_boolean(raw: str | None) -> bool | None:
    return _one(parse_boolean_expr, raw)


def normalize_vin(raw: str | None) -> str | None:
    return _one(normalize_vin_expr, raw)


def vin_check_ok(vin: str) -> bool | None:
    return _one(lambda e: vin_check_ok_expr(normalize_vin_expr(e)), vin)


def fold(raw: str | None) -> str | None:
    return _one(clean_text, raw)


# ---------------------------------------------------------------------------- whole columns, fast

# native strptime formats tried on a sample of each column; the ones that hit parse the column
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y%m%d",
    "%Y年%m月%d日",
)
_SAMPLE = 2000


def _fast_datetime(text: pl.Series) -> pl.Series:
    """The column parsed with the native formats that occur in a sample of it (nulls elsewhere)."""
    sample = text.drop_nulls().head(_SAMPLE)
    formats = [
        f
        for f in _DATETIME_FORMATS
        if sample.str.strptime(pl.Datetime("us"), f, strict=False).null_count() < sample.len()
    ]
    frame = text.to_frame("t")
    if not formats:
        return pl.Series("fast", [], dtype=pl.Datetime("us")).extend_constant(None, text.len())
    return frame.select(
        pl.coalesce(pl.col("t").str.strptime(pl.Datetime("us"), f, strict=False) for f in formats).alias(
            "fast"
        )
    ).to_series()


def _fast_amount(t: pl.Expr) -> pl.Expr:
    plain = t.str.replace_all(r"[¥￥,]", "")
    return (
        pl.when(plain.str.contains(r"^-?\d{1,12}(?:\.\d{1,2})?$"))
        .then(plain)
        .cast(pl.Decimal(14, 2), strict=False)
    )


_FAST = {
    # the shapes clean exports mostly use, read by polars' native parsers
    "amount": _fast_amount,
    "integer": lambda t: t.cast(pl.Int32, strict=False),
}
_SLOW = {
    "timestamp": parse_timestamp_expr,
    "date": parse_date_expr,
    "month": parse_month_expr,
    "amount": parse_amount_expr,
    "integer": parse_integer_expr,
    "boolean": parse_boolean_expr,
}


def parse_column(frame: pl.DataFrame, column: str, kind: str) -> pl.Series:
    """``column`` parsed as ``kind``: the same result as the expression parser, much faster.

    Values in the common clean shape go through polars' native parser; only the others (the dirty
    minority) go through the full expression, once per distinct value, and are mapped back.
    """
    slow = _SLOW[kind]
    text = frame.select(clean_text(pl.col(column)).alias("text"))
    fast = _FAST.get(kind)
    if kind in ("timestamp", "date"):
        result = _fast_datetime(text.get_column("text"))
        result = result.dt.date() if kind == "date" else result
    elif fast is None:
        dtype = pl.select(slow(pl.lit(None, dtype=pl.String))).to_series().dtype
        result = pl.Series("fast", [], dtype=dtype).extend_constant(None, text.height)
    else:
        result = text.select(fast(pl.col("text")).alias("fast")).to_series()
    pending = result.is_null() & text.get_column("text").is_not_null()
    if pending.any():
        distinct = text.get_column("text").filter(pending).unique()
        parsed = pl.DataFrame({"text": distinct}).select(slow(pl.col("text"))).to_series()
        known = parsed.is_not_null()
        result = (
            text.with_columns(result.alias("fast"))
            .select(
                pl.col("text").replace_strict(
                    distinct.filter(known),
                    parsed.filter(known),
                    default=pl.col("fast"),
                    return_dtype=result.dtype,
                )
            )
            .to_series()
        )
    return result.alias(column)
