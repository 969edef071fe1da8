"""OneID rules on hand-built warehouses: the traps of RULES.md, one by one."""

import numpy as np
import pytest

from assets.identity.graph import GuardedGraph
from assets.identity.resolve import OneidParams, resolve
from assets.identity.sightings import RULES
from tests.identity.fixtures import FixtureWarehouse, hmac, id_number, mobile

PARAMS = OneidParams(placeholder_mobile_hmacs=(hmac("13800138000"),))


@pytest.fixture
def wh():
    warehouse = FixtureWarehouse()
    yield warehouse
    warehouse.con.close()


def dropped(wh, reason):
    return wh.con.execute(
        "select left_type, right_type, rule, detail from identity.dropped_links where reason = ?", [reason]
    ).fetchall()


def excluded_reason(wh, mobile_value):
    rows = wh.con.execute(
        "select reason from identity.excluded_identifiers where identifier_type = 'mobile' and "
        "identifier_key = ?",
        [hmac(mobile_value)],
    ).fetchall()
    return rows[0][0] if rows else None


# ---------------------------------------------------------------------------- the graph itself


def test_guarded_graph_merges_a_tier_at_once_and_drops_only_the_id_joining_link():
    # nodes 0, 1 are ID numbers; 2, 3, 4 are other identifiers
    graph = GuardedGraph(5, [np.array([True, True, False, False, False])])
    first = graph.add_tier(np.array([0, 1]), np.array([2, 3]), np.array([1, 2]))
    assert first.accepted.all()
    assert graph.labels[0] == graph.labels[2] and graph.labels[1] == graph.labels[3]
    # 4 links to both sides; the earlier link (rank 3) wins, the later one (rank 4) is dropped
    second = graph.add_tier(np.array([4, 4]), np.array([2, 3]), np.array([4, 3]))
    assert second.accepted.tolist() == [False, True]
    assert second.dropped.tolist() == [0]
    assert {second.conflict_left[0], second.conflict_right[0]} == {0, 1}
    assert graph.labels[4] == graph.labels[3] != graph.labels[0]


def test_guarded_graph_keeps_unrelated_merges_of_the_same_tier():
    graph = GuardedGraph(6, [np.array([True, True, False, False, True, False])])
    result = graph.add_tier(np.array([0, 2, 4]), np.array([2, 1, 5]), np.array([1, 2, 3]))
    assert result.accepted.tolist() == [True, False, True]
    assert graph.labels[4] == graph.labels[5]
    assert len(set(graph.labels.tolist())) == 4  # {0,2}, {1}, {3}, {4,5}


def test_guarded_graph_applies_a_type_guard_only_on_the_tiers_asked():
    # node 0: ID number; nodes 1, 2: mobiles; node 3: an openid
    ids, mobiles = np.array([1, 0, 0, 0], bool), np.array([0, 1, 1, 0], bool)
    graph = GuardedGraph(4, [ids, mobiles])
    assert graph.add_tier(np.array([0, 0]), np.array([1, 2]), np.array([1, 2]), guard=[0]).accepted.all()
    graph = GuardedGraph(4, [ids, mobiles])
    graph.add_tier(np.array([0]), np.array([1]), np.array([1]), guard=[0])
    weak = graph.add_tier(np.array([3, 3]), np.array([1, 2]), np.array([1, 2]), guard=[0, 1])
    assert weak.accepted.tolist() == [True, False]
    assert weak.dropped.tolist() == [1] and weak.conflict_type.tolist() == [1]
    assert {weak.conflict_left[0], weak.conflict_right[0]} == {1, 2}


def test_guarded_graph_orders_competing_links_by_position_then_defers_the_flagged_ones():
    # nodes 0, 1: ID numbers; node 2 links to both in one tier: the first link in order wins ...
    ids = np.array([1, 1, 0], bool)
    graph = GuardedGraph(3, [ids])
    assert graph.add_tier(np.array([2, 2]), np.array([1, 0])).accepted.tolist() == [True, False]
    # ... unless it is deferred (e.g. it attaches to no one holding an ID number yet)
    graph = GuardedGraph(3, [ids])
    result = graph.add_tier(np.array([2, 2]), np.array([1, 0]), deferred=np.array([True, False]))
    assert result.accepted.tolist() == [False, True]
    assert graph.labels.dtype == np.int32


def test_guarded_graph_asks_a_rank_function_only_for_the_competing_links():
    # node 4 links to the ID numbers 0 and 1 (competing); the link 2—3 competes with nothing
    graph = GuardedGraph(5, [np.array([True, True, False, False, False])])
    asked = []

    def rank(competing: np.ndarray) -> np.ndarray:
        asked.append(competing.tolist())
        return np.array([{0: 9, 2: 1}[int(i)] for i in competing])  # the link at position 2 first

    result = graph.add_tier(np.array([4, 2, 4]), np.array([0, 3, 1]), rank=rank)
    assert asked == [[0, 2]]
    assert result.accepted.tolist() == [False, True, True]
    assert result.dropped.tolist() == [0]


