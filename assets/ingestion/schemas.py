"""Pandera schemas of the landing tables (polars backend), built from the ``SOURCES.md`` table specs.

Typing (``sources.exports.normalize``) already quarantines what cannot be read; the schema is the
contract the landed frame must meet before it is written: types, non-null keys, value domains. A
row breaking it is quarantined with the check's name as the reason; a frame with a wrong *type* is
a bug in ingestion and stops the file loudly.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import pandera.polars as pa
import polars as pl

from sources.exports.tables import TABLES_BY_NAME, Kind, Table, output_columns
from sources.exports.values import VIN_PATTERN
from sources.identifiers import IdNumberStatus, MobileStatus

_DUCK_TO_POLARS = {
    "VARCHAR": pl.String,
    "JSON": pl.String,
    "BOOLEAN": pl.Boolean,
    "DATE": pl.Date,
    "TIMESTAMP": pl.Datetime("us"),
    "INTEGER": pl.Int32,
    "DECIMAL(14,2)": pl.Decimal(14, 2),
}
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)


def _checks(table: Table, column: str, duck_type: str) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if column in table.checks:
        checks.append(pa.Check.isin(list(table.checks[column])))
    if duck_type == "DATE" and not column.startswith("_"):
        checks.append(pa.Check.in_range(EARLIEST, LATEST))
    if duck_type == "TIMESTAMP" and not column.startswith("_"):
        checks.append(pa.Check.in_range(dt.datetime(1900, 1, 1), dt.datetime(2100, 12, 31, 23, 59, 59)))
    if column.endswith("_status") and column != "status":
        base = column.removesuffix("_status")
        kinds = {c.name: c.kind for c in table.columns}
        if kinds.get(base) is Kind.MOBILE:
            checks.append(pa.Check.isin([s.value for s in MobileStatus]))
        elif kinds.get(base) is Kind.ID_NUMBER:
            checks.append(pa.Check.isin([s.value for s in IdNumberStatus]))
    if column in ("vin",):
        checks.append(pa.Check.str_matches(VIN_PATTERN))
    if column in ("mileage_km", "next_maintenance_km", "duration_s", "seats"):
        checks.append(pa.Check.ge(0))
    if column == "satisfaction":
        checks.append(pa.Check.in_range(1, 5))
    return checks


def landing_schema(table: Table) -> pa.DataFrameSchema:
    return _landing_schema(table.name)


@cache
def _landing_schema(table_name: str) -> pa.DataFrameSchema:
    table = TABLES_BY_NAME[table_name]
    columns = {}
    for name, duck_type in output_columns(table):
        if name == "_ingested_at":
            continue
        nullable = name not in table.key and name not in ("_source_file", "_source_row")
        columns[name] = pa.Column(
            _DUCK_TO_POLARS[duck_type], checks=_checks(table, name, duck_type), nullable=nullable
        )
    return pa.DataFrameSchema(columns, name=f"landing.{table.name}", strict="filter", ordered=False)


def schema_failures(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """Rows of ``frame`` breaking the schema: (row index, column, reason); empty when none.

    Raises ``pa.errors.SchemaErrors`` when the failure is not about rows (a wrong dtype, a missing
    column), because that is a defect of ingestion, not of the file.
    """
    empty = pl.DataFrame(schema={"index": pl.Int64, "column": pl.String, "reason": pl.String})
    try:
        landing_schema(table).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        if cases.get_column("index").null_count():
            raise
        return cases.select(
            pl.col("index").cast(pl.Int64),
            pl.col("column").cast(pl.String),
            pl.concat_str(
                pl.lit("schema check "),
                pl.col("check"),
                pl.lit(" failed on value "),
                pl.col("failure_case").cast(pl.String).fill_null("null"),
            ).alias("reason"),
        )
    return empty
