"""The current tables kept file by file equal a full recomputation over every version.

``store.add_file`` / ``replace_file`` update ``landing.<table>`` and ``landing_history.<table>`` per
file instead of recomputing every key from all rows; this replays random drops of overlapping
files (dated, same date with different modification times, undated, within-file repeats,
corrections, older files arriving late) and checks after every run that the current table is
exactly what the history says.
"""

import os
import random

import duckdb
import pytest

from assets.ingestion.ingest import ingest_inbox
from sources.exports.personal import PersonalData
from sources.pii import PiiVault
from tests.ingestion.test_ingest import every_row
from tests.ingestion.torture import VIN_OK

HEADER = "ro_no,dealer_code,vin,opened_at,mileage_km\n"
BASE_MTIME = 1_790_000_000  # 2026-09-21 UTC

EXPECTED_CURRENT = f"""
    select ro_no, mileage_km, _source_file, _source_row from ({every_row("repair_orders")}) h
    qualify row_number() over (
        partition by ro_no
        order by coalesce(_file_date, date '1970-01-01' + floor(_file_modified_at / 86400)::integer) desc,
                 _file_modified_at desc, _source_file desc, _source_row desc
    ) = 1
"""


def _write(path, rows: list[tuple[str, int]], mtime: float) -> None:
    path.write_text(HEADER + "".join(f"{ro},D001,{VIN_OK},2026-09-03,{km}\n" for ro, km in rows))
    os.utime(path, (mtime, mtime))


@pytest.mark.parametrize("seed", range(10))
def test_current_table_equals_the_latest_history_row_per_key_after_every_run(tmp_path, seed, monkeypatch):
    if seed % 2:  # several transactions per table (committed after every ~10 rows)
        monkeypatch.setattr("assets.ingestion.ingest.TRANSACTION_ROWS", 10)
    rng = random.Random(seed)
    inbox = tmp_path / "inbox" / "csc"
    inbox.mkdir(parents=True)
    (tmp_path / "inbox" / "master").mkdir()
    (tmp_path / "inbox" / "master" / "dealers.csv").write_text("dealer_code,name\nD001,One\n")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    personal = PersonalData(PiiVault(b"k"))
    names = [f"repair_orders_2026-09-{d:02d}.csv" for d in (5, 10, 10, 20)]
    names = [n if i != 2 else n.replace(".csv", "_b.csv") for i, n in enumerate(names)]
    names += ["repair_orders.csv", "repair_orders_dealerX.csv"]  # undated: ordered by modification date
    keys = [f"RO{i:03d}" for i in range(40)]
    mileage = iter(range(1, 10_000))
    for run in range(5):
        for name in rng.sample(names, rng.randint(1, 3)):  # new files, corrections, older files late
            rows = [(rng.choice(keys), next(mileage)) for _ in range(rng.randint(0, 25))]
            _write(inbox / name, rows, BASE_MTIME + rng.choice([0, 3600, 86_400 * 3]) + run)
        result = ingest_inbox(con, tmp_path / "inbox", personal)
        assert {o.action for o in result.outcomes} <= {"ingested", "skipped"}, result.outcomes
        current = sorted(
            con.execute(
                "select ro_no, mileage_km, _source_file, _source_row from landing.repair_orders"
            ).fetchall()
        )
        assert current == sorted(con.execute(EXPECTED_CURRENT).fetchall()), (seed, run)
        # each row is kept once: the history holds no current row
        assert con.execute(
            "select count(*) from landing_history.repair_orders h join landing.repair_orders c "
            "using (_source_file, _source_row)"
        ).fetchone() == (0,)
    assert con.execute("select count(distinct _source_file) from landing.repair_orders").fetchone()[0] > 1
    con.close()


def test_a_warehouse_that_kept_every_row_in_the_history_is_migrated(tmp_path):
    """Before ``landing_history._files`` the history held every row: ingestion lists the files from
    it, keeps each row once, and goes on merging correctly (an older file still loses)."""
    from assets.ingestion import store
    from sources.exports.tables import TABLES_BY_NAME

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    store.ensure_landing(con)
    con.execute("drop table landing_history._files")  # the old layout
    table = TABLES_BY_NAME["repair_orders"]
    columns = ", ".join(name for name, _ in store.output_columns(table))
    old_rows = [
        ("RO1", "csc/repair_orders_2026-09-20.csv", 2, 500),
        ("RO1", "csc/repair_orders_2026-09-10.csv", 2, 100),
    ]
    for ro, path, row, km in old_rows:
        con.execute(
            f"insert into landing_history.repair_orders ({columns}, _file_modified_at) "
            "select * from (select ?, null, null, null, null, null, ?, null, null, null, null, null, null, "
            "null, null, "
            f"null, null, null, null, null, null, null, null, ?, ?, ?::date, null, null, ?::double)",
            [ro, km, path, row, path[-14:-4], BASE_MTIME],
        )
    con.execute(
        f"insert into landing.repair_orders select {columns} from landing_history.repair_orders "
        "where _source_file like '%09-20%'"
    )
    store.ensure_landing(con)
    assert store.ingested_files(con, table).keys() == {p for _, p, _, _ in old_rows}
    assert con.execute("select _source_file from landing_history.repair_orders").fetchall() == [
        ("csc/repair_orders_2026-09-10.csv",)
    ]
    inbox = tmp_path / "inbox"
    (inbox / "csc").mkdir(parents=True)
    _write(inbox / "csc" / "repair_orders_2026-09-15.csv", [("RO1", 300)], BASE_MTIME)
    ingest_inbox(con, inbox, PersonalData(PiiVault(b"k")))
    assert con.execute("select mileage_km from landing.repair_orders").fetchall() == [(500,)]
    con.close()
