"""KPI tables for the dashboard tests, shaped like ``docs/kpis.md`` (branch ``kpis``).

Twelve months, 2025-11 … 2026-10 (the run of 2026-11 sees them; 2026-10 is provisional, the earlier
months final). Dealer figures follow simple formulas of the month index ``i`` (0 = 2025-11 …
11 = 2026-10), the dealer index ``j`` (D001 = 0, D002 = 1, D003 = 2) and the breakdown index ``k``,
so tests can compute expected values by hand; region and nation rows are the sums of their
dealers, rates are recomputed from each row's counts, as the real roll-up does. A quarter row per
member with other numbers proves that pages read the month grain.

Example: D002's 应提醒数 for 2026-10 is Σₖ (20 + 5·1 + 11 + 3k) over the two reminder types =
36 + 39 = 75; its tracked tasks Σₖ (due − 4 − j) = 31 + 34 = 65; completion 65/75 = 86.7%.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb
import polars as pl

DEALERS = [("D001", "北京一店", "华北"), ("D002", "上海一店", "华东"), ("D003", "杭州一店", "华东")]
MONTHS = [dt.date(2025 + (10 + i) // 12, (10 + i) % 12 + 1, 1) for i in range(12)]
AS_OF = dt.date(2026, 10, 31)


def month_end(month: dt.date) -> dt.date:
    following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def is_final(month: dt.date) -> bool:
    return month_end(month) + dt.timedelta(days=15) <= AS_OF


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Insert many rows at once (DuckDB's executemany is one statement per row: seconds here)."""
    if not rows:
        return
    width = len(rows[0])
    frame = pl.DataFrame(rows, schema=[f"c{i}" for i in range(width)], orient="row", infer_schema_length=None)
    con.register("_fixture_rows", frame.to_arrow())
    try:
        con.execute(f"insert into {table} select * from _fixture_rows")
    finally:
        con.unregister("_fixture_rows")


Counts = dict[str, Callable[[int, int, int], int]]
Rates = dict[str, tuple]  # rate → (numerator, denominator) or ("diff", rate_a, rate_b)


def _ratio(row: dict, rate: tuple):
    if rate[0] == "diff":
        a, b = row.get(rate[1]), row.get(rate[2])
        return None if a is None or b is None else a - b
    numerator, denominator = row[rate[0]], row[rate[1]]
    return None if not denominator else numerator / denominator


def _levels(
    per_dealer: dict[tuple[int, str], dict],
) -> list[tuple[str, str, str | None, str | None, str | None, str, dict]]:
    """(level, level_key, region, dealer_code, dealer_name, breakdown value, counts) with roll-ups."""
    out = []
    keys = sorted({b for _, b in per_dealer})
    for b in keys:
        for j, (code, name, region) in enumerate(DEALERS):
            out.append(("dealer", code, region, code, name, b, per_dealer[(j, b)]))
        for region in sorted({d[2] for d in DEALERS}):
            members = [per_dealer[(j, b)] for j, d in enumerate(DEALERS) if d[2] == region]
            out.append(
                ("region", region, region, None, None, b, {c: sum(m[c] for m in members) for c in members[0]})
            )
        everyone = [per_dealer[(j, b)] for j in range(len(DEALERS))]
        out.append(
            ("nation", "nation", None, None, None, b, {c: sum(m[c] for m in everyone) for c in everyone[0]})
        )
    return out