# ---------------------------------------------------------------------------- rules on warehouses


def test_binding_links_wechat_ids_id_number_and_mobile_into_one_oneid(wh):
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.binding("o1", "u1", id_number(1), mobile(1), "2023-02-01")
    wh.follower("o1", "u1")
    wh.wecom_contact("wm1", "u1")
    resolve(wh.con, PARAMS)
    ids = {
        wh.oneid_of("id_number", id_number(1)),
        wh.oneid_of("mobile", mobile(1)),
        wh.oneid_of("oa_openid", "o1"),
        wh.oneid_of("unionid", "u1"),
        wh.oneid_of("wecom_external_userid", "wm1"),
    }
    assert len(ids) == 1
    (oneid,) = ids
    assert oneid.startswith("OID") and len(oneid) == 15 and oneid[3:].isdigit()


def test_shared_family_mobile_never_merges_two_owners(wh):
    family = mobile(7)
    wh.sale("LSVAA000000000001", "2022-01-05", id_number(1), family)
    wh.sale("LSVAA000000000002", "2023-06-05", id_number(2), family)
    resolve(wh.con, PARAMS)
    assert wh.oneid_of("id_number", id_number(1)) != wh.oneid_of("id_number", id_number(2))
    assert wh.oneid_of("mobile", family) is None
    assert excluded_reason(wh, family) == "shared_mobile"
    assert len(dropped(wh, "shared_mobile")) == 2


def test_a_mobile_may_serve_more_owners_when_the_setting_allows(wh):
    family = mobile(7)
    wh.sale("LSVAA000000000001", "2022-01-05", id_number(1), family)
    wh.sale("LSVAA000000000002", "2023-06-05", id_number(2), family)
    resolve(wh.con, OneidParams(max_ids_per_mobile=2))
    # the mobile is clean now, but rule 4 still keeps the two ID numbers apart
    assert wh.oneid_of("id_number", id_number(1)) != wh.oneid_of("id_number", id_number(2))
    assert wh.oneid_of("mobile", family) == wh.oneid_of("id_number", id_number(1))  # the first sale wins
    assert len(dropped(wh, "would_join_id_numbers")) == 1


def test_placeholder_mobiles_are_no_identity(wh):
    for n, placeholder in enumerate(["13800138000", "13888888888", "13912345678"], start=1):
        wh.sale(f"LSVAA00000000000{n}", "2023-01-05", id_number(n), placeholder)
        wh.booking(f"o{n}", placeholder)
    resolve(wh.con, PARAMS)
    assert len({wh.oneid_of("id_number", id_number(n)) for n in (1, 2, 3)}) == 3
    assert len({wh.oneid_of("oa_openid", f"o{n}") for n in (1, 2, 3)}) == 3
    assert wh.oneid_of("mobile", "13800138000") is None
    assert excluded_reason(wh, "13888888888") == "placeholder_mobile"
    assert {r[2] for r in dropped(wh, "placeholder_mobile")} == {"sale_owner_mobile", "booking_contact"}


def test_consultant_mobile_typed_as_owner_mobile_links_nobody(wh):
    consultant = mobile(99)
    wh.staff(consultant)
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), consultant)
    wh.booking("o2", consultant)
    wh.follower("o2", "u2")
    resolve(wh.con, PARAMS)
    assert wh.oneid_of("mobile", consultant) is None
    assert excluded_reason(wh, consultant) == "staff_mobile"
    assert wh.oneid_of("id_number", id_number(1)) != wh.oneid_of("oa_openid", "o2")


def test_two_id_numbers_joined_only_by_a_weak_mobile_are_kept_apart_and_reported(wh):
    wh.binding("o1", "u1", id_number(1), None, "2023-02-01")
    wh.sale("LSVAA000000000002", "2023-03-05", id_number(2), mobile(2))
    wh.booking("o1", mobile(2), on="2024-05-01")  # the weak link between the two
    summary = resolve(wh.con, PARAMS)
    a, b = wh.oneid_of("id_number", id_number(1)), wh.oneid_of("id_number", id_number(2))
    assert a != b
    assert wh.oneid_of("mobile", mobile(2)) == b  # the sale (owner mobile) came first
    rows = dropped(wh, "would_join_id_numbers")
    assert [(r[0], r[1], r[2]) for r in rows] == [("oa_openid", "mobile", "booking_contact")]
    assert hmac(id_number(1)) in rows[0][3] and hmac(id_number(2)) in rows[0][3]
    assert a in rows[0][3] and b in rows[0][3]
    assert summary.links_dropped == {"would_join_id_numbers": 1}


