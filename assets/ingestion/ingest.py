"""One ingestion pass over the inbox: which files to take, typing them, landing and quarantining rows.

No Dagster here: ``ingest_inbox`` takes a DuckDB connection and returns what it did, so the asset,
the CLI and the tests share it. Every file ends in exactly one outcome (ingested, failed, skipped,
duplicate, deferred) and, when read, rows read = rows typed + rows quarantined.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from assets.ingestion import store
from assets.ingestion.schemas import schema_failures
from sources.exports.normalize import Q_COLUMN, Q_REASON, RAW_ROW, UNKNOWN_DEALER, raw_rows, type_export
from sources.exports.personal import PersonalData
from sources.exports.reader import FileName, UnreadableFile, parse_file_name, read_export
from sources.exports.tables import DEALER_COLUMNS, INGEST_ORDER, TABLES, Kind, Table

log = logging.getLogger(__name__)

DUCKDB_MEMORY_LIMIT = "512MB"
# files are read and typed in worker threads (polars releases the GIL) while this thread writes the
# previous ones to DuckDB; at most PREPARED_AHEAD typed files are held in memory at once
CHECKPOINT_THRESHOLD = "16GB"
TRANSACTION_ROWS = 1_000_000
PREPARE_THREADS = 2
PREPARED_AHEAD = 2


@dataclass
class InboxFile:
    path: Path
    relative: str  # to the inbox, with forward slashes: the manifest key
    size: int
    modified_at: float
    name: FileName

    @property
    def order(self) -> tuple:
        """Later files win: name date (else modification date), then modification time."""
        fallback = dt.datetime.fromtimestamp(self.modified_at, dt.UTC).date()
        return (self.name.file_date or fallback, self.modified_at, self.relative)

    def sha256(self) -> str:
        digest = hashlib.sha256()
        with open(self.path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


@dataclass
class FileOutcome:
    relative: str
    table: str | None
    action: str  # ingested / failed / skipped / duplicate / deferred
    rows_read: int = 0
    rows_typed: int = 0
    rows_quarantined: int = 0
    error: str | None = None
    seconds: float = 0.0


@dataclass
class IngestionResult:
    as_of: dt.date | None
    outcomes: list[FileOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(o.action == action for o in self.outcomes)

    def table_rows(self, table: str) -> dict[str, int]:
        mine = [o for o in self.outcomes if o.table == table and o.action == "ingested"]
        return {
            "files": len(mine),
            "rows_read": sum(o.rows_read for o in mine),
            "rows_typed": sum(o.rows_typed for o in mine),
            "rows_quarantined": sum(o.rows_quarantined for o in mine),
        }


def scan_inbox(inbox: Path) -> list[InboxFile]:
    """Every regular, non-hidden file under the inbox (dealers' systems may add folders)."""
    if not inbox.exists():
        return []
    files = []
    for path in sorted(inbox.rglob("*")):
        relative = path.relative_to(inbox).as_posix()
        if not path.is_file() or any(part.startswith((".", "~$")) for part in relative.split("/")):
            continue
        stat = path.stat()
        files.append(InboxFile(path, relative, stat.st_size, stat.st_mtime, parse_file_name(path.name)))
    return files


def inbox_signature(inbox: Path) -> dict[str, tuple[float, int]]:
    """File name → (mtime, size): what the sensor compares between ticks."""
    return {f.relative: (f.modified_at, f.size) for f in scan_inbox(inbox)}


def ingest_inbox(
    con: duckdb.DuckDBPyConnection,
    inbox: Path,
    personal: PersonalData,
    as_of: dt.date | None = None,
    run_id: str = "",
    now: dt.datetime | None = None,
) -> IngestionResult:
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    # DuckDB would otherwise cache up to 80% of RAM; ingestion's own frames need the rest
    con.execute(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
    con.execute("set enable_progress_bar = false")
    # DuckDB checkpoints whenever its WAL passes 16 MB, i.e. after nearly every file of a first load,
    # and each checkpoint costs about as much as the insert itself; one checkpoint at the end instead
    threshold = con.execute("select current_setting('checkpoint_threshold')").fetchall()[0][0]
    con.execute(f"set checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    try:
        return _ingest(con, inbox, personal, as_of, now)
    finally:
        con.execute(f"set checkpoint_threshold = '{threshold}'")
        try:
            con.execute("checkpoint")
        except duckdb.Error as exc:  # another connection's open transaction: DuckDB checkpoints later
            log.warning("no checkpoint after ingestion: %s", exc)


def _ingest(
    con, inbox: Path, personal: PersonalData, as_of: dt.date | None, now: dt.datetime
) -> IngestionResult:
    store.ensure_landing(con)
    result = IngestionResult(as_of)
    manifest = store.read_manifest(con)
    known_shas = {row["sha256"]: path for path, row in manifest.items() if row["status"] == "ingested"}

    due: list[tuple[InboxFile, str]] = []
    for file in scan_inbox(inbox):
        table_name = file.name.table.name if file.name.table else None
        if as_of is not None and file.name.file_date is not None and file.name.file_date > as_of:
            result.outcomes.append(FileOutcome(file.relative, table_name, "deferred"))
            continue
        previous = manifest.get(file.relative)
        if previous and previous["size_bytes"] == file.size and previous["modified_at"] == file.modified_at:
            result.outcomes.append(FileOutcome(file.relative, table_name, "skipped"))
            continue  # unchanged since it was last seen: not even hashed again
        sha = file.sha256()
        if previous and previous["sha256"] == sha:
            result.outcomes.append(FileOutcome(file.relative, table_name, "skipped"))
            continue
        twin = known_shas.get(sha)
        if twin and twin != file.relative:
            message = f"same content as {twin}, already ingested"
            _record(con, file, sha, "duplicate", message, now)
            result.outcomes.append(FileOutcome(file.relative, table_name, "duplicate", error=message))
            continue
        if file.name.table is None:
            message = (
                f"unrecognised table name in '{file.path.name}': the name must start with one of "
                + ", ".join(t.name for t in TABLES)
            )
            _record(con, file, sha, "failed", message, now)
            result.outcomes.append(FileOutcome(file.relative, None, "failed", error=message))
            log.warning("%s: %s", file.relative, message)
            continue
        known_shas.setdefault(sha, file.relative)  # an identical copy later in this scan is a duplicate
        due.append((file, sha))

    # master data first (the dealer check reads landing.dealers), then each table's files oldest first
    due.sort(key=lambda item: (INGEST_ORDER.index(item[0].name.table.name), item[0].order))
    jobs = [(file.name.table, file, sha) for file, sha in due]
    dealer_jobs = [job for job in jobs if job[0].name == "dealers"]
    other_jobs = [job for job in jobs if job[0].name != "dealers"]
    with ThreadPoolExecutor(PREPARE_THREADS, thread_name_prefix="ingest") as pool:
        _land(con, pool, dealer_jobs, personal, set(), result, now)
        dealers = store.known_dealers(con) if other_jobs else set()
        if not dealers:
            for name in dict.fromkeys(table.name for table, _, _ in other_jobs if table.has_dealer_code):
                result.warnings.append(f"{name}: no dealers landed yet, dealer codes not checked")
        _land(con, pool, other_jobs, personal, dealers, result, now)
    return result


@dataclass
class PreparedFile:
    """A file read and typed (in a worker thread), ready to be written."""

    file: InboxFile
    sha: str
    error: str | None = None
    landed: pl.DataFrame | None = None
    quarantine: pl.DataFrame | None = None
    rows_read: int = 0
    encoding: str = ""
    header_row: int = 0
    seconds: float = 0.0


class _TableLoad:
    """One table's files of this run, written in transactions of whole files.

    Each file is complete on its own (its rows, quarantine rows and manifest entry), so files are
    grouped into transactions of about ``TRANSACTION_ROWS`` rows: DuckDB writes the full row groups
    of a large append straight to the database file, but the last, partial row group of every
    transaction goes through the WAL and is rewritten at the next checkpoint (a transaction per
    file cost as much again as the inserts), while one transaction for a whole first load of 6 M
    repair orders held 6 GB until its commit. A file new to the warehouse (every first load, every monthly
    drop) is merged into the current table (``store.add_file``); a new version of a file with rows
    replaces them and its keys are recomputed (``store.replace_file``).
    """

    def __init__(self, con, table: Table):
        self.con, self.table = con, table
        self.orders = {
            path: store.file_order(path, *known) for path, known in store.ingested_files(con, table).items()
        }
        con.execute("begin transaction")
        self.open = True
        self.rows = 0

    def file_written(self, rows: int) -> None:
        """After a file is complete: commit when the transaction holds enough rows."""
        self.rows += rows
        if self.rows >= TRANSACTION_ROWS:
            self.commit()
            self.con.execute("begin transaction")
            self.open = True
            self.rows = 0

    def commit(self) -> None:
        self.con.execute("commit")
        self.open = False

    def rollback(self) -> None:
        if self.open:
            self.con.execute("rollback")
            self.open = False

    def write(self, path: str, file: InboxFile, landed: pl.DataFrame) -> None:
        file_date, modified_at = file.name.file_date, file.modified_at
        if self.orders.pop(path, None) is not None:
            store.replace_file(self.con, self.table, path, landed, file_date, modified_at)
        else:
            order = store.file_order(path, file_date, modified_at)
            newer = [other for other, other_order in self.orders.items() if other_order > order]
            store.add_file(self.con, self.table, path, landed, file_date, modified_at, newer)
        if landed.height:
            self.orders[path] = store.file_order(path, file_date, modified_at)


def _land(
    con, pool: ThreadPoolExecutor, jobs: list, personal: PersonalData, dealers: set[str], result, now
) -> None:
    """Type files in the pool (a few ahead, in order) and write each, table by table, in this thread.

    Reading and typing are polars work that releases the GIL, so a second file is typed while the
    previous one is written to DuckDB; at most ``PREPARED_AHEAD`` typed files wait in memory.
    """
    queue: deque = deque()
    upcoming = iter(jobs)

    def submit() -> None:
        job = next(upcoming, None)
        if job is not None:
            table, file, sha = job
            queue.append((table, pool.submit(_prepare_file, table, file, sha, personal, dealers, now)))

    # the run-wide cache of a kind of personal data is dropped after the last file that has one
    # (ID numbers are only in the first tables; at M their cache is ~0.2 GB)
    last_use = {kind: i for i, (table, _, _) in enumerate(jobs) for kind in _personal_kinds(table)}
    for _ in range(PREPARED_AHEAD):
        submit()
    load: _TableLoad | None = None
    done = -1
    try:
        while queue:
            table, future = queue.popleft()
            prepared = future.result()
            done += 1
            for kind in [k for k, last in last_use.items() if last == done]:
                personal.forget(kind)
            submit()
            if load is None or load.table is not table:
                if load is not None:
                    load.commit()
                load = _TableLoad(con, table)
            result.outcomes.append(_write_file(con, load, prepared, now))
        if load is not None:
            load.commit()
    except BaseException:
        for _, future in queue:
            future.cancel()
        if load is not None:
            load.rollback()
        raise


_PERSONAL_KINDS = {Kind.MOBILE: "mobile", Kind.ID_NUMBER: "id_number", Kind.NAME: "name"}


def _personal_kinds(table: Table) -> set[str]:
    return {_PERSONAL_KINDS[c.kind] for c in table.columns if c.kind in _PERSONAL_KINDS}


def _record(con, file: InboxFile, sha: str, status: str, error: str | None, now, **counts) -> None:
    store.write_manifest(
        con,
        {
            "path": file.relative,
            "source": file.name.table.system if file.name.table else file.relative.split("/")[0],
            "table_name": file.name.table.name if file.name.table else None,
            "file_date": file.name.file_date,
            "size_bytes": file.size,
            "modified_at": file.modified_at,
            "sha256": sha,
            "status": status,
            "error": error,
            "ingested_at": now,
            **counts,
        },
    )


def _prepare_file(
    table: Table, file: InboxFile, sha: str, personal: PersonalData, dealers: set[str], now
) -> PreparedFile:
    """Read and type one file: its landing rows and its quarantine rows (no database access)."""
    started = time.perf_counter()
    try:
        raw = read_export(file.path, table)
    except UnreadableFile as exc:
        return PreparedFile(file, sha, error=str(exc), seconds=time.perf_counter() - started)

    typed = type_export(raw, personal, file.relative, file.name.file_date)
    typed = _check_dealers(table, typed, dealers)
    typed = _check_schema(table, typed)

    failed = pl.col(Q_REASON).is_not_null()
    landed = typed.filter(~failed).drop(Q_COLUMN, Q_REASON).with_columns(pl.lit(now).alias("_ingested_at"))
    rejected = typed.filter(failed).select("_source_row", Q_COLUMN, Q_REASON)
    quarantine = rejected.join(raw_rows(raw, personal, rejected.get_column("_source_row")), on="_source_row")
    quarantine = quarantine.select(
        pl.lit(table.system).alias("source"),
        pl.lit(table.name).alias("table_name"),
        pl.lit(file.relative).alias("file"),
        pl.col("_source_row").alias("row_number"),
        pl.col(Q_COLUMN).alias("column"),
        pl.col(Q_REASON).alias("reason"),
        pl.col(RAW_ROW).alias("raw_row"),
        pl.lit(now).alias("ingested_at"),
    )
    read = raw.frame.height
    if read != landed.height + quarantine.height:  # every row typed or quarantined, or nothing lands
        raise RuntimeError(
            f"{file.relative}: {read} rows read but {landed.height} + {quarantine.height} accounted"
        )
    return PreparedFile(
        file, sha, None, landed, quarantine, read, raw.encoding, raw.header_row, time.perf_counter() - started
    )


def _write_file(con, load: _TableLoad, prepared: PreparedFile, now) -> FileOutcome:
    started = time.perf_counter()
    file, table = prepared.file, load.table
    if prepared.error is not None:
        _record(con, file, prepared.sha, "failed", prepared.error, now)
        log.warning("%s: not ingested: %s", file.relative, prepared.error)
        return FileOutcome(file.relative, table.name, "failed", error=prepared.error)
    assert prepared.landed is not None and prepared.quarantine is not None
    counts = {
        "rows_read": prepared.rows_read,
        "rows_typed": prepared.landed.height,
        "rows_quarantined": prepared.quarantine.height,
        "encoding": prepared.encoding,
        "header_row": prepared.header_row,
    }
    load.write(file.relative, file, prepared.landed)
    store.replace_quarantine(con, file.relative, prepared.quarantine)
    _record(con, file, prepared.sha, "ingested", None, now, **counts)
    load.file_written(prepared.rows_read)
    return FileOutcome(
        file.relative,
        table.name,
        "ingested",
        prepared.rows_read,
        prepared.landed.height,
        prepared.quarantine.height,
        seconds=round(prepared.seconds + time.perf_counter() - started, 3),
    )


def _add_reason(typed: pl.DataFrame, failing: pl.Expr, column: str, reason: str) -> pl.DataFrame:
    return typed.with_columns(
        pl.when(failing)
        .then(pl.concat_str([pl.col(Q_COLUMN), pl.lit(column)], separator=",", ignore_nulls=True))
        .otherwise(pl.col(Q_COLUMN))
        .alias(Q_COLUMN),
        pl.when(failing)
        .then(pl.concat_str([pl.col(Q_REASON), pl.lit(reason)], separator="; ", ignore_nulls=True))
        .otherwise(pl.col(Q_REASON))
        .alias(Q_REASON),
    )


def _check_dealers(table: Table, typed: pl.DataFrame, dealers: set[str]) -> pl.DataFrame:
    if not dealers or table.name == "dealers":
        return typed
    known = pl.Series(sorted(dealers), dtype=pl.String)
    for column in DEALER_COLUMNS:
        if column in typed.columns:
            unknown = pl.col(column).is_not_null() & ~pl.col(column).is_in(known.implode())
            typed = _add_reason(typed, unknown, column, f"{UNKNOWN_DEALER}: {column}")
    return typed


def _check_schema(table: Table, typed: pl.DataFrame) -> pl.DataFrame:
    """Pandera over the rows typing accepted; its failures become quarantine reasons too."""
    candidates = typed.with_row_index("__position").filter(pl.col(Q_REASON).is_null())
    failures = schema_failures(table, candidates.drop("__position", Q_COLUMN, Q_REASON))
    if failures.height == 0:
        return typed
    positions = (
        candidates.select("__position").with_row_index("index").with_columns(pl.col("index").cast(pl.Int64))
    )
    per_row = (
        failures.join(positions, on="index")
        .group_by("__position")
        .agg(pl.col("column").str.join(",").alias("__col"), pl.col("reason").str.join("; ").alias("__why"))
    )
    return (
        typed.with_row_index("__position")
        .join(per_row, on="__position", how="left", maintain_order="left")
        .with_columns(
            pl.coalesce(Q_COLUMN, "__col").alias(Q_COLUMN), pl.coalesce(Q_REASON, "__why").alias(Q_REASON)
        )
        .drop("__position", "__col", "__why")
    )


def summarize(result: IngestionResult) -> dict[str, int]:
    return {
        "files_seen": len(result.outcomes),
        "files_ingested": result.count("ingested"),
        "files_skipped": result.count("skipped"),
        "files_failed": result.count("failed"),
        "files_duplicate": result.count("duplicate"),
        "files_deferred": result.count("deferred"),
    }


def report_rows(result: IngestionResult, run_id: str, run_at: dt.datetime) -> list[dict]:
    return [
        {
            "run_id": run_id,
            "run_at": run_at,
            "as_of": result.as_of,
            "path": o.relative,
            "table_name": o.table,
            "action": o.action,
            "rows_read": o.rows_read,
            "rows_typed": o.rows_typed,
            "rows_quarantined": o.rows_quarantined,
            "error": o.error,
            "seconds": o.seconds,
        }
        for o in result.outcomes
    ]


def report_markdown(result: IngestionResult, run_id: str, run_at: dt.datetime, tables: Iterable[str]) -> str:
    lines = [
        f"# Ingestion report — run {run_id}",
        "",
        f"Run at {run_at:%Y-%m-%d %H:%M:%S} UTC; files dated up to {result.as_of or 'any date'}.",
        "",
        "| " + " | ".join(summarize(result)) + " |",
        "|" + "---|" * len(summarize(result)),
        "| " + " | ".join(str(v) for v in summarize(result).values()) + " |",
        "",
        "## Per table (this run)",
        "",
        "| table | files | rows read | typed | quarantined |",
        "|---|---|---|---|---|",
    ]
    for name in tables:
        t = result.table_rows(name)
        lines.append(
            f"| {name} | {t['files']} | {t['rows_read']} | {t['rows_typed']} | {t['rows_quarantined']} |"
        )
    lines += [
        "",
        "## Files",
        "",
        "| file | table | action | read | typed | quarantined | reason |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in result.outcomes:
        if o.action in ("skipped", "deferred"):
            continue
        reason = (o.error or "").replace("|", "\\|")
        lines.append(
            f"| {o.relative} | {o.table or ''} | {o.action} | {o.rows_read} | {o.rows_typed} | {o.rows_quarantined} | {reason} |"
        )
    skipped = result.count("skipped") + result.count("deferred")
    if skipped:
        lines += [
            "",
            f"{result.count('skipped')} file(s) unchanged since their last ingestion, "
            f"{result.count('deferred')} dated after the cut-off: not read.",
        ]
    for warning in result.warnings:
        lines += ["", f"Warning: {warning}"]
    return "\n".join(lines) + "\n"
