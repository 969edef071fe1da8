"""The published tables the gate requires (PRODUCT.md, as this project builds them), made empty in
a hand-made warehouse so a test's publish is about the tables it cares for."""

from __future__ import annotations

import duckdb

from assets.publish.gate import CONTRACT_COLUMNS, required_tables
from assets.publish.serving import EXTRA_PUBLISHED


def required_relations() -> list[tuple[str, str]]:
    return [tuple(EXTRA_PUBLISHED.get(t, f"marts.{t}").split(".")) for t in required_tables()]


def create_required_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every required relation not in the warehouse yet, empty, with its contract's columns."""
    for schema, table in required_relations():
        columns = ", ".join(f'"{c}" varchar' for c in CONTRACT_COLUMNS.get(table, ("id",)))
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create table if not exists {schema}.{table} ({columns})")