def test_weak_mobile_joins_an_unbound_follower_to_its_owner(wh):
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.follower("o1", "u1")
    wh.booking("o1", mobile(1))
    wh.complaint(mobile(1))
    resolve(wh.con, PARAMS)
    assert (
        wh.oneid_of("oa_openid", "o1")
        == wh.oneid_of("id_number", id_number(1))
        == wh.oneid_of("unionid", "u1")
    )


def test_id_numbers_normalized_upstream_meet_whatever_way_they_were_typed(wh):
    id15 = "110105491231002"  # 1989-era 15-digit number; upgraded per GB 11643 to 11010519491231002X
    wh.sale("LSVAA000000000001", "2020-01-05", id15, mobile(1))
    wh.binding("o1", "u1", "11010519491231002x", None, "2023-02-01")  # lower-case x
    wh.binding("o2", "u2", "１１０１０５１９４９１２３１００２Ｘ", None, "2023-03-01")  # full-width
    resolve(wh.con, PARAMS)
    oneid = wh.oneid_of("id_number", "11010519491231002X")
    assert oneid is not None
    assert (
        wh.oneid_of("oa_openid", "o1")
        == wh.oneid_of("oa_openid", "o2")
        == wh.oneid_of("mobile", mobile(1))
        == oneid
    )


def test_a_resold_car_never_merges_its_two_owners(wh):
    vin = "LSVAA000000000009"
    wh.sale(vin, "2019-04-01", id_number(1), mobile(1))
    wh.sale(vin, "2023-08-01", id_number(2), mobile(2))
    wh.repair_order(vin, mobile(1))
    wh.repair_order(vin, mobile(2))
    resolve(wh.con, PARAMS)
    assert wh.oneid_of("id_number", id_number(1)) != wh.oneid_of("id_number", id_number(2))
    assert (
        wh.con.execute("select count(*) from identity.oneid_links where source like '%repair%'").fetchall()[
            0
        ][0]
        == 0
    )


def test_repair_order_sender_mobile_is_never_an_identity(wh):
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.repair_order("LSVAA000000000001", mobile(55))
    resolve(wh.con, PARAMS)
    assert wh.oneid_of("mobile", mobile(55)) is None


def test_a_weak_link_never_adds_a_second_mobile_to_a_person(wh):
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.wecom_contact("wm1", "u1", remark_mobiles=[mobile(1)])
    wh.wecom_contact("wm1b", "u1", remark_mobiles=[mobile(2)])  # the spouse's number in a remark
    wh.booking("o3", mobile(2))
    resolve(wh.con, PARAMS)
    person = wh.oneid_of("id_number", id_number(1))
    assert (
        wh.oneid_of("wecom_external_userid", "wm1") == wh.oneid_of("wecom_external_userid", "wm1b") == person
    )
    assert wh.oneid_of("mobile", mobile(2)) == wh.oneid_of("oa_openid", "o3") != person
    rows = dropped(wh, "weak_link_second_mobile")
    assert [(r[0], r[2]) for r in rows] == [("wecom_external_userid", "wecom_remark_mobile")]
    assert "would join mobile" in rows[0][3]


def test_wecom_remark_mobile_is_a_weak_link(wh):
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.wecom_contact("wm1", None, remark_mobiles=[mobile(1)])
    wh.wecom_contact("wm2", None, remark_mobiles=["13800138000"])
    resolve(wh.con, PARAMS)
    assert wh.oneid_of("wecom_external_userid", "wm1") == wh.oneid_of("id_number", id_number(1))
    assert wh.oneid_of("wecom_external_userid", "wm2") is not None
    assert wh.oneid_of("mobile", "13800138000") is None


def test_every_kept_link_names_its_record_and_a_known_rule(wh):
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.binding("o1", "u1", id_number(1), mobile(1), "2023-02-01")
    wh.follower("o1", "u1")
    wh.booking("o1", mobile(1))
    resolve(wh.con, PARAMS)
    rows = wh.con.execute("select source, record_key, rule, oneid from identity.oneid_links").fetchall()
    assert len(rows) == 7  # sale 1, binding 4 (openid hub + id—mobile), follower 1, booking 1
    assert all(source and record_key and rule in RULES and oneid for source, record_key, rule, oneid in rows)
    assert {r[0] for r in rows} == {
        "landing.vehicle_sales",
        "landing.wechat_bindings",
        "wechat.oa_followers",
        "landing.bookings",
    }


