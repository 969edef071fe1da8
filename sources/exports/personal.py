"""Personal data columns of an export: mobiles, ID numbers and names become hashes, masks and ciphertexts.

The rules are ``sources.identifiers``' (one implementation for ingestion and OneID). They run once
per *distinct* value of a column and the result is joined back, so a file of 250,000 repair orders
with 150,000 different sender mobiles costs 150,000 calls, not 250,000, and typing stays vectorized.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import polars as pl

from sources.identifiers import (
    DEFAULT_PLACEHOLDER_MOBILES,
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

# anything shaped like a mainland mobile or an ID number inside free text (unknown columns, raw rows)
PII_SHAPED = (
    r"(?:^|[^0-9A-Za-z])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?:[^0-9A-Za-z]|$)"
    r"|(?:^|[^0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?:[^0-9A-Za-z]|$)"
)


class PersonalData:
    def __init__(self, vault: PiiVault, placeholder_mobiles: Iterable[str] = DEFAULT_PLACEHOLDER_MOBILES):
        self.vault = vault
        self.placeholders = frozenset(placeholder_mobiles)
        # raw value -> derived columns, kept for the whole run as a polars frame per kind: the same
        # owners' mobiles and ID numbers come back in every month's files and in several tables
        self._known: dict[str, pl.DataFrame] = {}

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

    def scrub(self, raw: str | None) -> str | None:
        """Free text that may hold a mobile or ID number: replaced whole by its HMAC."""
        if raw is None:
            return None
        return "hmac:" + self.vault.hash(fold_width(raw).strip())

    # ------------------------------------------------------------------ per column

    def _map_distinct(
        self, frame: pl.DataFrame, column: str, fn: Callable, schema: dict[str, pl.DataType], kind: str
    ) -> pl.DataFrame:
        """``frame`` plus ``fn``'s columns for ``column``: computed once per distinct value per run."""
        suffixes = [name.removeprefix(f"{column}_") for name in schema]
        distinct = frame.select(pl.col(column).unique().alias("__raw"))
        known = self._known.get(kind)
        new = (
            distinct
            if known is None
            else distinct.join(known.select("__raw"), on="__raw", how="anti", nulls_equal=True)
        )
        if new.height:
            values = new.get_column("__raw").to_list()
            results = [fn(value) for value in values]
            computed = pl.DataFrame(
                {"__raw": values, **{suffix: [r[i] for r in results] for i, suffix in enumerate(suffixes)}},
                schema={"__raw": pl.String, **dict(zip(suffixes, schema.values(), strict=True))},
            )
            known = computed if known is None else pl.concat([known, computed])
            self._known[kind] = known
        assert known is not None
        mapped = (
            frame.select(pl.col(column).alias("__raw"))
            .join(known, on="__raw", how="left", nulls_equal=True, maintain_order="left")
            .select(pl.col(suffix).alias(name) for suffix, name in zip(suffixes, schema, strict=True))
        )
        return frame.hstack(mapped.get_columns())

    def mobile_columns(self, frame: pl.DataFrame, column: str) -> pl.DataFrame:
        schema = {f"{column}_{s}": pl.String for s in ("hmac", "status", "masked", "enc")}
        return self._map_distinct(frame, column, self.mobile, schema, "mobile")

    def id_number_columns(self, frame: pl.DataFrame, column: str) -> pl.DataFrame:
        schema = {
            f"{column}_hmac": pl.String,
            f"{column}_status": pl.String,
            f"{column}_birth_date": pl.Date,
            f"{column}_gender": pl.String,
            f"{column}_province_code": pl.String,
            f"{column}_masked": pl.String,
        }
        return self._map_distinct(frame, column, self.id_number, schema, "id_number")

    def name_columns(self, frame: pl.DataFrame, column: str) -> pl.DataFrame:
        schema = {f"{column}_masked": pl.String, f"{column}_enc": pl.String}
        return self._map_distinct(frame, column, self.name, schema, "name")

    def scrub_column(self, frame: pl.DataFrame, column: str) -> pl.DataFrame:
        """Values of a free-text column that look like a mobile or ID number, hashed in place."""
        suspicious = (
            frame.get_column(column).filter(frame.get_column(column).str.contains(PII_SHAPED)).unique()
        )
        if suspicious.len() == 0:
            return frame
        mapping = pl.DataFrame(
            {"__raw": suspicious.to_list(), "__scrubbed": [self.scrub(v) for v in suspicious.to_list()]},
            schema={"__raw": pl.String, "__scrubbed": pl.String},
        )
        return (
            frame.join(mapping, left_on=column, right_on="__raw", how="left", maintain_order="left")
            .with_columns(pl.coalesce("__scrubbed", column).alias(column))
            .drop("__scrubbed")
        )