def monthly_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    counts: Counts,
    rates: Rates,
    breakdowns: dict[str, list[str]] | None = None,
    extra: dict[str, object] | None = None,
) -> None:
    """A monthly KPI table: month rows for 12 months, plus one quarter row per member."""
    breakdowns = breakdowns or {}
    split_column = next(iter(breakdowns), None)
    values = breakdowns.get(split_column, [None])
    rows = []
    for i, month in enumerate(MONTHS):
        per_dealer = {}
        for j in range(len(DEALERS)):
            parts = [{c: f(i, j, k) for c, f in counts.items()} for k in range(len(values))]
            for k, value in enumerate(values):
                per_dealer[(j, value or "all")] = parts[k]
            if split_column:
                per_dealer[(j, "all")] = {c: sum(p[c] for p in parts) for c in counts}
        for level, key, region, code, name, value, figures in _levels(per_dealer):
            figures = dict(figures)
            for rate, spec in rates.items():  # in order: a difference of rates reads the rates above it
                figures[rate] = _ratio(figures, spec)
            dims = {}
            for column, options in breakdowns.items():
                # the split is on the first breakdown; the other breakdowns are 'all' (the real tables
                # give each breakdown its own rows; one split is enough to exercise the pages)
                dims[column] = value if column == split_column else "all"
                assert value == "all" or value in options or column != split_column
            rows.append(("month", month, month_end(month), month, is_final(month), level, key, region, code,
                         name, dims, figures))  # fmt: skip
            if month == MONTHS[-1]:  # a running quarter, with other numbers than any month
                quarter = dt.date(2026, 10, 1)
                tripled = {c: (v * 3 if isinstance(v, int) else v) for c, v in figures.items()}
                rows.append(("quarter", quarter, dt.date(2026, 12, 31), None, False, level, key, region, code,
                             name, dims, tripled))  # fmt: skip
    figure_columns = [*counts, *rates]
    extra = extra or {}
    columns = ["period_grain", "period_start", "period_end", "month", "is_final", "level", "level_key",
               "region", "dealer_code", "dealer_name", *breakdowns, *figure_columns, *extra]  # fmt: skip
    types = ["varchar", "date", "date", "date", "boolean", "varchar", "varchar", "varchar", "varchar",
             "varchar", *["varchar"] * len(breakdowns), *["bigint"] * len(counts), *["double"] * len(rates),
             *[v[0] for v in extra.values()]]  # fmt: skip
    con.execute(
        f"create table {table} ({', '.join(f'{c} {t}' for c, t in zip(columns, types, strict=True))})"
    )
    data = [
        (*head, *dims.values(), *(figures[c] for c in figure_columns), *(v[1](head) for v in extra.values()))
        for *head, dims, figures in rows
    ]
    insert_rows(con, table, data)


