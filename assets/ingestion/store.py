"""The landing schema in DuckDB: current version per key, file history, quarantine, manifest, report.

``landing_history.<table>`` holds every row of every ingested file (a changed file's rows replaced);
``landing.<table>`` is derived from it for the keys a run touched: per key, the row of the latest
file (date in the name, else the modification date; then modification time; within a file the last
row). Keeping the history makes a corrected *older* file harmless: it cannot overwrite a newer
file's version of a record, and a record it no longer carries falls back to the previous version.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from sources.exports.tables import TABLES, Table, output_columns

QUARANTINE_COLUMNS = [
    ("source", "VARCHAR"),
    ("table_name", "VARCHAR"),
    ("file", "VARCHAR"),
    ("row_number", "INTEGER"),
    ("column", "VARCHAR"),
    ("reason", "VARCHAR"),
    ("raw_row", "JSON"),
    ("ingested_at", "TIMESTAMP"),
]
MANIFEST_COLUMNS = [
    ("path", "VARCHAR PRIMARY KEY"),
    ("source", "VARCHAR"),
    ("table_name", "VARCHAR"),
    ("file_date", "DATE"),
    ("size_bytes", "BIGINT"),
    ("modified_at", "DOUBLE"),  # POSIX mtime, seconds
    ("sha256", "VARCHAR"),
    ("encoding", "VARCHAR"),
    ("header_row", "INTEGER"),
    ("rows_read", "BIGINT"),
    ("rows_typed", "BIGINT"),
    ("rows_quarantined", "BIGINT"),
    ("status", "VARCHAR"),  # ingested / failed / duplicate
    ("error", "VARCHAR"),
    ("ingested_at", "TIMESTAMP"),
]
REPORT_COLUMNS = [
    ("run_id", "VARCHAR"),
    ("run_at", "TIMESTAMP"),
    ("as_of", "DATE"),
    ("path", "VARCHAR"),
    ("table_name", "VARCHAR"),
    ("action", "VARCHAR"),  # ingested / failed / skipped / duplicate / deferred
    ("rows_read", "BIGINT"),
    ("rows_typed", "BIGINT"),
    ("rows_quarantined", "BIGINT"),
    ("error", "VARCHAR"),
    ("seconds", "DOUBLE"),
]


def _ddl(columns: list[tuple[str, str]]) -> str:
    return ", ".join(f'"{name}" {duck_type}' for name, duck_type in columns)


def ensure_landing(con: duckdb.DuckDBPyConnection) -> None:
    """Every landing table exists (empty before its first file), so dbt never meets a missing source."""
    con.execute("create schema if not exists landing")
    con.execute("create schema if not exists landing_history")
    for table in TABLES:
        columns = output_columns(table)
        con.execute(f"create table if not exists landing.{table.name} ({_ddl(columns)})")
        con.execute(
            f"create table if not exists landing_history.{table.name} "
            f"({_ddl(columns)}, _file_modified_at DOUBLE)"
        )
    con.execute(f"create table if not exists landing.quarantine ({_ddl(QUARANTINE_COLUMNS)})")
    con.execute(f"create table if not exists landing.file_manifest ({_ddl(MANIFEST_COLUMNS)})")
    con.execute(f"create table if not exists landing.ingestion_report ({_ddl(REPORT_COLUMNS)})")


def _key_match(table: Table, left: str, right: str) -> str:
    return " and ".join(f"{left}.{k} = {right}.{k}" for k in table.key)


def history_files(con: duckdb.DuckDBPyConnection, table: Table) -> dict[str, tuple]:
    """Every file with rows in the table's history: path → (file date, modification time)."""
    return {
        path: (file_date, modified_at)
        for path, file_date, modified_at in con.execute(
            f"select _source_file, any_value(_file_date), any_value(_file_modified_at) "
            f"from landing_history.{table.name} group by _source_file"
        ).fetchall()
    }


def file_order(path: str, file_date, modified_at: float) -> tuple:
    """How files are ordered for "later file wins": name date (else the UTC modification date),
    modification time, path. ``refresh_current`` orders by the same three in SQL."""
    fallback = dt.datetime.fromtimestamp(modified_at, dt.UTC).date()
    return (file_date or fallback, modified_at, path)


def replace_file_rows(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    path: str,
    rows: pl.DataFrame,
    modified_at: float,
    replacing: bool = True,
) -> None:
    """The history rows of ``path`` become ``rows``; ``replacing=False`` when it has none yet."""
    if replacing:
        con.execute(f"delete from landing_history.{table.name} where _source_file = ?", [path])
    con.register("incoming_rows", rows.to_arrow())
    try:
        con.execute(
            f"insert into landing_history.{table.name} by name "
            f"select *, ?::double as _file_modified_at from incoming_rows",
            [modified_at],
        )
    finally:
        con.unregister("incoming_rows")


