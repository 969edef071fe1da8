"""A dealer's reminder lists in the workspace, and the files its manager downloads.

Which tasks are in which list, their columns, headers and labels are the dealer files' own rules
(``assets/exports/lists.py``, the same lists the monthly run writes to ``paths.exports``); this
module only reads the rows through the scoped data layer and, for a download, swaps the masked
mobile column for the full number **on the dealer's own rows**: the scoped view hands ciphertext
to a dealer manager only, only for its own dealer's rows (``scope.REVEALABLE``), and the rows are
checked again here before anything is decrypted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
from cryptography.exceptions import InvalidTag

from assets.exports.lists import LISTS, NEEDED_COLUMNS, Column, DealerList, list_month, present, select_rows
from dashboards import data
from dashboards.downloads import BuiltFile, csv_bytes, xlsx_bytes
from dashboards.scope import Scope
from sources.pii import PiiVault

LIST_KEYS = tuple(spec.key for spec in LISTS)
FULL_MOBILE = Column("owner_mobile", "手机号", "Mobile", width=14)
MASKED_MOBILE = "owner_mobile_masked"
# what the workspace shows beside the lists' own columns
EXTRA_COLUMNS = ("closed_reason", "closed_by", "carry_outcome")


def spec_of(key: str) -> DealerList:
    return next(spec for spec in LISTS if spec.key == key)


def months_of(month: dt.date) -> tuple[dt.date, ...]:
    """The months the lists show, newest first: M (this month's tasks) and M-1 (the month just ended)."""
    return tuple(sorted({list_month(month, spec) for spec in LISTS}, reverse=True))


def rows_sql(available: set[str], with_ciphertext: bool = False) -> str:
    """The SELECT of a dealer's rows of M and M-1 (columns that are published, in a fixed order)."""
    wanted = [*NEEDED_COLUMNS, *EXTRA_COLUMNS, *(["owner_mobile_enc"] if with_ciphertext else [])]
    columns = ", ".join(f'"{c}"' for c in dict.fromkeys(wanted) if c in available)
    return f"select {columns} from reminders where month in (?, ?) and dealer_code = ?"


def download_rows(scope: Scope, month: dt.date, dealer_code: str) -> pl.DataFrame:
    """A dealer's rows of M and M-1 as ``scope`` may take them away: with the mobile ciphertext of
    its own rows when the scope is that dealer's manager, without any for every other scope."""
    columns = data.read("select * from reminders limit 0", scope=scope, reveal_mobiles=True).columns
    sql = rows_sql(set(columns), with_ciphertext=True)
    return data.read(sql, (*months_of(month), dealer_code), scope=scope, reveal_mobiles=True)


def with_full_mobiles(
    selected: pl.DataFrame, dealer_code: str, vault: PiiVault | None
) -> tuple[pl.DataFrame, int]:
    """``owner_mobile``: the decrypted number on the dealer's own rows, the mask elsewhere.

    Returns the frame and how many rows carry a full number. Without ciphertext (a role that may not
    see it) or a key, every row keeps its mask.
    """
    masked = (
        selected[MASKED_MOBILE].to_list() if MASKED_MOBILE in selected.columns else [None] * selected.height
    )
    if vault is None or "owner_mobile_enc" not in selected.columns:
        return selected.with_columns(pl.Series("owner_mobile", masked, dtype=pl.Utf8)), 0
    shown, full = [], 0
    for dealer, token, mask in zip(
        selected["dealer_code"], selected["owner_mobile_enc"], masked, strict=True
    ):
        if dealer == dealer_code and token:
            try:
                shown.append(vault.decrypt(token))
                full += 1
                continue
            except (InvalidTag, ValueError):
                pass  # a token that does not decrypt keeps the mask: never a wrong number
        shown.append(mask)
    return selected.with_columns(pl.Series("owner_mobile", shown, dtype=pl.Utf8)), full


def download_spec(spec: DealerList) -> DealerList:
    """The list's columns with the full mobile in place of the masked one."""
    return dataclasses.replace(
        spec, columns=tuple(FULL_MOBILE if c.source == MASKED_MOBILE else c for c in spec.columns)
    )


def list_file(
    rows: pl.DataFrame,
    month: dt.date,
    spec: DealerList,
    dealer_code: str,
    file_format: str,
    vault: PiiVault | None,
    language: str = "zh",
) -> BuiltFile:
    """One list of one dealer as ``.xlsx`` (one sheet) or UTF-8-BOM ``.csv``, Chinese headers."""
    selected = select_rows(rows.filter(pl.col("dealer_code") == dealer_code), month, spec)
    selected, full = with_full_mobiles(selected, dealer_code, vault)
    shown_spec = download_spec(spec)
    shown = present(selected, shown_spec, language)
    if file_format == "csv":
        return BuiltFile(csv_bytes(shown), shown.height, full)
    widths = {c.header(language): c.width for c in shown_spec.columns}
    title = f"{list_month(month, spec):%Y-%m} {spec.title(language)} {dealer_code}"
    return BuiltFile(xlsx_bytes([(spec.title(language), shown)], title, widths), shown.height, full)


def file_name(dealer_code: str, month: dt.date, spec: DealerList, file_format: str) -> str:
    """ASCII names survive every zip tool and Windows code page; the Chinese is inside."""
    return f"{dealer_code}_{list_month(month, spec):%Y-%m}_{spec.key}.{file_format}"