def build_kpis(con: duckdb.DuckDBPyConnection) -> None:
    # kpi_reminders_monthly: 2 reminder types
    monthly_table(
        con,
        "kpi_reminders_monthly",
        counts={
            "due": lambda i, j, k: 20 + 5 * j + i + 3 * k,
            "due_new": lambda i, j, k: 14 + 5 * j + i + 3 * k,
            "due_carried": lambda i, j, k: 6,
            "tracked": lambda i, j, k: 16 + 4 * j + i + 3 * k,
            "reached": lambda i, j, k: 14 + 4 * j + i + 3 * k,
            "contacted": lambda i, j, k: 17 + 4 * j + i + 3 * k,
            "not_contacted": lambda i, j, k: 3 + j,
            "returned": lambda i, j, k: 6 + j + i % 3,
            "returned_same_dealer": lambda i, j, k: 5 + j + i % 3,
            "returned_other_dealer": lambda i, j, k: 1,
            "reached_returned": lambda i, j, k: 5 + j,
            "contacted_returned": lambda i, j, k: 5 + j + i % 3,
            "natural_returned": lambda i, j, k: 1,
            "closed_by_manager": lambda i, j, k: j,
            "carried_to_next_month": lambda i, j, k: 8 + j,
        },
        rates={
            "completion_rate": ("tracked", "due"),
            "reach_rate": ("reached", "due"),
            "return_rate": ("returned", "due"),
            "same_dealer_return_share": ("returned_same_dealer", "returned"),
            "reached_return_rate": ("reached_returned", "reached"),
            "contacted_return_rate": ("contacted_returned", "contacted"),
            "natural_return_rate": ("natural_returned", "not_contacted"),
            "return_uplift": ("diff", "contacted_return_rate", "natural_return_rate"),
        },
        breakdowns={"reminder_type": ["maintenance", "first_maintenance"]},
    )
    monthly_table(
        con,
        "kpi_bookings_monthly",
        counts={
            "scheduled": lambda i, j, k: 30 + 2 * j + i + 5 * k,
            "cancelled": lambda i, j, k: 2 + k,
            "feedback_required": lambda i, j, k: 10 + j,
            "feedback_done": lambda i, j, k: 8 + j,
            "shown": lambda i, j, k: 24 + j + i,
        },
        rates={
            "feedback_rate": ("feedback_done", "feedback_required"),
            "show_rate": ("shown", "scheduled"),
            "cancel_share": ("cancelled", "scheduled"),
        },
        breakdowns={"booking_channel": ["wechat", "phone"]},
    )
    monthly_table(
        con,
        "kpi_complaints_monthly",
        counts={
            "complaints": lambda i, j, k: 4 + j + k,
            "first_contact_within_24h": lambda i, j, k: 3 + j + k,
            "closed": lambda i, j, k: 3 + k,
            "closed_within_deadline": lambda i, j, k: 2 + k,
            "escalated": lambda i, j, k: 1,
            "vrt_started": lambda i, j, k: 0,
            "callbacks": lambda i, j, k: 2,
            "satisfaction_responses": lambda i, j, k: 2,
            "satisfied": lambda i, j, k: 1 + k,
            "satisfaction_sum": lambda i, j, k: 8 + k,
            "open_at_period_end": lambda i, j, k: 1 + j,
            "overdue_open_at_period_end": lambda i, j, k: j,
        },
        rates={
            "first_contact_24h_rate": ("first_contact_within_24h", "complaints"),
            "closed_within_deadline_rate": ("closed_within_deadline", "complaints"),
            "escalation_rate": ("escalated", "complaints"),
            "callback_rate": ("callbacks", "closed"),
            "satisfied_share": ("satisfied", "satisfaction_responses"),
            "avg_satisfaction": ("satisfaction_sum", "satisfaction_responses"),
        },
        breakdowns={
            "complaint_channel": ["hotline", "wechat"],
            "complaint_category": ["quality", "service"],
            "complaint_level": ["general", "escalated"],
        },
        extra={
            "median_hours_to_close": ("double", lambda head: 20.0),
            "p90_hours_to_close": ("double", lambda head: 60.0),
        },
    )
    monthly_table(
        con,
        "kpi_rescues_monthly",
        counts={
            "requests": lambda i, j, k: 5 + j,
            "valid_requests": lambda i, j, k: 4 + j,
            "dispatched": lambda i, j, k: 4 + j,
            "arrived": lambda i, j, k: 4 + j,
            "completed": lambda i, j, k: 3 + j,
            "callbacks": lambda i, j, k: 3,
            "minutes_to_dispatch_sum": lambda i, j, k: 40 * (4 + j),
            "minutes_to_arrival_sum": lambda i, j, k: 50 * (4 + j),
        },
        rates={
            "valid_share": ("valid_requests", "requests"),
            "callback_rate": ("callbacks", "valid_requests"),
            "avg_minutes_to_dispatch": ("minutes_to_dispatch_sum", "dispatched"),
            "avg_minutes_to_arrival": ("minutes_to_arrival_sum", "arrived"),
        },
        extra={
            "median_minutes_to_dispatch": ("double", lambda head: 35.0),
            "p90_minutes_to_dispatch": ("double", lambda head: 80.0),
            "median_minutes_to_arrival": ("double", lambda head: 45.0),
            "p90_minutes_to_arrival": ("double", lambda head: 95.0),
        },
    )
    monthly_table(
        con,
        "kpi_customers_monthly",
        counts={
            "followers_new": lambda i, j, k: 10 + j,
            "vehicles_turned_lapsed": lambda i, j, k: 2 + j,
            "first_service_due": lambda i, j, k: 10,
            "first_service_done": lambda i, j, k: 8 + (j == 1),
            "followers": lambda i, j, k: 300 + 10 * i,
            "owners": lambda i, j, k: 500 + 50 * j,
            "bound_owners": lambda i, j, k: 250 + 10 * j,
            "reachable_owners": lambda i, j, k: 200 + 10 * j,
            "vehicles": lambda i, j, k: 550 + 50 * j,
            "vehicles_active": lambda i, j, k: 400 + 40 * j,
            "vehicles_at_risk": lambda i, j, k: 90,
            "vehicles_lapsed": lambda i, j, k: 60 + 10 * j,
            "retention_base": lambda i, j, k: 300,
            "retained": lambda i, j, k: 240 + j,
        },
        rates={
            "bound_owner_share": ("bound_owners", "owners"),
            "wechat_reachable_share": ("reachable_owners", "owners"),
            "active_12m_share": ("vehicles_active", "vehicles"),
            "lapsed_share": ("vehicles_lapsed", "vehicles"),
            "first_service_rate": ("first_service_done", "first_service_due"),
            "retention_12m_rate": ("retained", "retention_base"),
        },
    )
    _communication(con)
    _campaigns(con)
    _scorecard_and_rankings(con)
    _alerts(con)


