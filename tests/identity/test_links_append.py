"""``identity.oneid_links`` is appended to, not rewritten, and equals what a full rewrite gives
(issue 16): after later data, a merge, a split and a rerun, against a fresh resolve of the same data."""

import datetime as dt

from assets.identity.resolve import OneidParams, resolve
from tests.identity.fixtures import FixtureWarehouse, id_number, mobile

PARAMS = OneidParams()


def links(con) -> list[tuple]:
    return con.execute("select * from identity.oneid_links order by all").fetchall()


def months_of_data(wh: FixtureWarehouse, month: int) -> None:
    """What arrives in month 1, 2 and 3: new owners, more history, a merge and a split."""
    if month == 1:
        for n in range(1, 25):
            wh.sale(f"LSVAA0000000{n:05d}", "2023-01-05", id_number(n), mobile(n))
            wh.binding(f"o{n}", f"u{n}", id_number(n), mobile(n), "2023-02-01")
            wh.follower(f"o{n}", f"u{n}")
        wh.follower("o90", "u90", on="2024-01-01")
        for k in range(3):  # person 30: three sales with a mobile a booking also uses
            wh.sale(f"LSVCC00000000000{k}", f"202{k}-01-05", id_number(30), mobile(77))
        wh.booking("o_booker", mobile(77), on="2024-01-01")
        wh.booking("o_booker", mobile(77), on="2024-01-01")  # the same booking twice: identical links
    if month == 2:
        for n in range(25, 35):
            wh.sale(f"LSVAA0000000{n:05d}", "2025-01-05", id_number(n), mobile(n))
        wh.binding("o90", "u90", id_number(3), mobile(3), "2025-03-01")  # o90 merges into person 3
        wh.booking("o5", mobile(5), on="2025-06-01")
    if month == 3:
        wh.sale("LSVBB000000000001", "2025-05-05", id_number(31), mobile(77))  # mobile 77 now shared: split
        wh.follower("o7b", "u7")


def test_appended_links_equal_a_full_rewrite_month_after_month(tmp_path):
    # database files, as in production: the work tables live in an attached scratch database
    incremental = FixtureWarehouse(str(tmp_path / "incremental.duckdb"))
    rewritten = FixtureWarehouse(str(tmp_path / "rewritten.duckdb"))
    for month in (1, 2, 3):
        run_at = dt.datetime(2026, month, 1)
        for wh in (incremental, rewritten):
            months_of_data(wh, month)
        rewritten.con.execute("drop table if exists identity.oneid_links")  # written whole
        resolve(rewritten.con, PARAMS, run_at)
        resolve(incremental.con, PARAMS, run_at)
        assert links(incremental.con) == links(rewritten.con), month
        count, last_rowid = incremental.con.execute(
            "select count(*), max(rowid) from identity.oneid_links"
        ).fetchall()[0]
        if month > 1:  # rows deleted and appended, not the table rewritten
            assert last_rowid > count - 1, month
    # identical link rows (the data has some) are kept as often as a rewrite keeps them
    duplicates = incremental.con.execute(
        "select count(*) from (select * from identity.oneid_links group by all having count(*) > 1)"
    ).fetchall()[0][0]
    assert (
        duplicates
        == rewritten.con.execute(
            "select count(*) from (select * from identity.oneid_links group by all having count(*) > 1)"
        ).fetchall()[0][0]
    )
    # a rerun on the same data deletes and appends nothing
    before = incremental.con.execute("select rowid, * from identity.oneid_links order by all").fetchall()
    resolve(incremental.con, PARAMS, dt.datetime(2026, 4, 1))
    assert (
        incremental.con.execute("select rowid, * from identity.oneid_links order by all").fetchall() == before
    )
    incremental.con.close()
    rewritten.con.close()


def test_identical_rows_come_and_go_one_copy_at_a_time(tmp_path):
    """A sale exported twice gives two identical link rows: the difference counts copies per row
    fingerprint, so one copy more (1 -> 2) appends one and one copy fewer (2 -> 1) deletes one."""
    incremental = FixtureWarehouse(str(tmp_path / "incremental.duckdb"))
    rewritten = FixtureWarehouse(str(tmp_path / "rewritten.duckdb"))

    def sale_copies(con) -> int:
        return con.execute(
            "select count(*) from identity.oneid_links where record_key = 'LSVDD000000000001|2024-03-01'"
        ).fetchall()[0][0]

    for month, copies in ((1, 1), (2, 2), (3, 1), (4, 0)):
        for wh in (incremental, rewritten):
            if month == 1:
                wh.sale("LSVDD000000000001", "2024-03-01", id_number(40), mobile(40))
                wh.sale("LSVDD000000000002", "2024-03-01", id_number(41), mobile(41))
            if month == 2:  # the DMS exports the same sale again
                wh.sale("LSVDD000000000001", "2024-03-01", id_number(40), mobile(40))
            if month in (3, 4):  # one copy at a time is corrected away
                wh.con.execute(
                    "delete from landing.vehicle_sales where rowid = (select max(rowid) from "
                    "landing.vehicle_sales where vin = 'LSVDD000000000001')"
                )
        rewritten.con.execute("drop table if exists identity.oneid_links")
        run_at = dt.datetime(2026, month, 1)
        resolve(rewritten.con, PARAMS, run_at)
        resolve(incremental.con, PARAMS, run_at)
        assert sale_copies(incremental.con) == copies, month
        assert links(incremental.con) == links(rewritten.con), month
    incremental.con.close()
    rewritten.con.close()
