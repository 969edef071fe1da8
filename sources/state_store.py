"""The SQLite stores under ``paths.state`` (the dashboard's accounts, the managers' task decisions).

SQLite because several short-lived processes (dashboard sessions, the CLI) write them while a run
may be reading; write-ahead logging lets a reader and a writer overlap, and a writer waits up to
30 seconds for another's lock instead of failing at once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_state_store(path: Path) -> sqlite3.Connection:
    """Open the store at ``path`` (its folder created if needed) in WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30)
    con.execute("pragma journal_mode=wal")
    return con
