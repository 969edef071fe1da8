"""The KPI tables on the hand-made story of kpi_fixture_warehouse.py, after real ``dbt build``s at
two cut-offs. Every expected figure is worked out by hand in the story's docstring and below."""

from __future__ import annotations

import pytest

from assets.publish.gate import CONTRACT_COLUMNS, KPI_TABLES, TABLE_KEYS, rate_columns
from tests.dbt.conftest import query
from tests.dbt.kpi_fixture_warehouse import AS_OF, AS_OF_NEXT

PERIOD_TABLES = {
    # table: (breakdown columns, stock columns, extra level below the dealer)
    "kpi_reminders_monthly": (["reminder_type"], [], None),
    "kpi_bookings_monthly": (["booking_channel"], [], None),
    "kpi_complaints_monthly": (
        ["complaint_channel", "complaint_category", "complaint_level"],
        ["open_at_period_end", "overdue_open_at_period_end"],
        None,
    ),
    "kpi_rescues_monthly": ([], [], None),
    "kpi_communication_monthly": ([], [], "consultant"),
    "kpi_customers_monthly": (
        [],
        [
            "followers",
            "owners",
            "bound_owners",
            "reachable_owners",
            "vehicles",
            "vehicles_active",
            "vehicles_at_risk",
            "vehicles_lapsed",
            "retention_base",
            "retained",
        ],
        None,
    ),
    "kpi_workshop_flow": (["service_type"], [], None),
}


@pytest.fixture(scope="module")
def oct31(kpi_warehouses):
    return kpi_warehouses[AS_OF]


@pytest.fixture(scope="module")
def nov30(kpi_warehouses):
    return kpi_warehouses[AS_OF_NEXT]


def columns(warehouse, table: str) -> list[tuple[str, str]]:
    return query(
        warehouse,
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = 'marts' and table_name = '{table}' order by ordinal_position",
    )


def count_columns(warehouse, table: str) -> list[str]:
    return [c for c, t in columns(warehouse, table) if t == "BIGINT"]


def row(warehouse, table: str, where: str, cols: str) -> tuple:
    rows = query(warehouse, f"select {cols} from marts.{table} where {where}")
    assert len(rows) == 1, (table, where, rows)
    return rows[0]


def near(*values):
    """Expected figures: rates and averages are published rounded to 6 decimals (docs/kpis.md)."""
    return pytest.approx(values, abs=1e-6)


def total(breakdowns: list[str]) -> str:
    return " and ".join(f"{b} = 'all'" for b in breakdowns) or "true"


# ---------------------------------------------------------------------------- the shape


