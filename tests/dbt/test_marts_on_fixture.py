"""The marts on the hand-made story of fixture_warehouse.py, after a real ``dbt build``."""

from assets.publish.gate import TABLE_KEYS
from tests.dbt.conftest import query
from tests.dbt.fixture_warehouse import ALICE, BOB, CAROL, DAN, EVE, VIN_A, VIN_B, VIN_D, VIN_E
from tests.dbt.marts_contract import PUBLISHED_MARTS, assert_marts_have_their_contract_columns


def customer(warehouse, oneid: str) -> dict:
    con_rows = query(warehouse, f"select * from marts.customer_360 where oneid = '{oneid}'")
    columns = [
        c
        for (c,) in query(
            warehouse,
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'customer_360' "
            "order by ordinal_position",
        )
    ]
    assert len(con_rows) == 1, oneid
    return dict(zip(columns, con_rows[0], strict=True))


def test_every_mart_of_the_product_contract_is_built_with_its_columns(fixture_warehouse):
    assert_marts_have_their_contract_columns(fixture_warehouse, schema="marts")
    for table in PUBLISHED_MARTS:
        key = ", ".join(TABLE_KEYS[table])
        dupes = query(fixture_warehouse, f"select {key} from marts.{table} group by all having count(*) > 1")
        assert dupes == [], table


def test_customer_360_has_one_row_per_live_oneid(fixture_warehouse):
    oneids = [o for (o,) in query(fixture_warehouse, "select oneid from marts.customer_360 order by oneid")]
    assert oneids == [ALICE, BOB, CAROL, DAN, EVE]


def test_a_resold_car_belongs_to_its_latest_buyer_and_its_old_visits_to_the_seller(fixture_warehouse):
    assert query(
        fixture_warehouse,
        f"select current_owner_oneid, resale_count, first_invoice_date::varchar, selling_dealer_code, "
        f"original_selling_dealer_code from marts.vehicles where vin = '{VIN_B}'",
    ) == [(CAROL, 1, "2021-05-10", "D003", "D002")]
    bob, carol = customer(fixture_warehouse, BOB), customer(fixture_warehouse, CAROL)
    assert (bob["vehicles_owned_now"], bob["vehicles_owned_before"]) == (0, 1)
    assert (carol["vehicles_owned_now"], carol["vehicles_owned_before"]) == (1, 0)
    # RO-B1 and RO-B2 were Bob's (700 + 2000), RO-B3 after the resale is Carol's
    assert bob["lifetime_value"] == 2700 and carol["lifetime_value"] == 900
    assert bob["lapse_status"] == "lapsed" and carol["lapse_status"] == "at_risk"


def test_servicing_dealer_follows_the_last_visit_else_the_selling_dealer(fixture_warehouse):
    rows = dict(
        (vin, (dealer, source))
        for vin, dealer, source in query(
            fixture_warehouse,
            "select vin, servicing_dealer_code, servicing_dealer_source from marts.vehicles",
        )
    )
    assert rows[VIN_A] == ("D002", "repair_order")  # sold by D001, last serviced at D002
    assert rows[VIN_D] == ("D001", "sale")  # its only visit is older than 24 months
    assert rows[VIN_E] == ("D003", "sale")  # never serviced
    assert customer(fixture_warehouse, ALICE)["servicing_dealer_code"] == "D002"


def test_nothing_after_the_cut_off_counts(fixture_warehouse):
    assert query(fixture_warehouse, "select count(*) from marts.repair_orders where ro_no = 'RO-A4'") == [
        (0,)
    ]
    assert query(
        fixture_warehouse, "select count(*) from marts.vehicles where vin = 'LSVAA4180N2000009'"
    ) == [(0,)]
    alice = customer(fixture_warehouse, ALICE)
    assert (alice["visits_12m"], alice["revenue_12m"], alice["lifetime_value"]) == (1, 1500, 2600)


def test_customer_360_describes_alice_as_the_story_says(fixture_warehouse):
    alice = customer(fixture_warehouse, ALICE)
    assert alice["name_masked"] == "艾*" and alice["mobile_masked"] == "138****0001"
    assert (alice["birth_month"], alice["gender"], alice["age_band"], alice["province_name"]) == (
        3,
        "F",
        "35_44",
        "上海",
    )
    assert alice["is_wechat_follower"] and alice["is_wechat_subscribed"] and alice["is_wechat_bound"]
    assert alice["wecom_consultant_userid"] == "wc_li"  # the consultant who added her last
    assert alice["open_complaints"] == 1 and alice["campaigns_joined"] == 1
    assert alice["lapse_status"] == "active" and alice["value_segment"] == "A"
    assert str(alice["next_inspection_due_date"]) == "2027-03-31"  # year 4 after registration


def test_lapse_status_covers_every_case_of_the_story(fixture_warehouse):
    statuses = dict(query(fixture_warehouse, "select oneid, lapse_status from marts.customer_360"))
    assert statuses == {ALICE: "active", BOB: "lapsed", CAROL: "at_risk", DAN: "lapsed", EVE: "no_history"}


def test_an_owner_without_a_valid_id_number_is_found_by_mobile_and_assumptions_are_flagged(fixture_warehouse):
    assert query(
        fixture_warehouse,
        "select current_owner_oneid, current_owner_matched_by, is_usage_assumed, is_seats_assumed, "
        f"mileage_estimate_method from marts.vehicles where vin = '{VIN_D}'",
    ) == [(DAN, "mobile", True, True, "since_purchase")]


def test_no_mart_keeps_a_birth_date_an_id_number_or_a_ciphertext(fixture_warehouse):
    leaky = query(
        fixture_warehouse,
        "select table_name, column_name from information_schema.columns where table_schema = 'marts' "
        "and (column_name like '%birth_date%' or column_name like '%_enc' or column_name like '%id_number' "
        "or column_name like '%id_number_masked')",
    )
    # the one ciphertext published: the reminder list's owner mobile, decrypted only into a
    # dealer's own audited download (RULES.md "PII", docs/reminders.md)
    assert leaky == [("reminders", "owner_mobile_enc")]
