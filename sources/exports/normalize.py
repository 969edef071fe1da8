"""Typing an all-text export into the landing columns, and saying why a row cannot be typed.

Everything here is vectorized: each column is parsed by a polars expression, personal data through
``PersonalData`` on distinct values. The result keeps every row; rows that cannot be typed carry
``_q_column`` / ``_q_reason`` (and ``_raw_row``, the row as read with personal data hashed) so the
caller can send them to quarantine.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from sources.exports import values as v
from sources.exports.personal import PersonalData
from sources.exports.reader import EXTRA_PREFIX, ROW_COLUMN, RawExport
from sources.exports.tables import Kind, Table, output_columns
from sources.scrub import scrub_column

Q_COLUMN = "_q_column"
Q_REASON = "_q_reason"
RAW_ROW = "_raw_row"

# reasons, as they appear in landing.quarantine.reason
MISSING_KEY = "missing key"
MISSING_REQUIRED = "missing required value"
IMPOSSIBLE_DATE = "impossible or unreadable date"
BAD_AMOUNT = "unreadable amount"
BAD_INTEGER = "unreadable whole number"
BAD_BOOLEAN = "unreadable yes/no value"
BAD_VIN = "malformed VIN (17 characters, no I/O/Q)"
ID_ONLY_IDENTITY_BAD = "ID number fails its checksum and is the row's only person identifier"
UNKNOWN_DEALER = "unknown dealer code"

_PARSERS = {
    Kind.DATE: (v.parse_date_expr, IMPOSSIBLE_DATE),
    Kind.TIMESTAMP: (v.parse_timestamp_expr, IMPOSSIBLE_DATE),
    Kind.MONTH: (v.parse_month_expr, IMPOSSIBLE_DATE),
    Kind.AMOUNT: (v.parse_amount_expr, BAD_AMOUNT),
    Kind.INTEGER: (v.parse_integer_expr, BAD_INTEGER),
    Kind.BOOLEAN: (v.parse_boolean_expr, BAD_BOOLEAN),
}
_TYPED = (Kind.VIN, *_PARSERS)
# person identifiers other than the ID number that make a row's person reachable
_OTHER_IDENTIFIERS = ("openid", "unionid")
# ids WeChat issues (28-character tokens, ~2 M distinct at M scale): not free text, not scrubbed
_ISSUED_IDS = _OTHER_IDENTIFIERS


def raw_rows(raw: RawExport, personal: PersonalData, source_rows: pl.Series) -> pl.DataFrame:
    """``_source_row`` and the row as read (JSON text) for the given rows, personal data protected.

    Mobiles and ID numbers are replaced by ``hmac:<HMAC>`` (of the normalized value when there is
    one, so a quarantined row still joins to OneID), names by their mask, and every other value,
    known column or not, passes the free-text scrubber (a mobile or ID number typed into it is
    masked by position): the raw row holds nothing a reader could dial or look up.
    """
    frame = raw.frame.filter(pl.col(ROW_COLUMN).is_in(source_rows.implode()))
    for col in raw.table.columns:
        if col.kind is Kind.MOBILE:
            frame = _replace_distinct(frame, col.name, lambda x: _hashed(personal.mobile(x)[0], x, personal))
        elif col.kind is Kind.ID_NUMBER:
            frame = _replace_distinct(
                frame, col.name, lambda x: _hashed(personal.id_number(x)[0], x, personal)
            )
        elif col.kind is Kind.NAME:
            frame = _replace_distinct(frame, col.name, lambda x: personal.name(x)[0])
        else:
            frame = scrub_column(frame, col.name)
    for name in raw.extra_columns:
        frame = scrub_column(frame, name)
    labels = [
        pl.col(name).alias(name[len(EXTRA_PREFIX) :] if name.startswith(EXTRA_PREFIX) else name)
        for name in frame.columns
        if name != ROW_COLUMN
    ]
    return frame.select(ROW_COLUMN, pl.struct(labels).struct.json_encode().alias(RAW_ROW))


def _hashed(hmac: str | None, raw: str, personal: PersonalData) -> str:
    return f"hmac:{hmac}" if hmac else personal.hashed_text(raw)


def _replace_distinct(frame: pl.DataFrame, column: str, fn) -> pl.DataFrame:
    distinct = [x for x in frame.get_column(column).unique().to_list() if x is not None and x.strip()]
    mapping = pl.DataFrame(
        {"__raw": distinct, "__new": [fn(x) for x in distinct]},
        schema={"__raw": pl.String, "__new": pl.String},
    )
    return (
        frame.join(mapping, left_on=column, right_on="__raw", how="left", maintain_order="left")
        .with_columns(pl.col("__new").alias(column))
        .drop("__new")
    )


def type_export(
    raw: RawExport,
    personal: PersonalData,
    source_file: str,
    file_date: dt.date | None,
) -> pl.DataFrame:
    """Landing columns for every row of ``raw`` plus ``_q_column``/``_q_reason`` (null when typed).

    The raw row of a quarantined row is built afterwards, for those rows only (``raw_rows``).
    """
    table = raw.table
    frame = raw.frame
    failures: list[tuple[str, str, pl.Expr]] = []  # (column, reason, failing?)

    # which cells hold anything at all, judged on the raw text before it is replaced by typed values
    present = frame.select(
        v.clean_text(pl.col(c.name)).is_not_null().alias(c.name) for c in table.columns if c.kind in _TYPED
    )
    text_columns = [v.clean_text(pl.col(c.name)).alias(c.name) for c in table.columns if c.kind is Kind.TEXT]
    vins = [v.normalize_vin_expr(pl.col(c.name)).alias(c.name) for c in table.columns if c.kind is Kind.VIN]
    parsed = [v.parse_column(frame, c.name, c.kind.value) for c in table.columns if c.kind in _PARSERS]
    out = frame.with_columns(*text_columns, *vins, *parsed)
    # a mobile or ID number typed into free text is masked before it is stored (keys and WeChat ids
    # are identifiers, not text: one shaped like a mobile is left for the gate to refuse)
    for col in table.columns:
        if col.kind is Kind.TEXT and col.name not in table.key and col.name not in _ISSUED_IDS:
            out = scrub_column(out, col.name)
    out = out.with_columns(
        v.vin_check_ok_series(out.get_column(c.name)).alias(f"{c.name}_check_ok")
        for c in table.columns
        if c.kind is Kind.VIN
    )
    for i, col in enumerate(c for c in table.columns if c.kind in _TYPED):
        flag = f"_fail_{i}"
        out = out.with_columns(present.get_column(col.name).alias(flag))
        reason = BAD_VIN if col.kind is Kind.VIN else _PARSERS[col.kind][1]
        failures.append((col.name, reason, pl.col(flag) & pl.col(col.name).is_null()))

    for col in table.columns:
        if col.kind is Kind.MOBILE:
            out = personal.mobile_columns(out, col.name)
        elif col.kind is Kind.ID_NUMBER:
            out = personal.id_number_columns(out, col.name)
        elif col.kind is Kind.NAME:
            out = personal.name_columns(out, col.name)

    # missing keys and required values (after typing: a key of only spaces is missing)
    unreadable = {name: cond for name, _, cond in failures}
    for name in table.required_columns:
        missing = _typed_is_null(table, name)
        if name in unreadable:  # already reported as unreadable: not missing as well
            missing = missing & ~unreadable[name]
        failures.append((name, MISSING_KEY if name in table.key else MISSING_REQUIRED, missing))

    # an ID number that fails its checksum is no identifier; alone, the row has no person at all
    for col in table.columns:
        if col.kind is Kind.ID_NUMBER:
            others = [pl.col(f"{c.name}_status") == "valid" for c in table.columns if c.kind is Kind.MOBILE]
            others += [pl.col(c).is_not_null() for c in _OTHER_IDENTIFIERS if c in out.columns]
            alone = ~pl.any_horizontal(others) if others else pl.lit(True)
            failures.append(
                (col.name, ID_ONLY_IDENTITY_BAD, (pl.col(f"{col.name}_status") == "bad_checksum") & alone)
            )

    out = out.with_columns(
        pl.concat_str(
            [pl.when(cond).then(pl.lit(name)) for name, _, cond in failures], separator=",", ignore_nulls=True
        ).alias(Q_COLUMN),
        pl.concat_str(
            [pl.when(cond).then(pl.lit(f"{reason}: {name}")) for name, reason, cond in failures],
            separator="; ",
            ignore_nulls=True,
        ).alias(Q_REASON),
    ).with_columns(
        pl.when(pl.col(Q_REASON) != "").then(pl.col(Q_COLUMN)).alias(Q_COLUMN),
        pl.when(pl.col(Q_REASON) != "").then(pl.col(Q_REASON)).alias(Q_REASON),
    )

    # unknown columns, kept aside as JSON (mobiles and ID numbers in them masked)
    for name in raw.extra_columns:
        out = scrub_column(out, name)
    if raw.extra_columns:
        extra = pl.struct(
            [pl.col(c).alias(c[len(EXTRA_PREFIX) :]) for c in raw.extra_columns]
        ).struct.json_encode()
    else:
        extra = pl.lit(None, dtype=pl.String)
    out = out.with_columns(
        extra.alias("_extra"),
        pl.lit(source_file).alias("_source_file"),
        pl.lit(file_date, dtype=pl.Date).alias("_file_date"),
    )

    landing = [name for name, _ in output_columns(table) if name != "_ingested_at"]
    return out.select(*landing, Q_COLUMN, Q_REASON)


def _typed_is_null(table: Table, name: str) -> pl.Expr:
    kind = table.column(name).kind
    if kind is Kind.MOBILE:
        return pl.col(f"{name}_status") == "missing"
    if kind is Kind.ID_NUMBER:
        return pl.col(f"{name}_status") == "missing"
    if kind is Kind.NAME:
        return pl.col(f"{name}_masked").is_null()
    return pl.col(name).is_null()
