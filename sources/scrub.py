"""Personal numbers inside free text, masked by character position before anything is stored.

A dealer's clerk types a customer's mobile or ID number wherever there is room: a complaint's
close reason, a remark, an extra column. Every free-text value and every quarantined raw row goes
through ``scrub_text`` at ingestion, which replaces each mobile or ID number written in it by its
mask (``sources.identifiers.mask_mobile`` / ``mask_id_number``), character by character, keeping
everything else as written:

    ``回访 +86 139-1234-5678 张先生`` → ``回访 +86 139-****-5678 张先生``
    ``证件 <18-character ID number>`` → ``证件 1****************X`` (first and last kept)

What counts as a mobile or ID number is ``sources.identifiers.PERSONAL_NUMBER_SPANS`` (the forms
are listed there); the quality gate scans the serving database with the same rule
(``PERSONAL_NUMBER_IN_TEXT``), so what the scrubber leaves, the gate does not find.
"""

from __future__ import annotations

import polars as pl

from sources.identifiers import (
    FOLD_IN_PLACE_PAIRS,
    PERSONAL_NUMBER_IN_TEXT,
    PERSONAL_NUMBER_SPANS,
    fold_in_place,
    mask_id_number,
    mask_mobile,
    normalize_mobile,
)

_FOLD_FROM = [a for a, _ in FOLD_IN_PLACE_PAIRS]
_FOLD_TO = [b for _, b in FOLD_IN_PLACE_PAIRS]


def _masked_span(original: str, folded: str, is_mobile: bool) -> str:
    """The span with the characters its mask stars replaced by ``*``; separators and prefix kept."""
    positions = [i for i, ch in enumerate(folded) if ch.isdigit() or ch in "Xx"]
    if is_mobile:
        national = normalize_mobile(folded)
        assert national is not None  # the pattern only matches 1[3-9] + 9 digits after a prefix
        positions = positions[-11:]  # the country prefix stays readable
        mask = mask_mobile(national)
    else:
        mask = mask_id_number("".join(folded[i] for i in positions).upper())
    assert mask is not None and len(mask) == len(positions)
    chars = list(original)
    for position, kept in zip(positions, mask, strict=True):
        if kept == "*":
            chars[position] = "*"
    return "".join(chars)


def scrub_text(text: str | None) -> str | None:
    """``text`` with every mobile and ID number written in it masked by position."""
    if not text:
        return text
    folded = fold_in_place(text)
    pieces: list[str] = []
    last = 0
    for match in PERSONAL_NUMBER_SPANS.finditer(folded):
        start, end = match.span()
        pieces.append(text[last:start])
        pieces.append(_masked_span(text[start:end], folded[start:end], match.group("mobile") is not None))
        last = end
    if last == 0:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def holds_personal_number(text: str | None) -> bool:
    return bool(text) and PERSONAL_NUMBER_SPANS.search(fold_in_place(text)) is not None


def folded_expr(expr: pl.Expr) -> pl.Expr:
    """``fold_in_place`` as a polars expression (one character for one)."""
    return expr.str.replace_many(_FOLD_FROM, _FOLD_TO)


def may_hold_personal_number(expr: pl.Expr) -> pl.Expr:
    """True where a text value holds a mobile or ID number (the vectorized filter before ``scrub_text``)."""
    return folded_expr(expr).str.contains(PERSONAL_NUMBER_IN_TEXT)


def scrub_column(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """``frame`` with ``scrub_text`` applied to the values of a text column that hold a personal number.

    The filter runs vectorized over the distinct values; only the few that match go through Python.
    """
    values = frame.get_column(column)
    if values.dtype != pl.String or values.null_count() == values.len():
        return frame
    distinct = values.unique().drop_nulls()
    suspicious = distinct.filter(
        distinct.to_frame().select(may_hold_personal_number(pl.col(column))).to_series()
    )
    if suspicious.len() == 0:
        return frame
    raw = suspicious.to_list()
    mapping = pl.DataFrame(
        {"__raw": raw, "__scrubbed": [scrub_text(value) for value in raw]},
        schema={"__raw": pl.String, "__scrubbed": pl.String},
    )
    return (
        frame.join(mapping, left_on=column, right_on="__raw", how="left", maintain_order="left")
        .with_columns(pl.coalesce("__scrubbed", column).alias(column))
        .drop("__scrubbed")
    )


# the shortest text that can hold one: a mobile's 11 digits (ID numbers have 15 or 18)
SHORTEST_PERSONAL_NUMBER = 11


def sql_holds_personal_number(value_sql: str) -> str:
    """A DuckDB predicate: the text ``value_sql`` holds a mobile or ID number (the gate's scan).

    Full-width forms are folded with ``translate`` first, as ``fold_in_place`` does, but only in a
    value that has a non-ASCII character (its length in bytes differs from its length in
    characters): every character the fold replaces is non-ASCII, so an ASCII value is its own fold.
    A value shorter than the shortest number (in bytes, so in characters too: the fold is one
    character for one) is not matched at all. ``translate`` cost about ten times the match itself,
    and most values (keys, codes, dates, numbers) are ASCII: at M the gate's scan went from ~400 s
    of CPU to ~40 s (docs/benchmarks.md, "The publish stage at M"). ``value_sql`` is used several
    times: give a column, not an expression to compute (the gate casts in a subquery first).
    The pattern is inlined as a literal (it is a constant of this module, not user input).
    """
    source = "".join(_FOLD_FROM).replace("'", "''")
    target = "".join(_FOLD_TO).replace("'", "''")
    assert all(ord(ch) > 127 for ch in _FOLD_FROM)  # what lets an ASCII value skip the fold
    pattern = PERSONAL_NUMBER_IN_TEXT.replace("'", "''")
    return (
        f"(case when strlen({value_sql}) < {SHORTEST_PERSONAL_NUMBER} then false "
        f"when strlen({value_sql}) = length({value_sql}) then regexp_matches({value_sql}, '{pattern}') "
        f"else regexp_matches(translate({value_sql}, '{source}', '{target}'), '{pattern}') end)"
    )
