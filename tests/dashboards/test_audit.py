"""The download audit log is append-only and tamper-evident."""

import sqlite3

import pytest

from dashboards.audit import Download, file_digest, read_downloads, record_download, verify_chain
from dashboards.store import connect


def a_download(rows: int = 3, by: str = "li.d002") -> Download:
    data = f"{rows} rows".encode()
    return Download(
        by, "dealer_manager", "D002", "2026-10", "not_reached", "csv", "x.csv", rows, rows, file_digest(data)
    )


def test_lines_are_read_back_newest_first_with_their_digest(tmp_path):
    con = connect(tmp_path)
    record_download(con, a_download(3))
    record_download(con, a_download(5, by="sun.east"))
    lines = read_downloads(con)
    assert [(line["downloaded_by"], line["rows"]) for line in lines] == [("sun.east", 5), ("li.d002", 3)]
    assert lines[1]["file_sha256"] == file_digest(b"3 rows")
    assert verify_chain(con) is None


def test_a_line_can_be_neither_changed_nor_deleted(tmp_path):
    con = connect(tmp_path)
    record_download(con, a_download())
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), con:
        con.execute("update download_audit set rows = 0")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), con:
        con.execute("delete from download_audit")
    assert read_downloads(con)[0]["rows"] == 3


def test_an_edit_behind_the_triggers_breaks_the_chain(tmp_path):
    con = connect(tmp_path)
    for rows in (1, 2, 3):
        record_download(con, a_download(rows))
    with con:  # someone with the file and sqlite3 at hand
        con.execute("drop trigger download_audit_no_update")
        con.execute("update download_audit set rows = 20 where rows = 2")
    second = [line["entry_id"] for line in read_downloads(con) if line["rows"] == 20][0]
    assert verify_chain(con) == second
