"""The check the fixture build and the end-to-end publish share: every published mart is there with
at least the columns of its dbt contract (``assets.publish.gate.CONTRACT_COLUMNS``)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from assets.publish.gate import CONTRACT_COLUMNS

PUBLISHED_MARTS = {
    "customer_360",
    "vehicles",
    "dealers",
    "repair_orders",
    "bookings",
    "complaints",
    "rescues",
    "campaign_participation",
    "wechat_followers",
    "wechat_bindings",
    "consultant_relationships",
}


def assert_marts_have_their_contract_columns(database: Path, schema: str | None = None) -> set[str]:
    """Every table of ``PUBLISHED_MARTS`` is in ``database`` (in ``schema``, or in any when ``None``),
    and every contracted table there has its contract's columns; returns the tables found."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where ? is null or table_schema = ?",
            [schema, schema],
        ).fetchall()
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    assert set(columns) >= PUBLISHED_MARTS, PUBLISHED_MARTS - set(columns)
    for table, wanted in CONTRACT_COLUMNS.items():
        if table in columns:
            assert set(wanted) <= columns[table], (table, set(wanted) - columns[table])
    return set(columns)
