"""The data steward's per-dealer quarantine file: the rows a dealer's exports lost, and why.

A quarantined row belongs to the dealer its raw row names (``dealer_code``, or a rescue's
``dispatched_dealer``), known to the dealer master or not (a mistyped code is exactly what the
dealer must fix). Rows that name no dealer (WeChat bindings, campaign participants) are the OEM's.

Personal data stays masked: ingestion already replaced mobiles and ID numbers by ``hmac:<digest>``
and masked the names; the file shows ``已脱敏`` for those values (a digest tells a dealer nothing).
"""

from __future__ import annotations

import json
import re

import polars as pl

from dashboards.downloads import BuiltFile, csv_bytes, xlsx_bytes
from dashboards.labels import TABLE, label, quarantine_reason

NO_DEALER = "-"
MASKED = "已脱敏"
_HASHED = re.compile(r"^hmac:[0-9a-f]{16,}$")

DEALER_OF_ROW = "coalesce(raw_row->>'dealer_code', raw_row->>'dispatched_dealer', '-')"

BY_DEALER_SQL = f"""
    select q.dealer_code, d.dealer_name, q.rows, q.files
    from (
        select {DEALER_OF_ROW} as dealer_code, count(*) as rows, count(distinct file) as files
        from quarantine group by 1
    ) as q
    left join dealers as d using (dealer_code)
    order by q.rows desc, q.dealer_code
"""

ROWS_SQL = f"""
    select table_name, file, row_number, "column", reason, raw_row::varchar as raw_row
    from quarantine where {DEALER_OF_ROW} = ?
    order by table_name, file, row_number
"""


def masked_raw_row(raw: str | None) -> dict:
    """The raw row as a dict, hashed personal values replaced by ``已脱敏``."""
    if not raw:
        return {}
    try:
        values = json.loads(raw)
    except ValueError:
        return {"raw_row": MASKED}
    return {k: MASKED if isinstance(v, str) and _HASHED.match(v) else v for k, v in values.items()}


HEADERS = {
    "table_name": "数据表",
    "file": "文件",
    "row_number": "行号",
    "column": "问题字段",
    "reason": "原因",
}


def _presented(rows: pl.DataFrame) -> pl.DataFrame:
    return pl.DataFrame(
        {
            HEADERS["table_name"]: [label(TABLE, v, "zh") for v in rows["table_name"]],
            HEADERS["file"]: rows["file"],
            HEADERS["row_number"]: rows["row_number"],
            HEADERS["column"]: rows["column"],
            HEADERS["reason"]: [quarantine_reason(v, "zh") for v in rows["reason"]],
        },
        schema_overrides={HEADERS["row_number"]: pl.Int64},
    )


def quarantine_csv(rows: pl.DataFrame) -> BuiltFile:
    """All of a dealer's quarantined rows, the raw row as masked JSON text."""
    frame = _presented(rows).with_columns(
        pl.Series("原始数据", [json.dumps(masked_raw_row(r), ensure_ascii=False) for r in rows["raw_row"]])
    )
    return BuiltFile(csv_bytes(frame), frame.height)


def quarantine_xlsx(rows: pl.DataFrame, dealer_code: str) -> BuiltFile:
    """One sheet per source table, the raw row spread into its own (masked) columns."""
    sheets = []
    for (table,), part in rows.group_by("table_name", maintain_order=True):
        raw = [masked_raw_row(r) for r in part["raw_row"]]
        fields = list(dict.fromkeys(k for r in raw for k in r))
        spread = pl.DataFrame({f: [None if r.get(f) is None else str(r.get(f)) for r in raw] for f in fields})
        sheets.append((label(TABLE, table, "zh"), pl.concat([_presented(part), spread], how="horizontal")))
    if not sheets:
        sheets = [("隔离数据", _presented(rows))]
    return BuiltFile(xlsx_bytes(sheets, f"隔离数据 {dealer_code}"), rows.height)
