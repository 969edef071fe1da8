"""Personal data columns of an export: mobiles, ID numbers and names become hashes, masks and ciphertexts.

The rules are ``sources.identifiers``' (one implementation for ingestion and OneID). They run once
per *distinct* value of a column and the result is joined back, so a file of 250,000 repair orders
with 150,000 different sender mobiles costs 150,000 calls, not 250,000, and typing stays vectorized.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import polars as pl

from sources.exports import values
from sources.identifiers import (
    DEFAULT_PLACEHOLDER_MOBILES,
    ID_CHECK_CHARS,
    ID_WEIGHTS,
    IdNumberStatus,
    MobileStatus,
    classify_mobile,
    fold_width,
    mask_id_number,
    mask_mobile,
    mask_name,
    parse_id_number,
)
from sources.pii import PiiVault


class PersonalData:
    def __init__(self, vault: PiiVault, placeholder_mobiles: Iterable[str] = DEFAULT_PLACEHOLDER_MOBILES):
        self.vault = vault
        self.placeholders = frozenset(placeholder_mobiles)
        # raw value -> derived columns, kept for the whole run as a polars frame per kind: the same
        # owners' mobiles and ID numbers come back in every month's files and in several tables
        self._known: dict[str, pl.DataFrame] = {}
        self._lock = threading.Lock()

    def forget(self, kind: str) -> None:
        """Drop the run's cache of ``kind`` (``mobile``, ``id_number``, ``name``): no file left needs it."""
        with self._lock:
            self._known.pop(kind, None)

    # ------------------------------------------------------------------ per value

    def mobile(self, raw: str | None) -> tuple[str | None, str, str | None, str | None]:
        """(hmac, status, masked, enc) of one raw mobile cell."""
        normalized, status = classify_mobile(raw, self.placeholders)
        if status is MobileStatus.MISSING:
            return None, status.value, None, None
        if normalized is None:  # invalid: nothing to join on, but the text is kept, encrypted
            text = fold_width(str(raw)).strip()
            return None, status.value, mask_mobile(text), self.vault.encrypt(text)
        return (
            self.vault.hash(normalized),
            status.value,
            mask_mobile(normalized),
            self.vault.encrypt(normalized),
        )

    def id_number(self, raw: str | None):
        """(hmac, status, birth_date, gender, province_code, masked) of one raw ID-number cell."""
        parsed = parse_id_number(raw)
        if parsed.status is IdNumberStatus.MISSING:
            return None, parsed.status.value, None, None, None, None
        text = parsed.normalized or fold_width(str(raw)).strip().replace(" ", "").upper()
        hmac = self.vault.hash(parsed.normalized) if parsed.usable else None
        return (
            hmac,
            parsed.status.value,
            parsed.birth_date,
            parsed.gender,
            parsed.province_code,
            mask_id_number(text),
        )

    def name(self, raw: str | None) -> tuple[str | None, str | None]:
        if raw is None or not str(raw).strip():
            return None, None
        text = fold_width(str(raw)).strip()
        return mask_name(text), self.vault.encrypt(text)

    def hashed_text(self, raw: str | None) -> str | None:
        """A personal-data cell that is no valid mobile or ID number (``123``): replaced whole by its HMAC."""
        if raw is None:
            return None
        return "hmac:" + self.vault.hash(fold_width(raw).strip())

    # ------------------------------------------------------------------ many values at once

    def mobiles(self, raw: pl.Series) -> pl.DataFrame:
        """``mobile`` of each value of ``raw``: columns __raw, hmac, status, masked, enc.

        Values whose NFKC form is plain ASCII (nearly all) are classified by polars expressions;
        the rest, and every invalid number (its mask keeps its own length), go through ``mobile``.
        The result is the same as ``mobile`` value by value (``tests/ingestion/test_personal.py``).
        """
        text = _nfkc_ascii(pl.col("__raw")).str.strip_chars(" ")
        digits = text.str.replace_all(r"[^0-9]", "")
        digits = (
            pl.when((digits.str.len_bytes() == 13) & digits.str.starts_with("86"))
            .then(digits.str.slice(2))
            .when((digits.str.len_bytes() == 15) & digits.str.starts_with("0086"))
            .then(digits.str.slice(4))
            .otherwise(digits)
        )
        frame = pl.DataFrame({"__raw": raw}, schema={"__raw": pl.String}).with_columns(
            _text=text,
            _mobile=pl.when(digits.str.contains(r"^1[3-9][0-9]{9}$")).then(digits),
        )
        missing = pl.col("__raw").is_null() | (pl.col("_text") == "").fill_null(False)
        handled = missing | pl.col("_mobile").is_not_null()
        fast = frame.filter(handled)
        tail = [pl.col("_mobile").str.slice(i, 1).cast(pl.Int8) for i in range(3, 11)]
        steps = [b - a for a, b in zip(tail, tail[1:], strict=False)]
        placeholder = (
            pl.col("_mobile").is_in(sorted(self.placeholders))
            | pl.all_horizontal(s == 0 for s in steps)
            | pl.all_horizontal(s == 1 for s in steps)
            | pl.all_horizontal(s == -1 for s in steps)
        )
        numbers = fast.get_column("_mobile")
        fast = fast.select(
            "__raw",
            _with_nulls(numbers, self.vault.hash_many).alias("hmac"),
            pl.when(missing)
            .then(pl.lit(MobileStatus.MISSING.value))
            .when(placeholder)
            .then(pl.lit(MobileStatus.PLACEHOLDER.value))
            .otherwise(pl.lit(MobileStatus.VALID.value))
            .alias("status"),
            (pl.col("_mobile").str.slice(0, 3) + "****" + pl.col("_mobile").str.slice(7, 4)).alias("masked"),
            _with_nulls(numbers, self.vault.encrypt_many).alias("enc"),
        )
        slow = frame.filter(~handled).get_column("__raw")
        return pl.concat([fast, _one_by_one(slow, self.mobile, fast.schema)])

    def id_numbers(self, raw: pl.Series) -> pl.DataFrame:
        """``id_number`` of each value: __raw, hmac, status, birth_date, gender, province_code, masked.

        18-character numbers (plain ASCII after NFKC, no inner spaces or dashes) are checked by
        polars expressions (date, MOD 11-2); 15-digit numbers and anything else go through
        ``id_number``. Same results as ``id_number`` value by value.
        """
        text = _nfkc_ascii(pl.col("__raw")).str.strip_chars(" ")
        frame = pl.DataFrame({"__raw": raw}, schema={"__raw": pl.String}).with_columns(
            _id=pl.when(text.str.contains(r"^[0-9]{17}[0-9Xx]$")).then(text.str.to_uppercase())
        )
        handled = pl.col("__raw").is_null() | pl.col("_id").is_not_null()
        fast = frame.filter(handled)
        number = pl.col("_id")
        birth = pl.concat_str(
            number.str.slice(6, 4), number.str.slice(10, 2), number.str.slice(12, 2), separator="-"
        )
        birth = birth.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        real_date = birth.is_not_null() & birth.dt.year().is_between(1800, 2100)
        total = pl.sum_horizontal(number.str.slice(i, 1).cast(pl.Int32) * w for i, w in enumerate(ID_WEIGHTS))
        check = total.mod(11).replace_strict(list(range(11)), list(ID_CHECK_CHARS), return_dtype=pl.String)
        checked = fast.with_columns(
            _birth=pl.when(real_date).then(birth),
            _ok=real_date & (check == number.str.slice(17, 1)),
        )
        valid_numbers = checked.select(pl.when("_ok").then("_id")).to_series()
        fast = checked.select(
            "__raw",
            _with_nulls(valid_numbers, self.vault.hash_many).alias("hmac"),
            pl.when(pl.col("__raw").is_null())
            .then(pl.lit(IdNumberStatus.MISSING.value))
            .when(pl.col("_birth").is_null())
            .then(pl.lit(IdNumberStatus.INVALID.value))
            .when(pl.col("_ok"))
            .then(pl.lit(IdNumberStatus.VALID.value))
            .otherwise(pl.lit(IdNumberStatus.BAD_CHECKSUM.value))
            .alias("status"),
            pl.col("_birth").alias("birth_date"),
            pl.when(pl.col("_birth").is_not_null())
            .then(
                pl.when(number.str.slice(16, 1).cast(pl.Int32) % 2 == 1)
                .then(pl.lit("M"))
                .otherwise(pl.lit("F"))
            )
            .alias("gender"),
            pl.when(pl.col("_birth").is_not_null()).then(number.str.slice(0, 2)).alias("province_code"),
            (number.str.slice(0, 1) + "*" * 16 + number.str.slice(17, 1)).alias("masked"),
        )
        slow = frame.filter(~handled).get_column("__raw")
        return pl.concat([fast, _one_by_one(slow, self.id_number, fast.schema)])

    def names(self, raw: pl.Series) -> pl.DataFrame:
        """``name`` of each value: columns __raw, masked, enc (few distinct values: one by one)."""
        schema = {"__raw": pl.String, "masked": pl.String, "enc": pl.String}
        return _one_by_one(raw, self.name, schema)

    # ------------------------------------------------------------------ per column

    def _map_distinct(
        self,
        frame: pl.DataFrame,
        column: str,
        derive: Callable[[pl.Series], pl.DataFrame],
        names: list[str],
        kind: str,
    ) -> pl.DataFrame:
        """``frame`` plus the derived columns of ``column``, named ``names``: once per distinct value per run.

        The run-wide frame of known values only meets this column's distinct values in an inner
        join (polars hashes the smaller side), so the cost follows the file, not the run's total;
        the lock makes the cache safe for files typed in parallel threads.
        """
        distinct = frame.select(pl.col(column).unique().alias("__raw"))
        with self._lock:
            known = self._known.get(kind)
            found = None if known is None else distinct.join(known, on="__raw", how="inner", nulls_equal=True)
            new = (
                distinct if found is None else distinct.join(found, on="__raw", how="anti", nulls_equal=True)
            )
            if new.height or found is None:  # (an empty first column still gets its schema)
                computed = derive(new.get_column("__raw"))
                self._known[kind] = computed if known is None else pl.concat([known, computed], rechunk=False)
                found = computed if found is None else pl.concat([found, computed])
        assert found is not None
        derived = [c for c in found.columns if c != "__raw"]
        mapped = (
            frame.select(pl.col(column).alias("__raw"))
            .join(found, on="__raw", how="left", nulls_equal=True, maintain_order="left")
            .select(pl.col(suffix).alias(name) for suffix, name in zip(derived, names, strict=True))
        )
        return frame.hstack(mapped.get_columns())

    def mobile_columns(self, frame: pl.DataFrame, column: str) -> pl.DataFrame:
        names = [f"{column}_{s}" for s in ("hmac", "status", "masked", "enc")]
        return self._map_distinct(frame, column, self.mobiles, names, "mobile")

    def id_number_columns(self, frame: pl.DataFrame, column: str) -> pl.DataFrame:
        suffixes = ("hmac", "status", "birth_date", "gender", "province_code", "masked")
        return self._map_distinct(
            frame, column, self.id_numbers, [f"{column}_{s}" for s in suffixes], "id_number"
        )

    def name_columns(self, frame: pl.DataFrame, column: str) -> pl.DataFrame:
        names = [f"{column}_masked", f"{column}_enc"]
        return self._map_distinct(frame, column, self.names, names, "name")


