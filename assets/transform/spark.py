"""dbt on Spark (``engine.kind = "spark"``, docs/spark.md): the hand-over around a dbt build.

Ingestion, the WeChat pulls, OneID and the decisions copy write the DuckDB warehouse on either
engine. With Spark, before dbt runs, every table a dbt source names is written as Parquet under
``<spark dir>/sources/<schema>/<table>/``; the dbt project's ``on-run-start`` hook (macro
``register_spark_sources``) declares each one as a Spark table over its folder. After dbt, the marts
the build made are read back from Spark's warehouse folder into the DuckDB warehouse's ``marts``
schema, replacing what was there: the quality gate, ``serving.duckdb``, the dashboard and the dealer
files then see exactly what they see with DuckDB.

Both directions go through Parquet files read by DuckDB, so the Dagster process never starts a
JVM: only dbt-spark's session (or the cluster, over thrift) runs Spark.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sources.settings import Settings
from sources.sql_text import quote_literal

# the dbt target of each dbt-spark connection method (dbt_project/profiles.yml)
SPARK_TARGETS = {"session": "spark", "thrift": "spark_thrift"}


def spark_dir(settings: Settings) -> Path:
    return settings.engine.spark_path(settings.paths)


def sources_dir(settings: Settings) -> Path:
    """Where the source tables are handed to Spark as Parquet."""
    return spark_dir(settings) / "sources"


def spark_warehouse_dir(settings: Settings) -> Path:
    """``spark.sql.warehouse.dir`` of the local session: managed tables at ``<schema>.db/<table>``."""
    return spark_dir(settings) / "warehouse"


def dbt_target(settings: Settings) -> str | None:
    """The dbt target of the configured engine; None for DuckDB (the profile's default)."""
    if settings.engine.kind != "spark":
        return None
    return SPARK_TARGETS[settings.engine.spark_method]


def spark_vars(settings: Settings) -> dict[str, str | int]:
    """The dbt vars ``profiles.yml``'s Spark targets and the ``register_spark_sources`` hook read
    (``--vars``, as the warehouse path: never the process environment); none on DuckDB, whose
    vars stay as they were."""
    if settings.engine.kind != "spark":
        return {}
    engine = settings.engine
    return {
        "spark_dir": str(spark_dir(settings)),
        "spark_master": engine.spark_master,
        "spark_driver_memory": engine.spark_driver_memory,
        "spark_shuffle_partitions": engine.spark_shuffle_partitions,
        "spark_host": engine.spark_host,
        "spark_port": engine.spark_port,
    }


@dataclass(frozen=True)
class SourceTable:
    schema: str
    table: str

    @property
    def relation(self) -> str:
        return f'"{self.schema}"."{self.table}"'


def dbt_source_tables(manifest_path: Path) -> list[SourceTable]:
    """Every table a dbt source names, from the manifest."""
    manifest = json.loads(Path(manifest_path).read_text())
    tables = {
        SourceTable(node["schema"], node.get("identifier") or node["name"])
        for node in manifest["sources"].values()
    }
    return sorted(tables, key=lambda t: (t.schema, t.table))


def _portable_select(con: duckdb.DuckDBPyConnection, table: SourceTable) -> str:
    """``select`` of the table with the columns Parquet and Spark cannot take as DuckDB types them
    made plain: JSON is text on Spark (``_extra``, ``raw``)."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [table.schema, table.table],
    ).fetchall()
    if not columns:
        raise FileNotFoundError(
            f"{table.schema}.{table.table} is not in the warehouse: the dbt source names it, so the "
            "asset that writes it must run first"
        )
    parts = [
        f'cast("{name}" as varchar) as "{name}"' if kind == "JSON" else f'"{name}"' for name, kind in columns
    ]
    return f"select {', '.join(parts)} from {table.relation}"


def export_sources(con: duckdb.DuckDBPyConnection, tables: Iterable[SourceTable], target: Path) -> int:
    """Write each table as ``<target>/<schema>/<table>/part-0.parquet`` (the folder replaced
    whole, so a rerun leaves no stale file); returns the tables written."""
    written = 0
    for table in tables:
        folder = target / table.schema / table.table
        staging = folder.with_name(f".{table.table}.new")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        select = _portable_select(con, table)
        con.execute(f"copy ({select}) to {quote_literal(staging / 'part-0.parquet')} (format parquet)")
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        written += 1
    return written


def import_marts(con: duckdb.DuckDBPyConnection, warehouse_dir: Path, names: Iterable[str]) -> dict[str, int]:
    """Each mart of Spark's warehouse (``<warehouse_dir>/marts.db/<name>/``) as a table
    ``marts.<name>`` of the DuckDB warehouse; returns row counts. A mart Spark did not write is an
    error, never silently the DuckDB engine's older table."""
    con.execute("create schema if not exists marts")
    counts = {}
    for name in sorted(names):
        folder = warehouse_dir / "marts.db" / name
        files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        if not files:
            raise FileNotFoundError(f"Spark wrote no Parquet file for marts.{name} under {folder}")
        kind = con.execute(
            "select table_type from information_schema.tables "
            "where table_schema = 'marts' and table_name = ?",
            [name],
        ).fetchone()
        if kind is not None and kind[0] == "VIEW":
            con.execute(f'drop view marts."{name}"')
        con.execute(
            f'create or replace table marts."{name}" as select * from read_parquet(?)',
            [[str(f) for f in files]],
        )
        counts[name] = con.execute(f'select count(*) from marts."{name}"').fetchone()[0]
    return counts


def build_on_spark(context, settings: Settings, start_dbt, manifest_path: Path):
    """dbt on Spark inside a dbt asset's step: hand the sources over, build (``start_dbt()``
    starts the step's ``dbt build``, whose args name the Spark target and carry the Spark settings
    as vars), take the step's marts back into the DuckDB warehouse. Yields dagster-dbt's events."""
    warehouse = str(settings.paths.warehouse)
    with duckdb.connect(warehouse) as con:
        exported = export_sources(con, dbt_source_tables(manifest_path), sources_dir(settings))
    context.log.info(f"handed {exported} source tables to Spark as Parquet under {sources_dir(settings)}")
    yield from start_dbt().stream()
    marts = [key.path[-1] for key in context.selected_asset_keys if key.path[0] == "marts"]
    with duckdb.connect(warehouse) as con:
        counts = import_marts(con, spark_warehouse_dir(settings), marts)
    context.log.info(f"took {len(counts)} marts back from Spark into {warehouse}: {counts}")