def test_every_identifier_a_candidate_names_is_sighted_by_the_same_record(wh):
    """resolve relies on it: an identifier of a link that is not an excluded mobile is a node."""
    from assets.identity import sightings

    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.binding("o1", "u1", id_number(1), mobile(1), "2023-02-01")
    wh.follower("o1", "u1")
    wh.wecom_contact("wm1", "u1", remark_mobiles=[mobile(1), mobile(2)])
    wh.booking("o2", mobile(3))
    log = sightings.collect(wh.con)
    candidates = wh.con.execute("select count(*), count(distinct rule) from id_candidates").fetchall()[0]
    assert candidates[0] >= 9 and candidates[1] >= 7, (candidates, log.missing)
    unsighted = wh.con.execute(
        """
        select c.source, c.rule, side.identifier_type from id_candidates c,
            lateral (select c.left_type as identifier_type, c.left_key as identifier_key
                     union all select c.right_type, c.right_key) side
        anti join id_sightings s
          on s.source = c.source and s.record_key = c.record_key
         and s.identifier_type = side.identifier_type and s.identifier_key = side.identifier_key
        """
    ).fetchall()
    assert unsighted == []
    # resolve joins the graph's pairs one declared direction at a time: an undeclared one would be
    # left out of identity, so every (left type, right type) the candidates hold is declared
    directions = wh.con.execute("select distinct left_type, right_type from id_candidates").fetchall()
    assert set(directions) == set(log.link_types) and len(directions) >= 6
    assert log.left_types == ["oa_openid", "wecom_external_userid", "id_number"]


def test_missing_tables_contribute_nothing_and_are_named():
    wh = FixtureWarehouse(tables=("landing.vehicle_sales",))
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    summary = resolve(wh.con, PARAMS)
    assert summary.sources_read == ["landing.vehicle_sales"]
    assert any("wechat.oa_followers: table not found" in m for m in summary.sources_missing)
    assert any("landing.staff" in m for m in summary.sources_missing)
    assert wh.oneid_of("mobile", mobile(1)) == wh.oneid_of("id_number", id_number(1)) is not None


def test_an_empty_warehouse_gives_empty_identity_tables():
    wh = FixtureWarehouse(tables=())
    summary = resolve(wh.con, PARAMS)
    assert summary.oneids == 0
    assert wh.con.execute("select count(*) from identity.oneid_map").fetchall()[0][0] == 0


def test_suspicious_clusters_list_owners_of_many_vehicles(wh):
    for n in range(10):
        wh.sale(f"LSVFLEET0000000{n:02d}", "2023-01-05", id_number(1), mobile(1))
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(2), mobile(2))
    resolve(wh.con, PARAMS)
    rows = wh.con.execute("select oneid, n_vehicles, reasons from identity.suspicious_clusters").fetchall()
    assert rows == [(wh.oneid_of("id_number", id_number(1)), 10, "vehicles 10 > 8")]


def test_no_plaintext_mobile_or_id_number_in_identity_tables(wh):
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.binding("o1", "u1", id_number(1), mobile(1), "2023-02-01")
    wh.sale("LSVAA000000000002", "2023-01-05", id_number(2), "13800138000")
    resolve(wh.con, PARAMS)
    for table in ("oneid_map", "oneid_links", "dropped_links", "excluded_identifiers", "oneid_registry"):
        text = str(wh.con.execute(f"select * from identity.{table}").fetchall())
        for plain in (id_number(1), id_number(2), mobile(1), "13800138000"):
            assert plain not in text, (table, plain)


def test_node_keys_that_collide_are_drawn_again_with_another_salt(wh, monkeypatch):
    from assets.identity import sightings

    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.sale("LSVAA000000000002", "2023-03-05", id_number(2), mobile(2))
    wh.binding("o1", "u1", id_number(1), mobile(1), "2023-02-01")
    real = sightings.node_key_sql
    salts = []

    def one_bit_on_the_first_salt(type_sql, key_sql, salt):
        salts.append(salt)
        key = real(type_sql, key_sql, salt)
        return f"({key} % 2)" if salt == 0 else key  # salt 0: eight identifiers on two keys

    monkeypatch.setattr(sightings, "node_key_sql", one_bit_on_the_first_salt)
    resolve(wh.con, PARAMS)
    assert 0 in salts and 1 in salts
    assert (
        wh.oneid_of("id_number", id_number(1))
        == wh.oneid_of("oa_openid", "o1")
        == wh.oneid_of("mobile", mobile(1))
    )
    assert wh.oneid_of("id_number", id_number(2)) == wh.oneid_of("mobile", mobile(2))
    assert wh.oneid_of("id_number", id_number(1)) != wh.oneid_of("id_number", id_number(2))
    assert wh.con.execute("select count(*) from identity.oneid_map").fetchall()[0][0] == 6


def test_an_identifier_type_outside_the_list_is_refused_where_the_views_are_defined():
    """resolve groups and joins one listed type at a time: an unlisted type would be left out."""
    from assets.identity import sightings

    sightings._known("mobile")
    with pytest.raises(ValueError, match="'vin' is not one of"):
        sightings._known("vin")