def test_every_kpi_table_is_built_with_its_key_contract_columns_and_rates_in_range(oct31):
    tables = {
        t
        for (t,) in query(
            oct31, "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    }
    assert tables >= KPI_TABLES | {"alerts"}
    for table in KPI_TABLES | {"alerts"}:
        have = [c for c, _ in columns(oct31, table)]
        assert set(CONTRACT_COLUMNS.get(table, ())) <= set(have), table
        key = ", ".join(TABLE_KEYS[table])
        assert query(oct31, f"select {key} from marts.{table} group by all having count(*) > 1") == [], table
        nulls = " or ".join(f"{c} is null" for c in TABLE_KEYS[table])
        assert query(oct31, f"select count(*) from marts.{table} where {nulls}") == [(0,)], table
        for rate in rate_columns(have):
            assert query(oct31, f"select count(*) from marts.{table} where {rate} not between 0 and 1") == [
                (0,)
            ], (
                table,
                rate,
            )


@pytest.mark.parametrize("table", sorted(PERIOD_TABLES))
def test_the_nation_is_the_sum_of_its_regions_and_of_its_dealers_for_every_count(oct31, table):
    breakdowns, _, below = PERIOD_TABLES[table]
    keys = ", ".join(["period_grain", "period_start", *breakdowns])
    counts = count_columns(oct31, table)
    assert len(counts) >= 3
    sums = ", ".join(f"sum({c})" for c in counts)
    children = [("nation", "region"), ("nation", "dealer")] + ([("dealer", below)] if below else [])
    for parent, child in children:
        parent_key = "level_key" if parent != "nation" else "'nation'"
        child_key = {"region": "'nation'", "dealer": "'nation'", below: "dealer_code"}[child]
        mismatches = query(
            oct31,
            f"with parents as (select {keys}, {parent_key} as k, {sums} from marts.{table} "
            f"where level = '{parent}' group by all), "
            f"children as (select {keys}, {child_key} as k, {sums} from marts.{table} "
            f"where level = '{child}' group by all) "
            f"select * from (select * from parents except select * from children) "
            f"union all select * from (select * from children except select * from parents)",
        )
        assert mismatches == [], (table, parent, child, mismatches[:3])


@pytest.mark.parametrize("table", sorted(PERIOD_TABLES))
def test_a_quarter_and_a_year_add_up_their_months_and_take_the_last_month_of_a_stock(oct31, table):
    breakdowns, stocks, _ = PERIOD_TABLES[table]
    members = ", ".join(["level", "level_key", *breakdowns])
    for grain in ("quarter", "year"):
        for column in count_columns(oct31, table):
            # a stock is the value at the period's last month in the range (a breakdown row that is
            # missing that month is zero there)
            last_month = (
                f"least(date_trunc('month', periods.period_end), "
                f"(select max(period_start) from marts.{table} where period_grain = 'month'))"
            )
            months = (
                f"sum(months.{column})"
                if column not in stocks
                else f"coalesce(sum(months.{column}) filter (where months.period_start = {last_month}), 0)"
            )
            mismatches = query(
                oct31,
                f"select periods.period_start, periods.level_key, periods.{column}, {months} "
                f"from marts.{table} as periods join marts.{table} as months using ({members}) "
                f"where periods.period_grain = '{grain}' and months.period_grain = 'month' "
                f"and date_trunc('{grain}', months.period_start) = periods.period_start "
                f"group by periods.period_start, periods.period_end, periods.level_key, periods.{column}, "
                + ", ".join(f"periods.{c}" for c in [*breakdowns, "level"])
                + f" having periods.{column} is distinct from {months}",
            )
            assert mismatches == [], (table, grain, column, mismatches[:3])


# ---------------------------------------------------------------------------- each table's formulas


def test_bookings_scheduled_cancelled_apart_feedback_and_show_rate(oct31):
    cols = (
        "scheduled, cancelled, feedback_required, feedback_done, shown, feedback_rate, show_rate, "
        "cancel_share"
    )
    # K01 September: B1 shown with feedback, B3 no feedback and no show, B2 cancelled
    assert row(
        oct31,
        "kpi_bookings_monthly",
        "month = '2026-09-01' and level_key = 'K01' and booking_channel = 'all'",
        cols,
    ) == near(2, 1, 2, 1, 1, 0.5, 0.5, 1 / 3)
    # the third quarter of the nation: B1, B3 (Sep) and B5 (Aug, K02)
    assert row(
        oct31,
        "kpi_bookings_monthly",
        "period_grain = 'quarter' and period_start = '2026-07-01' and level = 'nation' and booking_channel = "
        "'all'",
        "scheduled, shown, show_rate, feedback_done, feedback_rate",
    ) == near(3, 2, 2 / 3, 2, 2 / 3)
    # by channel: the phone bookings of the quarter are B3 and B5
    assert row(
        oct31,
        "kpi_bookings_monthly",
        "period_grain = 'quarter' and period_start = '2026-07-01' and level = 'nation' and booking_channel = "
        "'phone'",
        "scheduled, shown",
    ) == (2, 1)


def test_reminders_due_tracked_returned_closed_and_the_natural_return_baseline(oct31):
    cols = (
        "due, due_new, due_carried, tracked, reached, contacted, not_contacted, returned, "
        "returned_same_dealer, "
        "returned_other_dealer, natural_returned, closed_by_manager, carried_to_next_month, completion_rate, "
        "return_rate, contacted_return_rate, natural_return_rate, return_uplift"
    )
    # K01 September: T1 tracked, reached, returned here; T2 tracked, carried; T3 nobody called, came
    # back elsewhere (a natural return); T4 closed (sold)
    assert row(
        oct31,
        "kpi_reminders_monthly",
        "month = '2026-09-01' and level_key = 'K01' and reminder_type = 'all'",
        cols,
    ) == (4, 4, 0, 2, 1, 2, 2, 2, 1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.0)
    # the nation adds K02's T5 (a WeChat delivery: contacted and reached, not tracked, not returned):
    # contacted tasks returned 1 of 3, uncontacted 1 of 2, so contacting shows no uplift here
    nation = row(
        oct31,
        "kpi_reminders_monthly",
        "month = '2026-09-01' and level = 'nation' and reminder_type = 'all'",
        "due, reached, contacted, completion_rate, return_rate, contacted_return_rate, natural_return_rate, "
        "return_uplift",
    )
    assert nation == near(5, 2, 3, 0.4, 0.4, 1 / 3, 0.5, 1 / 3 - 1 / 2)
    assert row(
        oct31,
        "kpi_reminders_monthly",
        "month = '2026-09-01' and level = 'nation' and reminder_type = 'maintenance'",
        "due, tracked, returned, return_rate",
    ) == (2, 2, 1, 0.5)
    # October: T2 carried over, T6 new; the list of the month being prepared (2026-11) has no KPIs
    assert row(
        oct31,
        "kpi_reminders_monthly",
        "month = '2026-10-01' and level = 'nation' and reminder_type = 'all'",
        "due, due_new, due_carried, tracked, returned",
    ) == (2, 1, 1, 1, 0)
    assert query(
        oct31, "select count(*) from marts.kpi_reminders_monthly where period_start >= '2026-11-01'"
    ) == [(0,)]


def test_complaints_handling_rates_backlog_and_time_to_close(oct31):
    cols = (
        "complaints, first_contact_within_24h, closed, closed_within_deadline, escalated, callbacks, "
        "satisfaction_responses, satisfied, open_at_period_end, overdue_open_at_period_end, "
        "first_contact_24h_rate, "
        "closed_within_deadline_rate, escalation_rate, callback_rate, satisfied_share, avg_satisfaction, "
        "median_hours_to_close, p90_hours_to_close"
    )
    everything = "complaint_channel = 'all' and complaint_category = 'all' and complaint_level = 'all'"
    # October: C1 (3 h, closed 48 h, in time, 5 stars), C2 (29 h, escalated, closed 96 h late, 2 stars),
    # C3 (open, overdue at the month end), C5 (no dealer, closed 10 h); hours to close 10, 48, 96
    oct_nation = row(
        oct31, "kpi_complaints_monthly", f"month = '2026-10-01' and level = 'nation' and {everything}", cols
    )
    assert oct_nation == near(
        4, 3, 3, 2, 1, 2, 2, 1, 1, 1, 0.75, 0.5, 0.25, 2 / 3, 0.5, 3.5, 48.0, 48 + 0.8 * 48
    )
    # September: C4 received at K03 and still open past its deadline at the month end (closed 10-10)
    assert row(
        oct31,
        "kpi_complaints_monthly",
        f"month = '2026-09-01' and level_key = 'K03' and {everything}",
        "complaints, open_at_period_end, overdue_open_at_period_end, median_hours_to_close",
    ) == (1, 1, 1, 288.0)
    # a complaint without a dealer counts at `unassigned`, region `unknown`
    assert row(
        oct31,
        "kpi_complaints_monthly",
        f"month = '2026-10-01' and level = 'dealer' and level_key = 'unassigned' and {everything}",
        "region, complaints",
    ) == ("unknown", 1)
    # one breakdown at a time: the October hotline complaints are C1 and C3
    assert row(
        oct31,
        "kpi_complaints_monthly",
        "month = '2026-10-01' and level = 'nation' and complaint_channel = 'hotline' "
        "and complaint_category = 'all' and complaint_level = 'all'",
        "complaints, closed",
    ) == (2, 1)
    # the daily report: C1 and C2 came in on 10-02
    assert row(
        oct31,
        "kpi_complaints_monthly",
        f"period_grain = 'day' and period_start = '2026-10-02' and level_key = 'K01' and {everything}",
        "complaints, open_at_period_end",
    ) == (2, None)


def test_rescues_valid_share_dispatch_and_arrival_times_daily_and_monthly(oct31):
    cols = (
        "requests, valid_requests, dispatched, callbacks, valid_share, callback_rate, "
        "avg_minutes_to_dispatch, "
        "median_minutes_to_dispatch, p90_minutes_to_dispatch, avg_minutes_to_arrival, "
        "median_minutes_to_arrival"
    )
    # R1 (10 / 40 min, called back), R2 (30 / 110 min) at K01; R3 invalid, nobody dispatched
    assert row(oct31, "kpi_rescues_monthly", "month = '2026-10-01' and level = 'nation'", cols) == near(
        3,
        2,
        2,
        1,
        2 / 3,
        0.5,
        20.0,
        20.0,
        28.0,
        75.0,
        75.0,
    )
    assert row(
        oct31,
        "kpi_rescues_monthly",
        "period_grain = 'day' and period_start = '2026-10-05' and level_key = 'K01'",
        "requests, avg_minutes_to_arrival",
    ) == (2, 75.0)
    assert row(
        oct31,
        "kpi_rescues_monthly",
        "month = '2026-10-01' and level = 'dealer' and level_key = 'unassigned'",
        "requests, valid_requests, callback_rate",
    ) == (1, 0, None)


def test_communication_reply_rate_is_weighted_by_chats_up_every_level(oct31):
    cols = "chats, replied_chats, reply_rate, avg_reply_minutes, customers_contacted, new_contacts"
    # wc_a 10 chats at 80 % (5 min), wc_a2 20 at 50 % (3 min), wc_b 5 at 100 % (2 min),
    # wc_c (no staff) 2 at 0 %
    nation = row(oct31, "kpi_communication_monthly", "month = '2026-10-01' and level = 'nation'", cols)
    assert nation == near(37, 23.0, 23 / 37, (8 * 5 + 10 * 3 + 5 * 2) / 23, 2, 3)
    assert row(
        oct31,
        "kpi_communication_monthly",
        "month = '2026-10-01' and level_key = 'wc_a'",
        f"{cols}, dealer_code, consultant_staff_id",
    ) == (10, 8.0, 0.8, 5.0, 2, 2, "K01", "S_A")
    assert row(
        oct31,
        "kpi_communication_monthly",
        "month = '2026-10-01' and level_key = 'wc_c'",
        "dealer_code, region, reply_rate, avg_reply_minutes",
    ) == ("unassigned", "unknown", 0.0, None)
    # the year: September's 4 chats at 50 % join; customers contacted are counted per consultant and month
    year = row(
        oct31,
        "kpi_communication_monthly",
        "period_grain = 'year' and level = 'nation'",
        "chats, replied_chats, customers_contacted",
    )
    assert year == (41, 25.0, 3)


def test_customer_base_states_at_each_month_end(oct31):
    cols = (
        "vehicles, vehicles_active, vehicles_at_risk, vehicles_lapsed, vehicles_turned_lapsed, followers, "
        "followers_new, owners, bound_owners, reachable_owners, retention_base, retained"
    )
    expected = {
        "2026-05-01": (6, 3, 1, 2, 0, 2, 0, 3, 1, 1, 1, 1),
        "2026-06-01": (7, 3, 2, 2, 0, 2, 0, 4, 1, 1, 1, 1),
        "2026-07-01": (7, 3, 2, 2, 0, 2, 0, 4, 1, 1, 1, 1),
        "2026-08-01": (7, 3, 3, 1, 0, 3, 1, 4, 2, 2, 1, 1),
        "2026-09-01": (7, 4, 3, 0, 0, 3, 0, 4, 2, 2, 1, 1),
        "2026-10-01": (7, 4, 2, 1, 1, 4, 1, 4, 2, 2, 2, 1),
    }
    for month, figures in expected.items():
        assert (
            row(oct31, "kpi_customers_monthly", f"month = '{month}' and level = 'nation'", cols) == figures
        ), month
    assert row(
        oct31,
        "kpi_customers_monthly",
        "month = '2026-10-01' and level = 'nation'",
        "wechat_reachable_share, active_12m_share, lapsed_share, retention_12m_rate",
    ) == near(0.5, 6 / 7, 1 / 7, 0.5)
    # first service: V4's window ended in July (serviced in April), V5's in August (never came)
    assert row(
        oct31,
        "kpi_customers_monthly",
        "period_grain = 'quarter' and period_start = '2026-07-01' and level = 'nation'",
        "first_service_due, first_service_done, first_service_rate",
    ) == (2, 1, 0.5)
    assert row(
        oct31,
        "kpi_customers_monthly",
        "month = '2026-10-01' and level_key = 'K02'",
        "vehicles_active, vehicles_at_risk, vehicles_lapsed, vehicles_turned_lapsed, followers, owners",
    ) == (
        1,
        1,
        1,
        1,
        2,
        2,
    )
    # K03 had no vehicle visiting 24-13 months before: no base, so no retention rate
    assert row(
        oct31,
        "kpi_customers_monthly",
        "month = '2026-10-01' and level_key = 'K03'",
        "retention_base, retention_12m_rate",
    ) == (0, None)


def test_the_latest_month_agrees_with_the_marts_it_summarises(oct31):
    """At the cut-off's month the month-end states are what vehicles and complaints say today."""
    by_dealer = query(
        oct31,
        "select servicing_dealer_code, count(*) filter (where lapse_status = 'active'), "
        "count(*) filter (where lapse_status = 'at_risk'), count(*) filter (where lapse_status = 'lapsed') "
        "from marts.vehicles group by 1 order by 1",
    )
    kpis = query(
        oct31,
        "select dealer_code, vehicles_active, vehicles_at_risk, vehicles_lapsed from "
        "marts.kpi_customers_monthly "
        "where month = '2026-10-01' and level = 'dealer' and vehicles > 0 order by 1",
    )
    assert kpis == by_dealer
    assert query(
        oct31,
        "select count(*) filter (where is_open), count(*) filter (where is_overdue_open) from "
        "marts.complaints",
    ) == query(
        oct31,
        "select open_at_period_end, overdue_open_at_period_end from marts.kpi_complaints_monthly "
        "where month = '2026-10-01' and level = 'nation' and complaint_channel = 'all' and "
        "complaint_category = 'all' and complaint_level = 'all'",
    )


def test_campaigns_participants_arrivals_conversion_and_new_output_value(oct31):
    cols = (
        "participants, participating_dealers, arrivals, converted, campaign_repair_orders, new_output_value, "
        "arrival_rate, conversion_rate, is_final"
    )
    # PA (K01) came with the code (500), PB (K02) came for something else, PC (K02) never came;
    # V3 came in at K03 with the code without registering (300)
    assert row(oct31, "kpi_campaigns", "campaign_code = 'CMP1' and level = 'nation'", cols) == near(
        3,
        3,
        2,
        1,
        2,
        800,
        2 / 3,
        0.5,
        True,
    )
    assert row(oct31, "kpi_campaigns", "campaign_code = 'CMP1' and level_key = 'K02'", cols) == (
        2,
        1,
        1,
        0,
        0,
        0,
        0.5,
        0.0,
        True,
    )
    assert row(oct31, "kpi_campaigns", "campaign_code = 'CMP1' and level_key = 'K03'", cols) == (
        0,
        1,
        0,
        0,
        1,
        300,
        None,
        None,
        True,
    )
    # a dealer campaign's participant is the campaign dealer's, whoever invited them; still running
    assert row(
        oct31,
        "kpi_campaigns",
        "campaign_code = 'CMP2' and level = 'dealer'",
        "dealer_code, participants, is_final",
    ) == (
        "K02",
        1,
        False,
    )


def test_workshop_cycle_time(oct31):
    cols = (
        "repair_orders, closed_orders, closed_same_day, avg_cycle_hours, median_cycle_hours, "
        "p90_cycle_hours, same_day_share"
    )
    # September: 3 h, 26 h (closed the next day), 5 h
    september = row(
        oct31, "kpi_workshop_flow", "month = '2026-09-01' and level = 'nation' and service_type = 'all'", cols
    )
    assert september == near(3, 3, 2, 34 / 3, 5.0, 5 + 0.8 * 21, 2 / 3)
    # October's only order was still open at the cut-off: no cycle time
    assert row(
        oct31, "kpi_workshop_flow", "month = '2026-10-01' and level = 'nation' and service_type = 'all'", cols
    ) == (
        1,
        0,
        0,
        None,
        None,
        None,
        None,
    )


def test_staff_are_ranked_within_dealer_region_and_nation(oct31):
    cols = "staff_key, dealer_code, value, rank_in_dealer, rank_in_region, rank_in_nation, staff_in_region"
    advisors = query(
        oct31,
        f"select {cols} from marts.kpi_staff_rankings where month = '2026-09-01' and staff_type = "
        "'service_advisor' and metric = 'revenue' order by rank_in_nation",
    )
    assert advisors == [
        ("S_B", "K02", 800.0, 1, 1, 1, 2),
        ("S_A", "K01", 500.0, 1, 2, 2, 2),
        ("S_C", "K03", 300.0, 1, 1, 3, 1),
    ]
    consultants = query(
        oct31,
        f"select {cols} from marts.kpi_staff_rankings where month = '2026-10-01' and staff_type = "
        "'wecom_consultant' and metric = 'chats' and dealer_code = 'K01' order by rank_in_dealer",
    )
    assert consultants == [("wc_a2", "K01", 20.0, 1, 1, 1, 3), ("wc_a", "K01", 10.0, 2, 2, 2, 3)]


def test_the_scorecard_weighs_the_components_a_dealer_has(oct31):
    # K01 September: completion, return, show, feedback 0.5; no complaints; reachable and retention 1.0
    k01 = row(
        oct31,
        "kpi_dealer_scorecard",
        "month = '2026-09-01' and dealer_code = 'K01'",
        "score, components_scored, rank_in_region, rank_in_nation, dealers_in_nation, nation_show_rate",
    )
    weights = {
        "completion": 0.20,
        "return": 0.25,
        "show": 0.15,
        "feedback": 0.05,
        "reachable": 0.10,
        "retention": 0.10,
    }
    expected = 100 * (0.5 * (0.20 + 0.25 + 0.15 + 0.05) + 1.0 * (0.10 + 0.10)) / sum(weights.values())
    assert k01[0] == pytest.approx(expected, abs=0.005) and k01[1:] == (6, 1, 1, 3, 0.5)  # scores: 2 decimals
    # K02: completion and return 0, reachable 0.5 (P2 of P2 and P5)
    assert row(
        oct31, "kpi_dealer_scorecard", "month = '2026-09-01' and dealer_code = 'K02'", "score, rank_in_region"
    ) == (
        pytest.approx(100 * 0.10 * 0.5 / (0.20 + 0.25 + 0.10), abs=0.005),
        2,
    )


def test_alerts_name_the_member_the_metric_the_value_and_the_threshold(oct31):
    alerts = set(query(oct31, "select month::varchar, alert_code, level_key from marts.alerts"))
    assert {
        # K01 returned and tracked every task in Jun-Aug, half of them in September
        ("2026-09-01", "return_rate_drop", "K01"),
        ("2026-09-01", "completion_rate_drop", "K01"),
        ("2026-09-01", "return_rate_drop", "nation"),
        ("2026-09-01", "complaint_overdue", "K03"),
        ("2026-10-01", "complaint_overdue", "K02"),
        # V2 turned lapsed at K02 after three quiet months
        ("2026-10-01", "lapse_spike", "K02"),
        # K03 sent repair orders in Jul, Aug and Sep, none in October
        ("2026-10-01", "no_export", "K03"),
    } <= alerts
    assert ("2026-10-01", "no_export", "K02") not in alerts  # K02 had no orders in July either
    assert row(
        oct31,
        "alerts",
        "month = '2026-09-01' and alert_code = 'return_rate_drop' and level_key = 'K01'",
        "metric, value, threshold, baseline, message_zh, message_en",
    ) == (
        "return_rate",
        0.5,
        pytest.approx(0.9),
        1.0,
        "上海浦东店（K01）：提醒回厂率 50.0%，低于近 3 个月的 100.0%",
        "dealer K01: reminder return rate 50.0%, below its last 3 months' 100.0%",
    )


# ---------------------------------------------------------------------------- final or provisional


def test_a_provisional_month_is_recomputed_and_turns_final(oct31, nov30):
    october = "month = '2026-10-01' and level = 'nation'"
    # at 2026-10-31, October is provisional: T2 has not come back yet, B4's car comes on 11-01
    assert row(
        oct31,
        "kpi_reminders_monthly",
        f"{october} and reminder_type = 'all'",
        "returned, return_rate, is_final",
    ) == (
        0,
        0.0,
        False,
    )
    assert row(
        oct31,
        "kpi_bookings_monthly",
        f"{october} and booking_channel = 'all'",
        "shown, show_rate, feedback_rate, is_final",
    ) == (
        0,
        0.0,
        None,
        False,
    )
    # at 2026-11-30 its return grace (15 days) has passed: final, with T2's return of 11-05 and B4's show
    assert row(
        nov30,
        "kpi_reminders_monthly",
        f"{october} and reminder_type = 'all'",
        "returned, return_rate, is_final",
    ) == (
        1,
        0.5,
        True,
    )
    assert row(
        nov30, "kpi_bookings_monthly", f"{october} and booking_channel = 'all'", "shown, show_rate, is_final"
    ) == (
        1,
        1.0,
        True,
    )
    # November is the new provisional month; September was final and stays as it was
    assert row(
        nov30,
        "kpi_reminders_monthly",
        "month = '2026-11-01' and level = 'nation' and reminder_type = 'all'",
        "due, is_final",
    ) == (2, False)
    september = "month = '2026-09-01' and level = 'nation' and reminder_type = 'all'"
    figures = "due, tracked, returned, natural_returned, is_final"
    assert row(nov30, "kpi_reminders_monthly", september, figures) == row(
        oct31, "kpi_reminders_monthly", september, figures
    )
    assert row(nov30, "kpi_reminders_monthly", september, "is_final") == (True,)
