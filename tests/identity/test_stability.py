"""Stable OneIDs across runs: reruns, later data, merges and splits (RULES.md rule 5)."""

import datetime as dt

import pytest

from assets.identity.resolve import OneidParams, resolve
from tests.identity.fixtures import FixtureWarehouse, id_number, mobile

PARAMS = OneidParams()
RUN1, RUN2, RUN3 = dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1), dt.datetime(2026, 3, 1)


@pytest.fixture
def wh():
    warehouse = FixtureWarehouse()
    yield warehouse
    warehouse.con.close()


def snapshot(wh) -> list[tuple]:
    return wh.con.execute("select * from identity.oneid_map order by all").fetchall()


def populate(wh, people: range):
    for n in people:
        wh.sale(f"LSVAA0000000{n:05d}", "2023-01-05", id_number(n), mobile(n))
        wh.binding(f"o{n}", f"u{n}", id_number(n), mobile(n), "2023-02-01")
        wh.follower(f"o{n}", f"u{n}")


def test_rerun_on_the_same_data_changes_nothing(wh):
    populate(wh, range(1, 30))
    wh.follower("lonely", None)
    resolve(wh.con, PARAMS, RUN1)
    before = snapshot(wh)
    registry = wh.con.execute("select * from identity.oneid_registry order by all").fetchall()
    summary = resolve(wh.con, PARAMS, RUN2)
    assert summary.changes == {"merged": 0, "split": 0, "minted": 0}
    assert snapshot(wh) == before
    assert wh.con.execute("select * from identity.oneid_registry order by all").fetchall() == registry
    assert wh.changes() == []


def test_later_data_leaves_every_untouched_person_alone(wh):
    populate(wh, range(1, 20))
    resolve(wh.con, PARAMS, RUN1)
    before = {row[:3] for row in snapshot(wh)}  # type, key, oneid
    populate(wh, range(20, 40))  # new owners
    wh.booking("o5", mobile(5), on="2025-06-01")  # more history for an existing one
    wh.follower("o7b", "u7")  # a new openid of an existing person
    summary = resolve(wh.con, PARAMS, RUN2)
    after = {row[:3] for row in snapshot(wh)}
    assert before <= after  # every old identifier keeps its OneID
    assert summary.changes["merged"] == summary.changes["split"] == 0
    assert summary.changes["minted"] == 20
    assert wh.oneid_of("oa_openid", "o7b") == wh.oneid_of("id_number", id_number(7))
    new_ids = {row[2] for row in after - before}
    assert len(new_ids) == 21  # 20 new people plus o7b adopting person 7's OneID
    assert wh.oneid_of("oa_openid", "o7b") in new_ids and wh.oneid_of("oa_openid", "o7b") not in {
        wh.oneid_of("id_number", id_number(n)) for n in range(20, 40)
    }


def test_a_merge_keeps_the_older_oneid(wh):
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.follower("o9", "u9", on="2024-01-01")  # first seen later: gets the younger OneID
    resolve(wh.con, PARAMS, RUN1)
    older, younger = wh.oneid_of("id_number", id_number(1)), wh.oneid_of("oa_openid", "o9")
    assert older < younger
    wh.binding("o9", "u9", id_number(1), mobile(1), "2025-03-01")  # the follower binds the car
    summary = resolve(wh.con, PARAMS, RUN2)
    assert wh.oneid_of("oa_openid", "o9") == wh.oneid_of("id_number", id_number(1)) == older
    assert summary.changes == {"merged": 1, "split": 0, "minted": 0}
    assert wh.changes() == [("merge", younger, older)]
    # the summary's count (one OneID per component) is the published map's
    (in_map,) = wh.con.execute("select count(distinct oneid) from identity.oneid_map").fetchone()
    assert summary.oneids == in_map == 1
    run_at = wh.con.execute("select distinct run_at from identity.oneid_changes").fetchall()
    assert run_at == [(RUN2,)]
    # and the merged state is itself stable
    assert resolve(wh.con, PARAMS, RUN3).changes == {"merged": 0, "split": 0, "minted": 0}


def test_a_split_keeps_the_oneid_on_the_part_with_most_history(wh):
    shared = mobile(50)
    # person 1: three sales and a follower; the mobile also ties in a booking openid
    for n in range(3):
        wh.sale(f"LSVAA00000000000{n}", f"202{n}-01-05", id_number(1), shared)
    wh.booking("o_booker", shared, on="2024-01-01")
    resolve(wh.con, PARAMS, RUN1)
    original = wh.oneid_of("id_number", id_number(1))
    assert wh.oneid_of("oa_openid", "o_booker") == original
    # a second owner turns up with the same mobile: it is shared now, the cluster falls apart
    wh.sale("LSVBB000000000001", "2025-05-05", id_number(2), shared)
    summary = resolve(wh.con, PARAMS, RUN2)
    assert wh.oneid_of("id_number", id_number(1)) == original  # three sales: the most history
    booker = wh.oneid_of("oa_openid", "o_booker")
    assert booker != original
    assert wh.oneid_of("mobile", shared) is None
    assert ("split", original, booker) in wh.changes()
    assert summary.changes["split"] == 1


def test_split_history_is_counted_in_records_not_identifiers(wh):
    shared = mobile(60)
    wh.binding("o1", "u1", None, shared, "2023-01-01")  # openid + unionid, one record
    for n in range(4):
        wh.booking("o2", shared, on=f"2024-0{n + 1}-01")  # one openid, four records
    resolve(wh.con, PARAMS, RUN1)
    original = wh.oneid_of("oa_openid", "o1")
    assert wh.oneid_of("oa_openid", "o2") == original
    wh.sale("LSVAA000000000001", "2025-01-01", id_number(1), shared)
    wh.sale("LSVAA000000000002", "2025-01-01", id_number(2), shared)
    resolve(wh.con, PARAMS, RUN2)
    assert wh.oneid_of("oa_openid", "o2") == original
    assert wh.oneid_of("oa_openid", "o1") != original


def test_oneids_are_never_reissued_after_a_merge(wh):
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.follower("o9", "u9", on="2024-01-01")
    resolve(wh.con, PARAMS, RUN1)
    retired = wh.oneid_of("oa_openid", "o9")
    wh.binding("o9", "u9", id_number(1), None, "2025-03-01")
    resolve(wh.con, PARAMS, RUN2)
    wh.follower("o_new", "u_new", on="2025-04-01")
    resolve(wh.con, PARAMS, RUN3)
    assert wh.oneid_of("oa_openid", "o_new") > retired


def test_an_identifier_that_disappears_leaves_its_oneid_to_the_rest(wh):
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    resolve(wh.con, PARAMS, RUN1)
    oneid = wh.oneid_of("id_number", id_number(1))
    wh.staff(mobile(1))  # the number turns out to be a dealer staff member's
    summary = resolve(wh.con, PARAMS, RUN2)
    assert wh.oneid_of("id_number", id_number(1)) == oneid
    assert wh.oneid_of("mobile", mobile(1)) is None
    assert summary.changes == {"merged": 0, "split": 0, "minted": 0}
    inactive = wh.con.execute(
        "select oneid, active from identity.oneid_registry where identifier_type = 'mobile'"
    ).fetchall()
    assert inactive == [(oneid, False)]
