"""The published tables the gate requires (PRODUCT.md, as this project builds them), made empty in
a hand-made warehouse so a test's publish is about the tables it cares for; and a publish of a
data folder's warehouse, as a run's last step does it."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import DagsterInstance, materialize

from assets.publish.gate import CONTRACT_COLUMNS, required_tables
from assets.publish.serving import EXTRA_PUBLISHED, serving_database
from assets.resources import AftercareSettings, RunMonth, WarehouseResource


def required_relations() -> list[tuple[str, str]]:
    return [tuple(EXTRA_PUBLISHED.get(t, f"marts.{t}").split(".")) for t in required_tables()]


def create_required_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every required relation not in the warehouse yet, empty, with its contract's columns."""
    for schema, table in required_relations():
        columns = ", ".join(f'"{c}" varchar' for c in CONTRACT_COLUMNS.get(table, ("id",)))
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create table if not exists {schema}.{table} ({columns})")


def publish(data: Path, month: str = "2026-11"):
    """Materialize ``serving/database`` for ``month`` from ``data``'s warehouse (the test points
    ``AFTERCARE_CONFIG`` at a file whose ``paths.data`` is ``data``)."""
    return materialize(
        [serving_database],
        resources={
            "settings": AftercareSettings(),
            "warehouse": WarehouseResource(database=str(data / "warehouse.duckdb")),
            "run_month": RunMonth(month=month),
        },
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