def merge_current(con: duckdb.DuckDBPyConnection, table: Table, rows: pl.DataFrame, newer: list[str]) -> None:
    """Merge the rows of a file new to the history into ``landing.<table>``, inside DuckDB.

    ``rows`` hold one row per key (the file's last one); ``newer`` are the files that order after
    this one. Per key: a current row from a newer file stays, any other current row is replaced,
    and a key not yet current is inserted. The current row of a key is the latest of its history,
    so this gives what ``refresh_current`` would, without re-reading the history: a first load of
    millions of rows is written once, not recomputed by a window over all of them.
    """
    match = _key_match(table, "c", "n")
    name = f"landing.{table.name}"
    con.register("incoming_current", rows.to_arrow())
    try:
        # the current rows of the file's keys: the semi join hashes the file's keys (the small side)
        # and probes the current table, never the other way round
        present = con.sql(
            f"select c.rowid as row_id, c._source_file as source_file from {name} c "
            f"semi join incoming_current n on {match}"
        ).pl()
        if present.height == 0:  # only new keys: a plain append (every first load)
            con.execute(f"insert into {name} by name select * from incoming_current")
            return
        stale = present.filter(~pl.col("source_file").is_in(newer)).select("row_id")
        if stale.height:
            con.register("stale_rows", stale.to_arrow())
            try:
                con.execute(f"delete from {name} where rowid in (select row_id from stale_rows)")
            finally:
                con.unregister("stale_rows")
        con.execute(
            f"insert into {name} by name select n.* from incoming_current n anti join "
            f"(select c.* from {name} c semi join incoming_current n on {match}) c on {match}"
        )
    finally:
        con.unregister("incoming_current")


def refresh_current(con: duckdb.DuckDBPyConnection, table: Table, files: list[str]) -> int:
    """Recompute ``landing.<table>`` for the keys ``files`` touch; returns how many keys.

    Touched keys: those the files now carry (history) and those whose current row came from one of
    them (a record a corrected file no longer carries falls back to its previous version). Other
    keys cannot change: their current row is from a file not re-read.
    """
    if not files:
        return 0
    keys = ", ".join(table.key)
    affected = con.sql(
        f"select {keys} from landing_history.{table.name} where list_contains(?::varchar[], _source_file) "
        f"union select {keys} from landing.{table.name} where list_contains(?::varchar[], _source_file)",
        params=[files, files],
    ).pl()
    columns = ", ".join(f'h."{name}"' for name, _ in output_columns(table))
    con.register("affected_keys", affected.to_arrow())
    try:
        con.execute(
            f"delete from landing.{table.name} c using affected_keys a where {_key_match(table, 'c', 'a')}"
        )
        con.execute(
            f"""
            insert into landing.{table.name}
            select {columns}
            from landing_history.{table.name} h
            semi join affected_keys a on {_key_match(table, "h", "a")}
            qualify row_number() over (
                partition by {", ".join(f"h.{k}" for k in table.key)}
                order by coalesce(h._file_date, date '1970-01-01' + floor(h._file_modified_at / 86400)::integer) desc,
                         h._file_modified_at desc, h._source_file desc, h._source_row desc
            ) = 1
            """
        )
    finally:
        con.unregister("affected_keys")
    return affected.height


def replace_quarantine(con: duckdb.DuckDBPyConnection, path: str, rows: pl.DataFrame) -> None:
    con.execute("delete from landing.quarantine where file = ?", [path])
    if rows.height:
        con.register("incoming_quarantine", rows)
        try:
            con.execute("insert into landing.quarantine by name select * from incoming_quarantine")
        finally:
            con.unregister("incoming_quarantine")


def write_manifest(con: duckdb.DuckDBPyConnection, entry: dict) -> None:
    names = [name for name, _ in MANIFEST_COLUMNS]
    con.execute("delete from landing.file_manifest where path = ?", [entry["path"]])
    con.execute(
        f"insert into landing.file_manifest ({', '.join(names)}) values ({', '.join('?' for _ in names)})",
        [entry.get(name) for name in names],
    )


def read_manifest(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    frame = con.sql("select * from landing.file_manifest").pl()
    return {row["path"]: row for row in frame.iter_rows(named=True)}


def append_report(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    if not rows:
        return
    names = [name for name, _ in REPORT_COLUMNS]
    con.executemany(
        f"insert into landing.ingestion_report ({', '.join(names)}) values ({', '.join('?' for _ in names)})",
        [[row.get(name) for name in names] for row in rows],
    )


def known_dealers(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("select dealer_code from landing.dealers").fetchall()}


def row_count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    return con.execute(f"select count(*) from landing.{name}").fetchone()[0]