def _communication(con) -> None:
    """WeCom figures with one consultant per dealer (level 'consultant' below each dealer)."""
    monthly_table(
        con,
        "kpi_communication_monthly",
        counts={
            "new_applies": lambda i, j, k: 12 + j,
            "new_contacts": lambda i, j, k: 10 + j + i,
            "chats": lambda i, j, k: 40 + 5 * j,
            "messages": lambda i, j, k: 120 + 10 * j,
            "negative_feedback": lambda i, j, k: 1,
            "customers_contacted": lambda i, j, k: 30 + j,
            "replied_chats": lambda i, j, k: 36 + 4 * j,
            "reply_minutes_sum": lambda i, j, k: 5 * (36 + 4 * j),
        },
        rates={
            "reply_rate": ("replied_chats", "chats"),
            "avg_reply_minutes": ("reply_minutes_sum", "replied_chats"),
        },
        extra={
            "consultant_userid": ("varchar", lambda head: None),
            "consultant_staff_id": ("varchar", lambda head: None),
            "consultant_role": ("varchar", lambda head: None),
        },
    )
    con.execute(
        """
        insert into kpi_communication_monthly by name
        select * replace ('consultant' as level, 'wc000' || right(dealer_code, 1) as level_key,
                          'wc000' || right(dealer_code, 1) as consultant_userid,
                          'S000' || right(dealer_code, 1) as consultant_staff_id,
                          'service_advisor' as consultant_role)
        from kpi_communication_monthly where level = 'dealer'
        """
    )


