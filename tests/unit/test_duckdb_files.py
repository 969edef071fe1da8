"""Threads opening and closing one DuckDB file never meet a half torn-down instance."""

import threading

import duckdb

from sources import duckdb_files


def test_threads_opening_and_closing_one_file_all_succeed(tmp_path):
    # unguarded (duckdb.connect / con.close), four threads x 1,500 opens failed ~2 % of them with
    # "Unique file handle conflict" (duckdb 2.0, 2026-12-01); the month's pulls do this
    database = str(tmp_path / "warehouse.duckdb")
    with duckdb_files.connection(database) as con:
        con.execute("create table opened (thread integer, n integer)")
    errors: list[BaseException] = []

    def open_and_close(thread: int) -> None:
        for n in range(1000):
            try:
                with duckdb_files.connection(database) as con:
                    if n % 250 == 0:
                        con.execute("insert into opened values (?, ?)", [thread, n])
                    else:
                        con.execute("select 1").fetchall()
            except Exception as exc:  # noqa: BLE001 (every failure is what the test counts)
                errors.append(exc)

    threads = [threading.Thread(target=open_and_close, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with duckdb_files.connection(database, read_only=True) as con:
        assert con.execute("select count(*) from opened").fetchone()[0] == 16


def test_a_failed_statement_still_closes_the_connection(tmp_path):
    database = str(tmp_path / "warehouse.duckdb")
    try:
        with duckdb_files.connection(database) as con:
            con.execute("select * from no_such_table")
    except Exception:  # noqa: BLE001
        pass
    # closed: another process-wide open in read-only mode would conflict with a writer left open
    with duckdb_files.connection(database, read_only=True) as reader:
        assert reader.execute("select 42").fetchone()[0] == 42


def test_settings_changed_for_a_while_come_back_even_after_a_failure():
    con = duckdb.connect(":memory:")  # its defaults: a limit read back as text ("2.7 GiB") is rounded
    before = con.execute(
        "select current_setting('memory_limit'), current_setting('preserve_insertion_order')"
    )
    before = before.fetchone()
    try:
        with duckdb_files.changed_settings(
            con, preserve_insertion_order=False, memory_limit="1GB", threads=None
        ):
            inside = con.execute(
                "select current_setting('memory_limit'), current_setting('preserve_insertion_order')"
            ).fetchone()
            raise RuntimeError("a failed step")
    except RuntimeError:
        pass
    after = con.execute("select current_setting('memory_limit'), current_setting('preserve_insertion_order')")
    assert inside[1] is False and inside[0] != before[0]
    assert after.fetchone() == before
