"""One ingestion pass over the inbox: which files to take, typing them, landing and quarantining rows.

No Dagster here: ``ingest_inbox`` takes a DuckDB connection and returns what it did, so the asset,
the CLI and the tests share it. Every file ends in exactly one outcome (ingested, failed, skipped,
duplicate, deferred) and, when read, rows read = rows typed + rows quarantined.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from assets.faults import crash_point
from assets.ingestion import store
from assets.ingestion.schemas import schema_failures
from sources.clock import today_local
from sources.duckdb_files import changed_settings
from sources.exports.normalize import Q_COLUMN, Q_REASON, RAW_ROW, UNKNOWN_DEALER, raw_rows, type_export
from sources.exports.personal import PersonalData
from sources.exports.reader import FileName, UnreadableFile, parse_file_name, read_export, unrecognised_name
from sources.exports.tables import DEALER_COLUMNS, INGEST_ORDER, Kind, Table

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
    refused: UnreadableFile | None = None  # a symlink leaving the inbox: never opened

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
    error_zh: str | None = None
    file_date: dt.date | None = None
    deferral: str | None = None  # deferred files: future_dated / not_yet_due


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
    """Every regular, non-hidden file under the inbox (dealers' systems may add folders).

    Symbolic links are not followed out of the inbox: a link (to a file or a folder) whose target
    lies outside it is listed as refused and never opened, so a link cannot make ingestion read
    (or a rerun hash) an arbitrary file of the machine.
    """
    if not inbox.exists():
        return []
    root = inbox.resolve()
    files = []
    for folder, dirnames, filenames in os.walk(inbox, followlinks=False):
        here = Path(folder)
        for name in sorted(dirnames):
            if (here / name).is_symlink() and not _inside(here / name, root):
                filenames.append(name)  # reported like a file: refused
        dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink())
        for name in sorted(filenames):
            path = here / name
            relative = path.relative_to(inbox).as_posix()
            if any(part.startswith((".", "~$")) for part in relative.split("/")):
                continue
            if path.is_symlink() and not _inside(path, root):
                stat = path.lstat()
                refused = UnreadableFile(
                    f"symbolic link to {os.readlink(path)}, outside the inbox: refused (copy the file in "
                    "instead)",
                    f"指向收件箱之外（{os.readlink(path)}）的符号链接：已拒绝（请把文件复制进来）",
                )
                files.append(
                    InboxFile(path, relative, stat.st_size, stat.st_mtime, parse_file_name(name), refused)
                )
                continue
            if not path.is_file():
                continue
            stat = path.stat()
            files.append(InboxFile(path, relative, stat.st_size, stat.st_mtime, parse_file_name(name)))
    return sorted(files, key=lambda f: f.relative)


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except OSError:  # a dangling or looping link
        return False


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
    today: dt.date | None = None,
) -> IngestionResult:
    """``today`` (default: the date in Beijing) tells a file dated after the cut-off that a later
    month's run will take (``not_yet_due``) from one dated after the current month (``future_dated``:
    a typo or a wrong clock, which no run takes until then). A name dated later in the current month
    is normal: a monthly export is named after the month's last day."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    today = today or today_local()
    try:
        with changed_settings(
            con,
            # DuckDB would otherwise cache up to 80% of RAM; ingestion's own frames need the rest
            memory_limit=DUCKDB_MEMORY_LIMIT,
            enable_progress_bar=False,
            # DuckDB checkpoints whenever its WAL passes 16 MB, i.e. after nearly every file of a first
            # load, and each checkpoint costs about as much as the insert itself; one at the end instead
            checkpoint_threshold=CHECKPOINT_THRESHOLD,
        ):
            return _ingest(con, inbox, personal, as_of, now, today)
    finally:
        try:
            con.execute("checkpoint")
        except duckdb.Error as exc:  # another connection's open transaction: DuckDB checkpoints later
            log.warning("no checkpoint after ingestion: %s", exc)


