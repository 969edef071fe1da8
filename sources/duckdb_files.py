"""DuckDB files in one process: opened and closed from several threads, settings changed for a while.

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

from sources.sql_text import quote_literal

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


@contextmanager
def changed_settings(con: duckdb.DuckDBPyConnection, **values: bool | str | None) -> Iterator[None]:
    """DuckDB's settings ``values`` (a None leaves that one as it is) while inside, then as they were
    (a size set before to other than its default comes back as DuckDB prints it, rounded to 0.1 GiB).
    A setting belongs to the database instance: every connection of the process to that file sees it."""
    wanted = {name: value for name, value in values.items() if value is not None}
    before = {name: con.execute(f"select current_setting('{name}')").fetchall()[0][0] for name in wanted}
    try:
        for name, value in wanted.items():
            con.execute(f"set {name} = {_setting_sql(value)}")
        yield
    finally:
        for name, value in before.items():
            # back to the default when that is what it was: a size read back as text is rounded
            # ("2.7 GiB"), and setting that text again would shrink the limit at every round trip
            con.execute(f"reset {name}")
            if con.execute(f"select current_setting('{name}')").fetchall()[0][0] != value:
                con.execute(f"set {name} = {_setting_sql(value)}")


def _setting_sql(value: bool | str) -> str:
    return str(value).lower() if isinstance(value, bool) else quote_literal(value)
