"""The identity input built straight from the generator's frames is what the full chain lands.

Same world (seed, size, window): the direct builder's landing tables hold the same records with the
same HMACs as ingestion of the rendered files gives, apart from what ingestion rejects (bad rows,
ID numbers with a wrong check character) — so a bench on the direct input measures OneID on the
sample OEM's identities, not on a look-alike.
"""

import duckdb
import pytest

from assets.ingestion.ingest import ingest_inbox
from sources.exports.personal import PersonalData
from sources.pii import PiiVault
from sources.sample_oem import generate
from sources.sample_oem.identity_input import build

pytestmark = pytest.mark.slow

KEY = b"identity-input-key"
WORLD = {"vehicles": 1500, "seed": 7, "end": "2026-10", "months": 13}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    chain = tmp_path_factory.mktemp("chain")
    generate(chain, **WORLD)
    real = duckdb.connect(str(chain / "warehouse.duckdb"))
    ingest_inbox(real, chain / "inbox", PersonalData(PiiVault(KEY)))
    direct_dir = tmp_path_factory.mktemp("direct")
    build(direct_dir / "warehouse.duckdb", direct_dir, WORLD["vehicles"], KEY, WORLD["seed"], WORLD["end"],
          WORLD["months"], log=lambda *_: None)  # fmt: skip
    real.execute(f"attach '{direct_dir / 'warehouse.duckdb'}' as direct (read_only)")
    yield real
    real.close()


CASES = {
    "vehicle_sales": (
        "vin, invoice_date, case when owner_id_number_status = 'valid' then owner_id_number_hmac end, "
        "owner_mobile_hmac, owner_mobile_status"
    ),
    "wechat_bindings": (
        "binding_id, openid, unionid, case when id_number_status = 'valid' then id_number_hmac end, "
        "mobile_hmac, status"
    ),
    "bookings": "booking_id, openid, mobile_hmac, mobile_status",
    "campaign_participants": "participant_id, openid, mobile_hmac",
    "complaints": "complaint_no, mobile_hmac",
    "staff": "staff_id, mobile_hmac",
}


@pytest.mark.parametrize("table", CASES)
def test_direct_records_are_the_landed_records(both, table):
    cols = CASES[table]
    landed, direct, common = both.execute(
        f"""
        with r as (select distinct {cols} from landing.{table}),
             d as (select distinct {cols} from direct.landing.{table})
        select (select count(*) from r), (select count(*) from d),
               (select count(*) from (select * from r intersect select * from d))
        """
    ).fetchone()
    assert landed > 0 and direct > 0
    # ingestion quarantines ~0.3 % bad rows and a few ID numbers fail their checksum; nothing else differs
    assert common >= 0.98 * landed, (table, landed, direct, common)
    assert common >= 0.97 * direct, (table, landed, direct, common)


def test_direct_followers_and_contacts_are_the_generated_state(both, tmp_path):
    followers = both.execute("select count(*), count(unionid) from direct.wechat.oa_followers").fetchone()
    assert followers[0] > 0 and followers[1] / followers[0] > 0.9
    remarks = both.execute(
        "select count(*), count(*) filter (where len(remark_mobile_hmacs) > 0) from "
        "direct.wechat.wecom_external_contacts"
    ).fetchone()
    assert remarks[1] / remarks[0] > 0.8  # the service SOP: most relations carry a mobile
    # every remark mobile is an HMAC some landed record also carries or a person's own number
    unknown = both.execute(
        """
        select count(*) from (select unnest(remark_mobile_hmacs) as h
            from direct.wechat.wecom_external_contacts)
        where h not in (select owner_mobile_hmac from landing.vehicle_sales
            where owner_mobile_hmac is not null
                        union select mobile_hmac from landing.bookings where mobile_hmac is not null
                        union select mobile_hmac from landing.staff where mobile_hmac is not null
                        union select mobile_hmac from landing.wechat_bindings where mobile_hmac is not null
                        union select sender_mobile_hmac from landing.repair_orders
                        where sender_mobile_hmac is not null)
        """
    ).fetchone()[0]
    assert unknown < 0.05 * remarks[0]


def test_sharded_parts_are_disjoint_populations(tmp_path):
    from sources.sample_oem.identity_input import build_sharded

    rows = build_sharded(tmp_path / "warehouse.duckdb", tmp_path, 2_000, KEY, shards=2, end="2026-10",
                         months=6, log=lambda *_: None)  # fmt: skip
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        # record keys carry the part: no two parts' records share a key (Splink groups by it)
        for table, key in (("vehicle_sales", "vin, invoice_date"), ("wechat_bindings", "binding_id"),
                           ("bookings", "booking_id"), ("staff", "staff_id")):  # fmt: skip
            n, distinct = con.execute(
                f"select count(*), count(distinct ({key})) from landing.{table}"
            ).fetchall()[0]
            assert n == distinct == rows[f"landing.{table}"], table
        assert "literal" not in {c for (c, *_) in con.execute("describe landing.bookings").fetchall()}
    finally:
        con.close()
    truth = duckdb.sql(
        f"select count(distinct person_id) from '{tmp_path}/truth/identifiers.parquet'"
    ).fetchall()[0][0]
    assert truth > 2_000
