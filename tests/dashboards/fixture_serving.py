"""A hand-made serving database for the dashboard tests, shaped like the published contracts.

Tables and columns follow ``docs/architecture.md``, ``docs/reminders.md`` (``reminders``) and the KPI
contract (``kpi_*``: one row per month and level nation/region/dealer). Mobiles are stored as the
pipeline stores them: masked, and encrypted with ``PII_KEY`` in ``owner_mobile_enc``.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from sources.pii import PiiVault
from tests.dashboards.fixture_kpis import build_kpis, insert_rows

PII_KEY = b"dashboard-test-pii-key-0123456789abcdef"
MONTH = dt.date(2026, 11, 1)  # the list month prepared by the last run
LAST_MONTH = dt.date(2026, 10, 1)  # the month just ended

DEALERS = [
    # code, name, region, province, city, status, ROs 12m, vehicles 12m, revenue 12m
    ("D001", "北京一店", "华北", "北京", "北京", "营业", 120, 80, 150000.0),
    ("D002", "上海一店", "华东", "上海", "上海", "营业", 90, 60, 99000.0),
    ("D003", "杭州一店", "华东", "浙江", "杭州", "营业", 30, 25, 41000.0),
]


def mask(mobile: str) -> str:
    return mobile[:3] + "****" + mobile[7:]


# (oneid, vin, dealer, owner mobile, masked name)
OWNERS = [
    ("OID000000000001", "LVSHCAMB1CE000001", "D001", "13911110001", "张*"),
    ("OID000000000002", "LVSHCAMB1CE000002", "D001", "13911110002", "李*"),
    ("OID000000000003", "LVSHCAMB1CE000003", "D002", "13922220003", "王*"),
    ("OID000000000004", "LVSHCAMB1CE000004", "D002", "13922220004", "赵*"),
    ("OID000000000005", "LVSHCAMB1CE000005", "D002", "13922220005", "钱*"),
    ("OID000000000006", "LVSHCAMB1CE000006", "D002", "13922220006", "孙*"),
    ("OID000000000007", "LVSHCAMB1CE000007", "D003", "13933330007", "周*"),
]
MOBILES = {vin: mobile for _, vin, _, mobile, _ in OWNERS}

# the month's tasks: (month, task, vin, type, due, channel, carried, carry_months, wechat, tracked,
#                     reached, returned, closed_reason, carry_outcome)
TASKS = [
    # month just ended (2026-10): statuses known
    (LAST_MONTH, "t001a", "LVSHCAMB1CE000001", "maintenance", "2026-10-15", "phone", False, 0,
     "not_sent", True, True, True, None, "done"),
    (LAST_MONTH, "t001b", "LVSHCAMB1CE000002", "insurance", "2026-11-20", "wechat", False, 0,
     "success", False, True, False, None, "carried"),
    (LAST_MONTH, "t002a", "LVSHCAMB1CE000003", "first_maintenance", "2026-10-01", "phone", False, 0,
     "not_sent", False, False, False, None, "carried"),
    (LAST_MONTH, "t002b", "LVSHCAMB1CE000004", "maintenance", "2026-10-10", "wechat", False, 0,
     "failed_user_block", True, True, False, None, "carried"),
    (LAST_MONTH, "t002c", "LVSHCAMB1CE000005", "warranty", "2026-11-05", "phone", True, 1,
     "not_sent", True, False, True, None, "done"),
    (LAST_MONTH, "t002d", "LVSHCAMB1CE000006", "inspection", "2026-12-31", "phone", False, 0,
     "not_sent", False, False, False, "sold", "closed"),
    (LAST_MONTH, "t003a", "LVSHCAMB1CE000007", "birthday", "2026-10-12", "wechat", False, 0,
     "sent", False, False, False, None, "window_passed"),
    # this month (2026-11): new and carried tasks, statuses not known yet
    (MONTH, "t001b", "LVSHCAMB1CE000002", "insurance", "2026-11-20", "wechat", True, 1,
     "not_sent", False, False, False, None, None),
    (MONTH, "t001c", "LVSHCAMB1CE000001", "warranty", "2026-12-01", "phone", False, 0,
     "not_sent", False, False, False, None, None),
    (MONTH, "t002a", "LVSHCAMB1CE000003", "first_maintenance", "2026-10-01", "phone", True, 1,
     "not_sent", False, False, False, None, None),
    (MONTH, "t002b", "LVSHCAMB1CE000004", "maintenance", "2026-10-10", "wechat", True, 1,
     "not_sent", False, False, False, None, None),
    (MONTH, "t002e", "LVSHCAMB1CE000005", "campaign", "2026-11-30", "phone", False, 0,
     "not_sent", False, False, False, None, None),
    (MONTH, "t003b", "LVSHCAMB1CE000007", "maintenance", "2026-11-18", "wechat", False, 0,
     "not_sent", False, False, False, None, None),
]  # fmt: skip


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: str, rows: list[tuple]) -> None:
    con.execute(f"create table {name} ({columns})")
    insert_rows(con, name, rows)


def build_serving(con: duckdb.DuckDBPyConnection) -> None:
    vault = PiiVault(PII_KEY)
    dealer_of = {code: (name, region) for code, name, region, *_ in DEALERS}
    owner_of = {vin: (oneid, dealer, mobile, name) for oneid, vin, dealer, mobile, name in OWNERS}

    _table(
        con,
        "dealers",
        "dealer_code varchar, dealer_name varchar, region varchar, province varchar, city varchar, "
        "dealer_status varchar, repair_orders_12m bigint, vehicles_serviced_12m bigint, revenue_12m "
        "decimal(38,2)",
        DEALERS,
    )
    _table(
        con,
        "publish_log",
        "run_id varchar, month varchar, as_of_date varchar, published_at varchar",
        [("r1", "2026-11", "2026-10-31", "2026-10-31T20:00:00")],
    )
    _table(
        con,
        "quarantine",
        "source varchar, table_name varchar, file varchar, row_number integer, \"column\" varchar, "
        "reason varchar, raw_row json, ingested_at timestamp",
        [
            ("csc", "repair_orders", "csc/repair_orders_2026-10-31.csv", 7, "opened_at",
             "impossible or unreadable date: opened_at",
             '{"dealer_code": "D002", "ro_no": "RO1", "sender_mobile": "hmac:' + "ab" * 32 + '"}',
             dt.datetime(2026, 11, 1, 2)),
            ("dms", "vehicle_sales", "dms/vehicle_sales_2026-10-31.csv", 12, "vin",
             "malformed VIN (17 characters, no I/O/Q): vin",
             '{"dealer_code": "D001", "vin": "LVSX", "owner_mobile": "hmac:' + "cd" * 32 + '"}',
             dt.datetime(2026, 11, 1, 2)),
        ],
    )  # fmt: skip
    _table(
        con,
        "file_manifest",
        "path varchar, source varchar, table_name varchar, file_date date, rows_read bigint, "
        "rows_typed bigint, rows_quarantined bigint, status varchar",
        [
            (
                "csc/repair_orders_2026-10-31.csv",
                "csc",
                "repair_orders",
                dt.date(2026, 10, 31),
                500,
                499,
                1,
                "ingested",
            )
        ],
    )
    customers = []
    for oneid, vin, dealer, mobile, name in OWNERS:
        selling = "D001" if vin.endswith("3") else dealer  # a D002 customer who bought at D001
        status = "lapsed" if vin.endswith("4") else "at_risk" if vin.endswith("5") else "active"
        customers.append(
            (oneid, name, mask(mobile), f"h{vin[-2:]}", None, status != "lapsed", status,
             "A" if vin.endswith("1") else "C", status == "active", vin, selling, dealer,
             f"NC2026010{vin[-1]}" if dealer == "D002" else None)
        )  # fmt: skip
    _table(
        con,
        "customer_360",
        "oneid varchar, name_masked varchar, mobile_masked varchar, mobile_hmac varchar, id_number_hmac "
        "varchar, "
        "is_wechat_bound boolean, lapse_status varchar, value_segment varchar, is_active_12m boolean, "
        "current_vins varchar, selling_dealer_code varchar, servicing_dealer_code varchar, campaign_codes "
        "varchar",
        customers,
    )
    _table(
        con,
        "vehicles",
        "vin varchar, current_owner_oneid varchar, model_name varchar, first_invoice_date date, "
        "servicing_dealer_code varchar, last_visit_date date, estimated_mileage_km integer, "
        "next_maintenance_due_date date, lapse_status varchar",
        [
            (
                vin,
                oneid,
                "A6L",
                dt.date(2023, 5, 1),
                dealer,
                dt.date(2026, 9, 1),
                41000,
                dt.date(2027, 3, 1),
                "active",
            )
            for oneid, vin, dealer, _, _ in OWNERS
        ],
    )
    _table(
        con,
        "oneid_map",
        "identifier_type varchar, identifier_key varchar, oneid varchar",
        [
            ("mobile", "h1", "OID000000000001"),
            ("id_number", "i1", "OID000000000001"),
            ("oa_openid", "o1", "OID000000000001"),
            ("mobile", "h2", "OID000000000002"),
        ],
    )
    con.execute(
        "create table oneid_changes (run_at timestamp, change varchar, old_oneid varchar, new_oneid varchar)"
    )
    # the marts dbt summarises those four identifiers into (two OneIDs: one of three, one of one)
    _table(
        con,
        "oneid_identifier_types",
        "identifier_type varchar, identifiers bigint, oneids bigint",
        [("mobile", 2, 2), ("id_number", 1, 1), ("oa_openid", 1, 1)],
    )
    _table(
        con,
        "oneid_cluster_sizes",
        "cluster_size bigint, oneids bigint, identifiers bigint",
        [(1, 1, 1), (3, 1, 3)],
    )

    reminders = []
    for (
        month,
        task,
        vin,
        kind,
        due,
        channel,
        carried,
        carry,
        wechat,
        tracked,
        reached,
        returned,
        closed,
        outcome,
    ) in TASKS:
        oneid, dealer, mobile, name = owner_of[vin]
        dealer_name, region = dealer_of[dealer]
        due_date = dt.date.fromisoformat(due)
        reminders.append(
            (month, task, oneid, vin, dealer, kind, due_date, channel, carried, carry, wechat,
             tracked, reached, returned, closed, due[:7], LAST_MONTH if carried else month,
             due_date + dt.timedelta(days=90), kind == "inspection", False,
             "NC202611001" if kind == "campaign" else None,
             region, dealer_name, "A6L", name, mask(mobile), vault.encrypt(mobile),
             tracked or wechat in ("sent", "success"), 1 if tracked else 0, dealer if returned else None,
             True if returned else None, dt.datetime(2026, 10, 20, 10) if returned else None,
             "wang.li" if closed else None, dt.datetime(2026, 10, 15, 9) if closed else None, outcome,
             dt.date(2026, 10, 31), False, dt.date(2026, 10, 31))
        )  # fmt: skip
    _table(
        con,
        "reminders",
        "month date, task_id varchar, oneid varchar, vin varchar, dealer_code varchar, reminder_type "
        "varchar, "
        "due_date date, channel varchar, is_carried_over boolean, carry_months integer, wechat_status "
        "varchar, tracked boolean, reached boolean, returned boolean, closed_reason varchar, cycle varchar, "
        "first_month date, valid_until date, is_sticker_only boolean, is_usage_assumed boolean, "
        "campaign_code varchar, region varchar, dealer_name varchar, model_name varchar, "
        "owner_name_masked varchar, owner_mobile_masked varchar, owner_mobile_enc varchar, contacted "
        "boolean, "
        "calls integer, returned_dealer_code varchar, returned_same_dealer boolean, returned_at timestamp, "
        "closed_by varchar, closed_at timestamp, carry_outcome varchar, status_as_of date, is_final boolean, "
        "list_as_of date",
        reminders,
    )
    build_kpis(con)
