"""Staging reads a landing table as it was known at the cut-off (macro ``landing_as_of``).

Real export files go through the real ingestion into one warehouse (every file, as after a run for
a later month), and the staging views are built by a real ``dbt run`` at two cut-offs: September's,
which later files changed, and October's, the newest. At each cut-off they must hold exactly what
a warehouse that ingested only the files a run for that month takes (``ingest_inbox(as_of=...)``)
holds: the run for an older month sees the world its first run saw. September's versions are also
written out by hand.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from assets.ingestion.ingest import ingest_inbox
from sources.exports.personal import PersonalData
from sources.pii import PiiVault
from tests.dbt.conftest import assert_built, dbt_build
from tests.ingestion.torture import VIN_OK

SEPTEMBER, OCTOBER = dt.date(2026, 9, 30), dt.date(2026, 10, 31)
MTIME = 1_790_000_000  # 2026-09-21 UTC: the undated file's date in the "later file wins" order

RO_HEADER = "ro_no,dealer_code,vin,opened_at,mileage_km\n"
CAMPAIGN_HEADER = "campaign_code,scope,name,start_date,end_date\n"
# file name -> rows; the day in a name is the export date ingestion orders files by
FILES = {
    "csc/repair_orders_2026-08-31.csv": RO_HEADER
    + f"RO1,D001,{VIN_OK},2026-08-03,100\nRO2,D001,{VIN_OK},2026-08-04,200\n",
    # RO1 re-sent with a corrected odometer; RO3 new
    "csc/repair_orders_2026-09-30.csv": RO_HEADER
    + f"RO1,D001,{VIN_OK},2026-08-03,110\nRO3,D001,{VIN_OK},2026-09-05,300\n",
    # the same export date, written later (modification time): it wins over the file above
    "csc/repair_orders_2026-09-30_b.csv": RO_HEADER + f"RO3,D001,{VIN_OK},2026-09-05,310\n",
    # after September's cut-off: RO1 and RO2 corrected again, RO4 new (opened before the cut-off:
    # it still was not known then)
    "csc/repair_orders_2026-10-31.csv": RO_HEADER
    + f"RO1,D001,{VIN_OK},2026-08-03,120\n"
    + f"RO2,D001,{VIN_OK},2026-08-04,220\n"
    + f"RO4,D001,{VIN_OK},2026-09-28,400\n",
    # undated: always taken
    "csc/repair_orders.csv": RO_HEADER + f"RO5,D001,{VIN_OK},2026-07-01,500\n",
    "csc/campaigns_2026-08-31.csv": CAMPAIGN_HEADER + "C1,全国,First,2026-09-01,2026-12-31\n",
    # C1's end moved, C2 announced: both after September's cut-off
    "csc/campaigns_2026-10-31.csv": CAMPAIGN_HEADER
    + "C1,全国,First,2026-09-01,2027-03-31\nC2,全国,Second,2026-11-01,2026-11-30\n",
    "master/dealers.csv": "dealer_code,name\nD001,One\n",
}
READ = {
    "staging.stg_csc__repair_orders": "select ro_no, mileage_km from {} order by ro_no",
    "staging.stg_csc__campaigns": "select campaign_code, end_date from {} order by campaign_code",
}
LANDED = {
    "staging.stg_csc__repair_orders": "landing.repair_orders",
    "staging.stg_csc__campaigns": "landing.campaigns",
}


def write_inbox(inbox: Path) -> None:
    for n, (name, text) in enumerate(FILES.items()):
        path = inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, (MTIME + n * 60, MTIME + n * 60))  # in the order above


def ingest(warehouse: Path, inbox: Path, as_of: dt.date | None) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        result = ingest_inbox(con, inbox, PersonalData(PiiVault(b"as-of-test-key")), as_of=as_of)
        assert {o.action for o in result.outcomes} <= {"ingested", "deferred"}, result.outcomes
    finally:
        con.close()


def rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    work = tmp_path_factory.mktemp("landing_as_of")
    write_inbox(work / "inbox")
    ingest(work / "all.duckdb", work / "inbox", None)  # every file: the run for November has been
    return work


@pytest.mark.parametrize("cutoff", [SEPTEMBER, OCTOBER])
def test_staging_holds_what_a_run_at_the_cutoff_landed(landed, cutoff):
    then = landed / f"then_{cutoff}.duckdb"
    ingest(then, landed / "inbox", cutoff)
    assert_built(
        # the enumerations seed too: staging reads its code lists (macro enum_codes)
        dbt_build(landed / "all.duckdb", cutoff.isoformat(), landed / f"dbt_{cutoff}", "--select",
                  "enumerations", *[relation.split(".")[1] for relation in READ], "--resource-type",
                  "seed", "--resource-type", "model")
    )  # fmt: skip
    for staged, sql in READ.items():
        assert rows(landed / "all.duckdb", sql.format(staged)) == rows(then, sql.format(LANDED[staged])), (
            staged
        )
    if cutoff == SEPTEMBER:
        assert rows(
            landed / "all.duckdb",
            READ["staging.stg_csc__repair_orders"].format("staging.stg_csc__repair_orders"),
        ) == [
            ("RO1", 110),  # September's correction, not October's
            ("RO2", 200),  # its October version falls back to August's
            ("RO3", 310),  # the later of two files of one date
            ("RO5", 500),  # undated
        ]  # RO4 only arrived in October's file
        assert rows(
            landed / "all.duckdb", READ["staging.stg_csc__campaigns"].format("staging.stg_csc__campaigns")
        ) == [("C1", dt.date(2026, 12, 31))]  # C2 announced later, C1's later end date not known yet