def _ingest(
    con, inbox: Path, personal: PersonalData, as_of: dt.date | None, now: dt.datetime, today: dt.date
) -> IngestionResult:
    store.ensure_landing(con)
    result = IngestionResult(as_of)
    manifest = store.read_manifest(con)
    known_shas = {row["sha256"]: path for path, row in manifest.items() if row["status"] == "ingested"}

    due: list[tuple[InboxFile, str]] = []
    for file in scan_inbox(inbox):
        table_name = file.name.table.name if file.name.table else None
        if as_of is not None and file.name.file_date is not None and file.name.file_date > as_of:
            deferral = "future_dated" if file.name.file_date > _month_end(today) else "not_yet_due"
            result.outcomes.append(
                FileOutcome(
                    file.relative, table_name, "deferred", file_date=file.name.file_date, deferral=deferral
                )
            )
            if deferral == "future_dated":
                result.warnings.append(
                    f"{file.relative}: dated {file.name.file_date}, after the current month (today is "
                    f"{today}): no run takes it until then; check the date in its name"
                )
            continue
        previous = manifest.get(file.relative)
        if file.refused is not None:
            if previous and previous["status"] == "failed" and previous["error"] == str(file.refused):
                _skip(result, file, table_name, previous)
                continue
            _record(con, file, None, "failed", file.refused, now)
            result.outcomes.append(_failed(file.relative, table_name, file.refused))
            continue
        if previous and previous["size_bytes"] == file.size and previous["modified_at"] == file.modified_at:
            _skip(result, file, table_name, previous)
            continue  # unchanged since it was last seen: not even hashed again
        sha = file.sha256()
        if previous and previous["sha256"] == sha:
            _skip(result, file, table_name, previous)
            continue
        twin = known_shas.get(sha)
        if twin and twin != file.relative:
            message = UnreadableFile(
                f"same content as {twin}, already ingested", f"与已导入的 {twin} 内容相同"
            )
            _record(con, file, sha, "duplicate", message, now)
            result.outcomes.append(
                FileOutcome(file.relative, table_name, "duplicate", error=str(message), error_zh=message.zh)
            )
            continue
        if file.name.table is None:
            refused = unrecognised_name(file.path.name)
            _record(con, file, sha, "failed", refused, now)
            result.outcomes.append(_failed(file.relative, None, refused))
            log.warning("%s: %s", file.relative, refused)
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
    store.replace_deferred(
        con,
        [
            {"path": o.relative, "table_name": o.table, "file_date": o.file_date, "reason": o.deferral,
             "as_of": as_of, "seen_at": now}
            for o in result.outcomes
            if o.action == "deferred"
        ],
    )  # fmt: skip
    return result


def _skip(result: IngestionResult, file: InboxFile, table: str | None, previous: dict) -> None:
    """An unchanged file is not read again; one that failed before is named again in every run."""
    result.outcomes.append(FileOutcome(file.relative, table, "skipped"))
    if previous["status"] == "failed":
        result.warnings.append(
            f"{file.relative}: still not ingested, unchanged since {previous['ingested_at']:%Y-%m-%d}: "
            f"{previous['error']}"
        )


def _month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _failed(relative: str, table: str | None, reason: UnreadableFile) -> FileOutcome:
    return FileOutcome(relative, table, "failed", error=str(reason), error_zh=reason.zh)


@dataclass
class PreparedFile:
    """A file read and typed (in a worker thread), ready to be written."""

    file: InboxFile
    sha: str
    error: UnreadableFile | None = None
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
                    crash_point("ingestion")  # reliability suite only: a table landed, others to come
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


def _record(
    con, file: InboxFile, sha: str | None, status: str, error: UnreadableFile | None, now, **counts
) -> None:
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
            "error": str(error) if error is not None else None,
            "error_zh": error.zh if error is not None else None,
            "ingested_at": now,
            **counts,
        },
    )


