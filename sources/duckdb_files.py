"""Opening and closing a DuckDB file from several threads of one process.

DuckDB keeps one database instance per file and process, shared by the connections to it, and
tears it down when the last of them closes. A thread that opens the file while another thread
closes the last connection can find the instance half torn down and fail with "Unique file handle
conflict: Cannot attach ... is already attached by database ..." (duckdb 2.0). The month's run
meets that moment: the WeChat and WeCom pulls open and close the warehouse in threads beside each
other and beside the step in the main thread (a clean-clone CI of 2026-12-01 failed the pulls on
it; four threads opening and closing one file read-write in a loop hit it on ~2 % of opens, and
never read-only, as the dashboard opens the serving file, in the same loop). Opening and
closing under one lock of the process leaves no such moment; each takes milliseconds, except a
close that checkpoints, which others then wait for rather than fail on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import duckdb

# an RLock: a close inside another open's critical section (none today) must not deadlock
_OPEN_CLOSE = threading.RLock()


def connect(
    database: str, *, read_only: bool = False, config: Mapping[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, never at the same moment as another open or close in this process."""
    with _OPEN_CLOSE:
        return duckdb.connect(database, read_only=read_only, config=dict(config or {}))


def close(con: duckdb.DuckDBPyConnection) -> None:
    """``con.close()``, never at the same moment as another open or close in this process."""
    with _OPEN_CLOSE:
        con.close()


@contextmanager
def connection(
    database: str, *, read_only: bool = False, config: Mapping[str, Any] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is closed on the way out, whatever happened, both ends under the lock."""
    con = connect(database, read_only=read_only, config=config)
    try:
        yield con
    finally:
        close(con)