def _nfkc_ascii(expr: pl.Expr) -> pl.Expr:
    """NFKC of the value when that is printable ASCII, else null (left to the one-by-one path).

    ``values.fold_width`` does what NFKC does to the characters exports carry (full-width ASCII, the
    ideographic and no-break spaces) and drops a stray BOM, which NFKC keeps but no identifier holds.
    """
    folded = values.fold_width(expr)
    return pl.when(folded.str.contains(r"^[\x20-\x7e]*$")).then(folded)


def _with_nulls(values: pl.Series, fn: Callable[[list[str]], list[str]]) -> pl.Series:
    """``fn`` over the non-null values, nulls kept in place."""
    present = values.is_not_null()
    out = pl.Series(values.name, [None] * values.len(), dtype=pl.String)
    if present.any():
        out = out.scatter(
            present.arg_true(), pl.Series(fn(values.filter(present).to_list()), dtype=pl.String)
        )
    return out


def _one_by_one(raw: pl.Series, fn: Callable, schema) -> pl.DataFrame:
    """``fn`` on each value, as a frame of ``schema`` (``__raw`` first, then ``fn``'s tuple)."""
    values = raw.to_list()
    results = [fn(value) for value in values]
    names = [n for n in schema if n != "__raw"]
    return pl.DataFrame(
        {"__raw": values, **{name: [r[i] for r in results] for i, name in enumerate(names)}}, schema=schema
    )
