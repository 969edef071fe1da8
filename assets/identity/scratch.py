"""Where the identity stage's per-record work happens: capped memory, a compressed scratch database.

At L scale the work tables hold ~100M rows of identifier strings. As DuckDB *temp* tables they are
kept uncompressed and spill uncompressed; as tables of an attached database file they are written
compressed and can be evicted to that file. So each identity step (OneID, the quality report)
attaches its own scratch database beside the warehouse, caps DuckDB's memory for the duration and
deletes the file afterwards. A connection without a file (``:memory:``, tests) works in ``temp``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from sources.duckdb_files import changed_settings
from sources.sql_text import quote_literal

# DuckDB's share of memory during an identity step (it spills beyond it, to the scratch database
# and its temp directory). The NumPy arrays of the graph come on top: ~1 GB at L scale, so the
# step stays under the 8 GB target. Overridden by AFTERCARE_ONEID_DUCKDB_MEMORY (see oneid.py).
DEFAULT_MEMORY_LIMIT = "4GB"

T = TypeVar("T")


@contextmanager
def scratch_space(
    con: duckdb.DuckDBPyConnection, name: str, memory_limit: str | None = DEFAULT_MEMORY_LIMIT
) -> Iterator[str]:
    """Yield the catalog to create work tables in (``name``, or ``temp`` for an in-memory database).

    Meanwhile DuckDB is capped at ``memory_limit`` (None: leave as is) and writes tables without
    preserving insertion order (they are unordered sets; this lets it write in parallel).
    """
    path = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()
    scratch = Path(f"{path[0][0]}.{name}") if path and path[0][0] else None
    with changed_settings(con, preserve_insertion_order=False, memory_limit=memory_limit):
        if scratch is None:
            yield "temp"
            return
        _remove(scratch)
        con.execute(f"attach {quote_literal(scratch)} as {name}")
        try:
            yield name
        finally:
            con.execute(f"detach {name}")
            _remove(scratch)


# String compression DuckDB skips for work tables: its FSST methods suit repetitive text, not the
# 64-character HMAC keys of identifiers, and analysing them cost more than writing the bytes (at L
# the nodes' copy 21 s against 13, for a scratch file 60 % larger that is deleted after the step)
WORK_DISABLED_COMPRESSION = "fsst,dict_fsst"


@contextmanager
def work_compression(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Inside: tables are written without the FSST string compressions (work tables only: the
    published tables keep DuckDB's choice, or what their columns declare)."""
    with changed_settings(con, disabled_compression_methods=WORK_DISABLED_COMPRESSION):
        yield


@contextmanager
def beside(
    con: duckdb.DuckDBPyConnection, work: str, job: Callable[[duckdb.DuckDBPyConnection], T]
) -> Iterator[Future[T]]:
    """Run ``job`` on a second connection while the body runs; yield its future. The body's end
    waits for the job and raises its error, if any.

    For work that keeps one core busy outside DuckDB (the graph in NumPy/SciPy) while DuckDB has
    independent work for the other. The job must not read what the body writes. In ``temp`` (an
    in-memory database: tests) a second connection would not see the work tables, so the job runs
    first, on ``con``.
    """
    if work == "temp":
        done: Future[T] = Future()
        done.set_result(job(con))
        yield done
        return
    cursor = con.cursor()  # the same database, its attached scratch database and global settings
    # DuckDB keeps its threads: at L the graph took 29 s alone and 36 s beside the nodes' table, which
    # took 28 s on two threads; on one thread (DuckDB's threads=1 meanwhile) it took 41 s
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="duckdb-beside") as pool:
        future = pool.submit(job, cursor)
        try:
            yield future
        except BaseException:
            wait([future])  # the body's error is the one raised; the job is done with
            cursor.close()
            raise
        try:
            future.result()
        finally:
            cursor.close()


def _remove(database: Path) -> None:
    database.unlink(missing_ok=True)
    Path(f"{database}.wal").unlink(missing_ok=True)


def lap_timer(
    seconds: dict[str, float], cpu_seconds: dict[str, float] | None = None
) -> Callable[[str], None]:
    """``lap(name)`` records into ``seconds[name]`` the wall time since the previous lap (or since
    now) and, given ``cpu_seconds``, this process's CPU time over the same span into
    ``cpu_seconds[name]`` (DuckDB's threads included: the figure that compares on a shared machine)."""
    clock, cpu_clock = time.perf_counter(), time.process_time()

    def lap(name: str) -> None:
        nonlocal clock, cpu_clock
        now, cpu_now = time.perf_counter(), time.process_time()
        seconds[name] = round(now - clock, 2)
        if cpu_seconds is not None:
            cpu_seconds[name] = round(cpu_now - cpu_clock, 2)
        clock, cpu_clock = now, cpu_now

    return lap