def _prepare_file(
    table: Table, file: InboxFile, sha: str, personal: PersonalData, dealers: set[str], now
) -> PreparedFile:
    """Read and type one file: its landing rows and its quarantine rows (no database access).

    Whatever goes wrong here is this file's problem: a reason the reader gives, or any other error
    while reading or typing it, ends as the file's failure (path and reason in the manifest, the
    run report and the log) and the other files go on.
    """
    started = time.perf_counter()
    try:
        return _read_and_type(table, file, sha, personal, dealers, now, started)
    except UnreadableFile as exc:
        return PreparedFile(file, sha, error=exc, seconds=time.perf_counter() - started)
    except Exception as exc:  # a bug or an input nobody foresaw: still only this file's failure
        log.exception("%s: unexpected error while reading or typing it", file.relative)
        first = (str(exc).splitlines() or [""])[0][:300]
        reason = UnreadableFile(
            f"unexpected error while reading or typing the file: {type(exc).__name__}: {first}",
            f"读取或转换此文件时出现意外错误：{type(exc).__name__}: {first}",
        )
        return PreparedFile(file, sha, error=reason, seconds=time.perf_counter() - started)


def _read_and_type(
    table: Table, file: InboxFile, sha: str, personal: PersonalData, dealers: set[str], now, started: float
) -> PreparedFile:
    raw = read_export(file.path, table)

    typed = type_export(raw, personal, file.relative, file.name.file_date)
    typed = _check_dealers(table, typed, dealers)
    typed = _check_schema(table, typed)

    failed = pl.col(Q_REASON).is_not_null()
    landed = typed.filter(~failed).drop(Q_COLUMN, Q_REASON).with_columns(pl.lit(now).alias("_ingested_at"))
    rejected = typed.filter(failed).select("_source_row", Q_COLUMN, Q_REASON)
    quarantine = rejected.join(raw_rows(raw, personal, rejected.get_column("_source_row")), on="_source_row")
    # lines the reader set aside (ragged, over-long cells) join the quarantine with their reasons
    quarantine = pl.concat([quarantine, raw.rejected.rename({"_raw_row": RAW_ROW})], how="vertical_relaxed")
    quarantine = quarantine.sort("_source_row").select(
        pl.lit(table.system).alias("source"),
        pl.lit(table.name).alias("table_name"),
        pl.lit(file.relative).alias("file"),
        pl.col("_source_row").alias("row_number"),
        pl.col(Q_COLUMN).alias("column"),
        pl.col(Q_REASON).alias("reason"),
        pl.col(RAW_ROW).alias("raw_row"),
        pl.lit(now).alias("ingested_at"),
    )
    read = raw.rows_read
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
        return _failed(file.relative, table.name, prepared.error)
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
        "files_future_dated": sum(o.deferral == "future_dated" for o in result.outcomes),
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
            "error_zh": o.error_zh,
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
        reason = f"{o.error} / {o.error_zh}" if o.error_zh and o.error_zh != o.error else o.error or ""
        reason = reason.replace("|", "\\|")
        lines.append(
            f"| {o.relative} | {o.table or ''} | {o.action} | {o.rows_read} | {o.rows_typed} | "
            f"{o.rows_quarantined} | {reason} |"
        )
    deferred = [o for o in result.outcomes if o.action == "deferred"]
    if deferred:
        lines += ["", "## Dated after the cut-off (not read)", "", "| file | dated | why |", "|---|---|---|"]
        why = {
            "future_dated": "dated after today: check the name",
            "not_yet_due": "a later month's run takes it",
        }
        lines += [f"| {o.relative} | {o.file_date} | {why[o.deferral]} |" for o in deferred]
    if result.count("skipped"):
        lines += [
            "",
            f"{result.count('skipped')} file(s) unchanged since their last ingestion: not read again.",
        ]
    for warning in result.warnings:
        lines += ["", f"Warning: {warning}"]
    return "\n".join(lines) + "\n"
