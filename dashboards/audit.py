"""The download audit log: one line per file that leaves the dashboard, written before it leaves.

Each line says who (account and role), when, which dealer, month and list, the format and file
name, how many rows, how many of them carry a full mobile, and the SHA-256 of the exact bytes
handed over, so a file found later can be traced to its download.

Append-only twice over: SQLite triggers refuse any UPDATE or DELETE on the table, and every line
carries the SHA-256 of the previous line's digest plus its own fields (a hash chain), so a line
removed or edited with another tool shows up in ``verify_chain``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass

from dashboards.store import stamp

GENESIS = "0" * 64


@dataclass(frozen=True)
class Download:
    downloaded_by: str
    role: str
    dealer_code: str
    month: str  # YYYY-MM of the list's rows
    list_name: str  # due / not_reminded / not_tracked / not_returned / quarantine
    file_format: str  # xlsx / csv
    file_name: str
    rows: int
    full_mobiles: int
    file_sha256: str


_FIELDS = (
    "downloaded_at", "downloaded_by", "role", "dealer_code", "month", "list_name", "file_format",
    "file_name", "rows", "full_mobiles", "file_sha256",
)  # fmt: skip


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _entry_digest(previous: str, fields: dict) -> str:
    canonical = json.dumps({k: fields[k] for k in _FIELDS}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(f"{previous}\n{canonical}".encode()).hexdigest()


def record_download(con: sqlite3.Connection, download: Download, now: dt.datetime | None = None) -> str:
    """Append one line; returns its digest. Raises if it cannot be written (then no file leaves)."""
    fields = {"downloaded_at": stamp(now), **asdict(download)}
    with con:
        con.execute("begin immediate")  # one writer at a time, so the chain never forks
        last = con.execute(
            "select entry_sha256 from download_audit order by entry_id desc limit 1"
        ).fetchone()
        previous = last[0] if last else GENESIS
        digest = _entry_digest(previous, fields)
        con.execute(
            f"insert into download_audit ({', '.join(_FIELDS)}, previous_entry_sha256, entry_sha256) "
            f"values ({', '.join('?' for _ in _FIELDS)}, ?, ?)",
            (*(fields[k] for k in _FIELDS), previous, digest),
        )
    return digest


def read_downloads(con: sqlite3.Connection, limit: int | None = None) -> list[dict]:
    """The log, newest first."""
    sql = f"select entry_id, {', '.join(_FIELDS)} from download_audit order by entry_id desc"
    rows = con.execute(sql + (" limit ?" if limit else ""), (limit,) if limit else ()).fetchall()
    return [dict(zip(("entry_id", *_FIELDS), row, strict=True)) for row in rows]


def verify_chain(con: sqlite3.Connection) -> int | None:
    """The id of the first line that does not follow from the ones before it, or None when intact."""
    previous = GENESIS
    rows = con.execute(
        f"select entry_id, {', '.join(_FIELDS)}, previous_entry_sha256, entry_sha256 "
        "from download_audit order by entry_id"
    )
    for row in rows:
        entry_id, *values, stored_previous, stored = row
        fields = dict(zip(_FIELDS, values, strict=True))
        if stored_previous != previous or _entry_digest(previous, fields) != stored:
            return entry_id
        previous = stored
    return None
