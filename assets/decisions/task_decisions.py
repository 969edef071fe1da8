"""Dealer managers' task decisions, read from their SQLite store into the warehouse for dbt.

The store (``sources/decisions.py``) is written by the dashboard and ``aftercare tasks``; this asset
copies it whole into ``decisions.task_decisions`` at every run. dbt filters it to the run's cut-off,
so a decision made after the cut-off is invisible to that month, also on a rerun.
"""

import dagster as dg
import polars as pl

from assets.resources import AftercareSettings, WarehouseResource
from sources.decisions import read_decisions

DDL = """
create schema if not exists decisions;
create or replace table decisions.task_decisions (
    decision_id integer not null, task_id varchar not null, action varchar not null, reason varchar,
    decided_by varchar not null, decided_at timestamp not null, dealer_code varchar, month varchar,
    note varchar
)
"""


@dg.asset(
    key=["decisions", "task_decisions"],
    group_name="decisions",
    kinds={"sqlite", "duckdb"},
    description=(
        "Dealer managers' closings and reopenings of reminder tasks (append-only store under paths.state)."
    ),
)
def task_decisions(settings: AftercareSettings, warehouse: WarehouseResource) -> dg.MaterializeResult:
    decisions = read_decisions(settings.settings.paths.state)
    frame = pl.DataFrame(
        [d.__dict__ for d in decisions],
        schema={
            "decision_id": pl.Int32,
            "task_id": pl.Utf8,
            "action": pl.Utf8,
            "reason": pl.Utf8,
            "decided_by": pl.Utf8,
            "decided_at": pl.Datetime("us"),
            "dealer_code": pl.Utf8,
            "month": pl.Utf8,
            "note": pl.Utf8,
        },
    )
    with warehouse.get_connection() as con:
        con.execute("begin")
        con.execute(DDL)
        if frame.height:
            con.register("incoming_decisions", frame.to_arrow())
            con.execute("insert into decisions.task_decisions select * from incoming_decisions")
            con.unregister("incoming_decisions")
        con.execute("commit")
    closes = sum(d.action == "close" for d in decisions)
    return dg.MaterializeResult(metadata={"decisions": len(decisions), "closes": closes})
