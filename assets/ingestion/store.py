"""The landing schema in DuckDB: current version per key, earlier versions, quarantine, manifest, report.

Every row of every ingested file (a changed file's rows replaced) is kept exactly once: in
``landing.<table>`` when it is its key's current version, else in ``landing_history.<table>``.
The current version is the row of the latest file (date in the name, else the modification date;
then modification time; then path; within a file the last row); ``landing_history._files`` lists
the files with rows and their place in that order. Keeping the earlier versions makes a corrected
*older* file harmless: it cannot overwrite a newer file's version of a record, and a record a
corrected file no longer carries falls back to its previous version.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from sources.exports.tables import TABLES, Kind, Table, output_columns
from sources.scrub import scrub_text, sql_holds_personal_number

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
    ("error_zh", "VARCHAR"),  # the reason in Chinese (added after the first release)
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
    ("error_zh", "VARCHAR"),  # added after the first release
]
# files dated after the run's cut-off, as the last ingestion saw the inbox (replaced by each run):
# a later month's run takes a `not_yet_due` one, a `future_dated` one is dated after today
DEFERRED_COLUMNS = [
    ("path", "VARCHAR"),
    ("table_name", "VARCHAR"),
    ("file_date", "DATE"),
    ("reason", "VARCHAR"),  # not_yet_due / future_dated
    ("as_of", "DATE"),
    ("seen_at", "TIMESTAMP"),
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
    con.execute(f"create table if not exists landing.deferred_files ({_ddl(DEFERRED_COLUMNS)})")
    for table, columns in (("file_manifest", MANIFEST_COLUMNS), ("ingestion_report", REPORT_COLUMNS)):
        for name, duck_type in columns:  # columns added since a warehouse was created
            con.execute(
                f'alter table landing.{table} add column if not exists "{name}" {duck_type.split()[0]}'
            )
    _ensure_files(con)
    _scrub_stored_text(con)


SCRUBBED = "landing_history._scrubbed"


def _scrub_stored_text(con: duckdb.DuckDBPyConnection) -> None:
    """Once per warehouse: mask personal numbers in free text landed before ingestion scrubbed it.

    Text columns (keys aside), ``_extra`` and ``quarantine.raw_row`` of a warehouse from before the
    scrubber may hold a typed mobile or ID number; the distinct values that do are scrubbed with
    ``sources.scrub.scrub_text`` and updated in place. A new warehouse has nothing to do.
    """
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'landing_history' and table_name = '_scrubbed'"
    ).fetchall()[0][0]
    if exists:
        return
    targets = [("landing.quarantine", "raw_row")]
    for table in TABLES:
        columns = [c.name for c in table.columns if c.kind is Kind.TEXT and c.name not in table.key]
        for schema in ("landing", "landing_history"):
            targets += [(f"{schema}.{table.name}", column) for column in [*columns, "_extra"]]
    for relation, column in targets:
        text = f'cast("{column}" as varchar)'
        values = [v for (v,) in con.execute(
            f"select distinct {text} from {relation} where {sql_holds_personal_number(text)}"
        ).fetchall()]  # fmt: skip
        if values:
            mapping = pl.DataFrame({"raw": values, "scrubbed": [scrub_text(v) for v in values]})
            con.register("scrubbed_values", mapping.to_arrow())
            try:
                con.execute(
                    f'update {relation} set "{column}" = m.scrubbed from scrubbed_values m where {text} = '
                    "m.raw"
                )
            finally:
                con.unregister("scrubbed_values")
    con.execute(f"create table {SCRUBBED} as select current_timestamp as scrubbed_at")


def _key_match(table: Table, left: str, right: str) -> str:
    return " and ".join(f"{left}.{k} = {right}.{k}" for k in table.key)


# A stored row is named by its file and row number, never by DuckDB's ``rowid``: rowids move when a
# checkpoint vacuums deleted rows, and each file row is kept exactly once (current or history).
ROW_IDENTITY = ["_source_file", "_source_row"]
IDENTITY_LIST = ", ".join(ROW_IDENTITY)


def _identity_match(left: str, right: str) -> str:
    return " and ".join(f"{left}.{c} = {right}.{c}" for c in ROW_IDENTITY)


FILES = "landing_history._files"
FILES_COLUMNS = [
    ("table_name", "VARCHAR"),
    ("path", "VARCHAR"),
    ("file_date", "DATE"),
    ("modified_at", "DOUBLE"),
]


def _ensure_files(con: duckdb.DuckDBPyConnection) -> None:
    """``landing_history._files``: one row per file with rows, its place in the "later file wins" order.

    A warehouse from before it kept every row in the history: the files are listed from there and
    the rows that are current are dropped from the history (each row is kept once).
    """
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'landing_history' and "
        "table_name = '_files'"
    ).fetchall()[0][0]
    if exists:
        return
    con.execute(f"create table {FILES} ({_ddl(FILES_COLUMNS)})")
    for table in TABLES:
        con.execute(
            f"insert into {FILES} select ?, _source_file, any_value(_file_date), "
            f"any_value(_file_modified_at) from landing_history.{table.name} group by _source_file",
            [table.name],
        )
        con.execute(
            f"delete from landing_history.{table.name} h using landing.{table.name} c "
            "where h._source_file = c._source_file and h._source_row = c._source_row"
        )


def ingested_files(con: duckdb.DuckDBPyConnection, table: Table) -> dict[str, tuple]:
    """Every file with rows of ``table``: path → (file date, modification time when ingested)."""
    return {
        path: (file_date, modified_at)
        for path, file_date, modified_at in con.execute(
            f"select path, file_date, modified_at from {FILES} where table_name = ?", [table.name]
        ).fetchall()
    }


def file_order(path: str, file_date, modified_at: float) -> tuple:
    """How files are ordered for "later file wins": name date (else the UTC modification date),
    modification time, path. ``recompute_keys`` orders by the same three in SQL."""
    fallback = dt.datetime.fromtimestamp(modified_at, dt.UTC).date()
    return (file_date or fallback, modified_at, path)


def _insert_history(
    con: duckdb.DuckDBPyConnection, table: Table, rows: pl.DataFrame, modified_at: float
) -> None:
    if rows.height == 0:
        return
    con.register("history_rows", rows.to_arrow())
    try:
        con.execute(
            f"insert into landing_history.{table.name} by name "
            f"select *, ?::double as _file_modified_at from history_rows",
            [modified_at],
        )
    finally:
        con.unregister("history_rows")


def _record_file(con, table: Table, path: str, file_date, modified_at: float) -> None:
    con.execute(f"insert into {FILES} values (?, ?, ?, ?)", [table.name, path, file_date, modified_at])


def add_file(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    path: str,
    rows: pl.DataFrame,
    file_date,
    modified_at: float,
    newer: list[str],
) -> None:
    """Land the rows of a file that has none yet; ``newer``: the files that order after it.

    Per key the current row is the latest of all versions and ``landing_history`` keeps the
    others, so each row is written once. Within the file the last row of a key is its version;
    a current row from a newer file stays (the file's row goes to the history); a current row
    from an older file moves to the history and the file's row replaces it. A first load is
    therefore a plain append, not a recomputation over millions of rows.
    """
    if rows.height == 0:
        return
    match = _key_match(table, "c", "n")
    keys = ", ".join(f"c.{k}" for k in table.key)
    current = f"landing.{table.name}"
    rows = rows.sort("_source_row")
    last = pl.struct(list(table.key)).is_last_distinct()
    _insert_history(con, table, rows.filter(~last), modified_at)  # a key repeated within the file
    con.register("incoming_rows", rows.filter(last).to_arrow())
    try:
        # the semi join hashes the file's keys (the small side) and probes the current table
        present = con.sql(
            f"select c._source_file, c._source_row, {keys} from {current} c "
            f"semi join incoming_rows n on {match}"
        ).pl()
        if present.height == 0:  # only new keys (every first load): a plain append
            con.execute(f"insert into {current} by name select * from incoming_rows")
        else:
            from_newer = pl.col("_source_file").is_in(newer)
            stale = present.filter(~from_newer).select(ROW_IDENTITY)
            kept = present.filter(from_newer).select(table.key)
            if stale.height:
                _move_to_history(con, table, stale)
            con.register("kept_keys", kept.to_arrow())
            try:
                con.execute(
                    f"insert into landing_history.{table.name} by name select n.*, ?::double as "
                    f"_file_modified_at from incoming_rows n semi join kept_keys c on {match}",
                    [modified_at],
                )
                con.execute(
                    f"insert into {current} by name select n.* from incoming_rows n anti join kept_keys c on "
                    f"{match}"
                )
            finally:
                con.unregister("kept_keys")
    finally:
        con.unregister("incoming_rows")
    _record_file(con, table, path, file_date, modified_at)


def _move_to_history(con: duckdb.DuckDBPyConnection, table: Table, rows: pl.DataFrame) -> None:
    """Current rows (by ``ROW_IDENTITY``) become history rows, with their file's modification time."""
    current = f"landing.{table.name}"
    con.register("moved_rows", rows.to_arrow())
    try:
        con.execute(
            f"insert into landing_history.{table.name} by name "
            f"select c.*, f.modified_at as _file_modified_at "
            f"from (select * from {current} semi join moved_rows using ({IDENTITY_LIST})) c "
            f"join {FILES} f on f.table_name = ? and f.path = c._source_file",
            [table.name],
        )
        con.execute(f"delete from {current} c using moved_rows m where {_identity_match('c', 'm')}")
    finally:
        con.unregister("moved_rows")


def replace_file(
    con: duckdb.DuckDBPyConnection, table: Table, path: str, rows: pl.DataFrame, file_date, modified_at: float
) -> int:
    """A new version of a file that has rows: its old rows go, the keys either version carries are
    recomputed from all versions (a key it no longer carries falls back to its previous version).
    Returns how many keys were recomputed."""
    key_list = ", ".join(table.key)
    current = f"landing.{table.name}"
    old_keys = con.sql(f"select {key_list} from {current} where _source_file = ?", params=[path]).pl()
    con.execute(f"delete from {current} where _source_file = ?", [path])
    con.execute(f"delete from landing_history.{table.name} where _source_file = ?", [path])
    con.execute(f"delete from {FILES} where table_name = ? and path = ?", [table.name, path])
    _insert_history(con, table, rows, modified_at)
    if rows.height:
        _record_file(con, table, path, file_date, modified_at)
    touched = pl.concat([old_keys, rows.select(table.key)], how="vertical_relaxed").unique()
    recompute_keys(con, table, touched)
    return touched.height


def recompute_keys(con: duckdb.DuckDBPyConnection, table: Table, keys: pl.DataFrame) -> None:
    """The current row of each of ``keys`` becomes the latest of its versions (current or history)."""
    if keys.height == 0:
        return
    current, history = f"landing.{table.name}", f"landing_history.{table.name}"
    con.register("touched_keys", keys.to_arrow())
    try:
        touched_rows = con.sql(
            f"select c._source_file, c._source_row from {current} c semi join touched_keys n on "
            f"{_key_match(table, 'c', 'n')}"
        ).pl()
        if touched_rows.height:
            _move_to_history(con, table, touched_rows)
        winners = con.sql(
            f"""
            select h._source_file, h._source_row
            from {history} h semi join touched_keys n on {_key_match(table, "h", "n")}
            qualify row_number() over (
                partition by {", ".join(f"h.{k}" for k in table.key)}
                order by coalesce(
                             h._file_date, date '1970-01-01' + floor(h._file_modified_at / 86400)::integer
                         ) desc,
                         h._file_modified_at desc, h._source_file desc, h._source_row desc
            ) = 1
            """
        ).pl()
    finally:
        con.unregister("touched_keys")
    if winners.height == 0:
        return
    con.register("winning_rows", winners.to_arrow())
    try:
        con.execute(
            f"insert into {current} by name select h.* exclude (_file_modified_at) from {history} h "
            f"semi join winning_rows w using ({IDENTITY_LIST})"
        )
        con.execute(f"delete from {history} h using winning_rows w where {_identity_match('h', 'w')}")
    finally:
        con.unregister("winning_rows")


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


def replace_deferred(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """The files this run left for later (``DEFERRED_COLUMNS``), replacing the previous run's list."""
    names = [name for name, _ in DEFERRED_COLUMNS]
    con.execute("delete from landing.deferred_files")
    if rows:
        con.executemany(
            f"insert into landing.deferred_files ({', '.join(names)}) values "
            f"({', '.join('?' for _ in names)})",
            [[row.get(name) for name in names] for row in rows],
        )


def known_dealers(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("select dealer_code from landing.dealers").fetchall()}


def row_count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    return con.execute(f"select count(*) from landing.{name}").fetchall()[0][0]