def _campaigns(con) -> None:
    campaigns = [
        ("NC202605001", "全国夏季空调检测", "national", None, dt.date(2026, 5, 1), dt.date(2026, 6, 30)),
        ("NC202609002", "全国秋季保养", "national", None, dt.date(2026, 9, 1), dt.date(2026, 10, 31)),
        ("DCD0020001", "上海一店 会员日", "dealer", "D002", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        ("DCD0010001", "北京一店 冬季检测", "dealer", "D001", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
    ]
    rows = []
    for n, (code, name, scope, owner, start, end) in enumerate(campaigns):
        dealers = [d for d in DEALERS if owner is None or d[0] == owner]
        per = {d[0]: (10 + 3 * j + n, 6 + j + n, 3 + j) for j, d in enumerate(DEALERS)}
        members = [("dealer", d[0], d[2], d[0], d[1], [d[0]]) for d in dealers]
        for region in sorted({d[2] for d in dealers}):
            members.append(("region", region, region, None, None, [d[0] for d in dealers if d[2] == region]))
        members.append(("nation", "nation", None, None, None, [d[0] for d in dealers]))
        for level, key, region, dealer, dealer_name, codes in members:
            participants = sum(per[c][0] for c in codes)
            arrivals = sum(per[c][1] for c in codes)
            converted = sum(per[c][2] for c in codes)
            rows.append((code, name, scope, owner, start, end, end <= dt.date(2026, 10, 15), level, key,
                         region,
                         dealer, dealer_name, participants, len(codes), arrivals, converted, converted + 1,
                         1000.0 * (converted + 1), arrivals / participants,
                         converted / arrivals))  # fmt: skip
    con.execute(
        """
        create table kpi_campaigns (campaign_code varchar, campaign_name varchar, campaign_scope varchar,
            campaign_dealer_code varchar, campaign_start_date date, campaign_end_date date, is_final boolean,
            level varchar, level_key varchar, region varchar, dealer_code varchar, dealer_name varchar,
            participants bigint, participating_dealers bigint, arrivals bigint, converted bigint,
            campaign_repair_orders bigint, new_output_value double, arrival_rate double,
            conversion_rate double)
        """
    )
    insert_rows(con, "kpi_campaigns", rows)


def _scorecard_and_rankings(con) -> None:
    components = ("completion_rate", "return_rate", "show_rate", "feedback_rate",
                  "closed_within_deadline_rate",
                  "first_contact_24h_rate", "wechat_reachable_share", "retention_12m_rate")  # fmt: skip
    rows = []
    for i, month in enumerate(MONTHS):
        scores = {code: 60.0 + 5 * j + i * 0.5 for j, (code, _, _) in enumerate(DEALERS)}
        region_scores = {r: sum(s for c, s in scores.items() if dict((d[0], d[2]) for d in DEALERS)[c] == r)
                         / sum(1 for d in DEALERS if d[2] == r) for r in {d[2] for d in DEALERS}}  # fmt: skip
        nation_score = sum(scores.values()) / len(scores)
        for j, (code, name, region) in enumerate(DEALERS):
            values = []
            for n, _ in enumerate(components):
                own = 0.5 + 0.05 * j + 0.01 * n
                values += [own, own - 0.02, own - 0.03]
            in_region = sorted(
                (s for c, s in scores.items() if dict((d[0], d[2]) for d in DEALERS)[c] == region),
                reverse=True,
            )
            in_nation = sorted(scores.values(), reverse=True)
            rows.append(("month", month, month_end(month), month, code, name, region, is_final(month),
                         *values, len(components), scores[code], region_scores[region], nation_score,
                         scores[code] - region_scores[region], scores[code] - nation_score,
                         in_region.index(scores[code]) + 1, in_nation.index(scores[code]) + 1,
                         len(in_region), len(in_nation)))  # fmt: skip
    component_columns = ", ".join(f"{c} double, region_{c} double, nation_{c} double" for c in components)
    con.execute(
        f"""
        create table kpi_dealer_scorecard (period_grain varchar, period_start date, period_end date,
            month date,
            dealer_code varchar, dealer_name varchar, region varchar, is_final boolean, {component_columns},
            components_scored bigint, score double, region_score double, nation_score double,
            score_vs_region double, score_vs_nation double, rank_in_region bigint, rank_in_nation bigint,
            dealers_in_region bigint, dealers_in_nation bigint)
        """
    )
    insert_rows(con, "kpi_dealer_scorecard", rows)

    staff = []
    for i, month in enumerate(MONTHS):
        for staff_type, metric, base in (
            ("service_advisor", "repair_orders", 40),
            ("wecom_consultant", "new_contacts", 10),
        ):
            values = {code: float(base + 7 * j + i) for j, (code, _, _) in enumerate(DEALERS)}
            ordered = sorted(values.values(), reverse=True)
            for j, (code, name, region) in enumerate(DEALERS):
                key = f"S000{j + 1}" if staff_type == "service_advisor" else f"wc000{j + 1}"
                in_region = sorted(
                    (v for c, v in values.items() if dict((d[0], d[2]) for d in DEALERS)[c] == region),
                    reverse=True,
                )
                staff.append(("month", month, month_end(month), month, staff_type, key, f"S000{j + 1}",
                              "王*" if j else "张*", code, name, region, metric, values[code], 1,
                              in_region.index(values[code]) + 1, ordered.index(values[code]) + 1, 1,
                              len(in_region), len(ordered), is_final(month)))  # fmt: skip
    con.execute(
        """
        create table kpi_staff_rankings (period_grain varchar, period_start date, period_end date, month date,
            staff_type varchar, staff_key varchar, staff_id varchar, staff_name_masked varchar,
            dealer_code varchar,
            dealer_name varchar, region varchar, metric varchar, value double, rank_in_dealer bigint,
            rank_in_region bigint, rank_in_nation bigint, staff_in_dealer bigint, staff_in_region bigint,
            staff_in_nation bigint, is_final boolean)
        """
    )
    insert_rows(con, "kpi_staff_rankings", staff)


def _alerts(con) -> None:
    october, september = MONTHS[-1], MONTHS[-2]
    rows = [
        (october, "return_rate_drop", "dealer", "D002", "华东", "D002", "上海一店", "return_rate", 0.12, 0.25,
         0.35, "上海一店 提醒回厂率 12.0%,低于近3个月均值 35.0% 超过10个百分点",
         "上海一店 return rate 12.0%, more than 10 points below its 3-month mean 35.0%", False),
        (october, "complaint_overdue", "dealer", "D001", "华北", "D001", "北京一店",
         "overdue_open_at_period_end",
         2.0, 0.0, None, "北京一店 有 2 起投诉超期未结", "北京一店 has 2 complaints open past their deadline",
         False),
        (october, "lapse_spike", "nation", "nation", None, None, None, "vehicles_turned_lapsed", 40.0, 30.0,
         20.0,
         "全国 本月新流失车辆 40 台,超过阈值 30", "Nation: 40 vehicles turned lapsed, above the threshold 30",
         False),
        (september, "no_export", "dealer", "D003", "华东", "D003", "杭州一店", "repair_orders", 0.0, 1.0,
         None,
         "杭州一店 本月未收到工单导出", "杭州一店: no repair-order export this month", True),
    ]  # fmt: skip
    con.execute(
        """
        create table alerts (month date, alert_code varchar, level varchar, level_key varchar, region varchar,
            dealer_code varchar, dealer_name varchar, metric varchar, value double, threshold double,
            baseline double, message_zh varchar, message_en varchar, is_final boolean)
        """
    )
    insert_rows(con, "alerts", rows)
