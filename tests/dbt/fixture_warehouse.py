"""A small hand-made warehouse in the shape of docs/architecture.md (landing, wechat, identity).

Until the generator, ingestion and OneID land, the dbt project is built against this. Every table
of the contract exists (empty when the story below does not need it), with the contract's column
names and types, so a column the models read that the contract does not promise fails here first.

The story, seen as of 2026-10-31 (the run for 2026-11):

* Alice (OID...001) bought VIN_A at D001 in 2023, serviced there, then moved to D002 in 2026-09:
  her servicing dealer changes to D002. WeChat follower, bound, subscribed, a WeCom consultant.
  Joined campaign CAMP1 and came in with its code. One open complaint. A repair order dated after
  the cut-off must not count.
* Bob (OID...002) bought VIN_B at D002 in 2021 and sold it; Carol (OID...003) bought it second-hand
  at D003 in 2025-06. VIN_B's owner is Carol; Bob owned it before.
* Carol's last visit is 2026-02-20: at risk.
* Dan (OID...004) has an ID number that failed its checksum: he is found by his mobile. His VIN_D
  has no registration date, usage or seats (assumed), last visit 2024-06-01: lapsed.
* Eve (OID...005) only follows the Official Account: no history.
* VIN_E was bought in 2026-09 by someone OneID does not know: no owner, active by purchase.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

D, TS, N, I, B = "DATE", "TIMESTAMP", "DECIMAL(14,2)", "INTEGER", "BOOLEAN"  # noqa: E741 (the contract's type letters)
T = "VARCHAR"

LINEAGE = {"_source_file": T, "_source_row": I, "_file_date": D, "_ingested_at": TS, "_extra": "JSON"}


def mobile(prefix: str) -> dict[str, str]:
    return {f"{prefix}_hmac": T, f"{prefix}_status": T, f"{prefix}_masked": T, f"{prefix}_enc": T}


def id_number(prefix: str) -> dict[str, str]:
    return {
        f"{prefix}_hmac": T,
        f"{prefix}_status": T,
        f"{prefix}_birth_date": D,
        f"{prefix}_gender": T,
        f"{prefix}_province_code": T,
        f"{prefix}_masked": T,
    }


def name(prefix: str) -> dict[str, str]:
    return {f"{prefix}_masked": T, f"{prefix}_enc": T}


LANDING: dict[str, dict[str, str]] = {
    "vehicle_sales": {
        "vin": T, "vin_check_ok": B, "dealer_code": T, "model_code": T, "model_name": T,
        "invoice_date": D, "registration_date": D, "usage": T, "seats": I,
        **name("owner_name"), **id_number("owner_id_number"), **mobile("owner_mobile"),
        "sales_consultant": T,
    },
    "wechat_bindings": {
        "binding_id": T, "openid": T, "unionid": T, "vin_last8": T, **id_number("id_number"),
        **mobile("mobile"), "bound_at": TS, "status": T,
    },
    "bookings": {
        "booking_id": T, "channel": T, "openid": T, **mobile("mobile"), "vin": T, "dealer_code": T,
        "created_at": TS, "scheduled_date": D, "service_item": T, "status": T,
        "feedback_required": B, "feedback_at": TS, "feedback_result": T,
    },
    "repair_orders": {
        "ro_no": T, "dealer_code": T, "vin": T, "vin_check_ok": B, "opened_at": TS, "closed_at": TS,
        "mileage_km": I, "service_type": T, "labor_amount": N, "parts_amount": N, "total_amount": N,
        "next_maintenance_date": D, "next_maintenance_km": I, "warranty_expiry_date": D,
        "next_inspection_date": D, "advisor": T, **name("sender_name"), **mobile("sender_mobile"),
        "campaign_code": T,
    },
    "campaigns": {
        "campaign_code": T, "scope": T, "dealer_code": T, "name": T, "start_date": D, "end_date": D,
        "target_models": T, "target_purchase_from": D, "target_purchase_to": D,
    },
    "campaign_participants": {
        "participant_id": T, "campaign_code": T, "vin": T, **mobile("mobile"), "openid": T,
        "registered_at": TS, "channel": T, "invited_by": T,
    },
    "reminder_calls": {
        "call_id": T, "dealer_code": T, "vin": T, "reminder_type": T, "reminder_month": D,
        "called_at": TS, "result": T, "duration_s": I, "agent": T,
    },
    "complaints": {
        "complaint_no": T, "channel": T, "category": T, "level": T, "dealer_code": T, "region": T,
        "vin": T, **mobile("mobile"), "received_at": TS, "deadline_at": TS, "first_contact_at": TS,
        "closed_at": TS, "close_reason": T, "escalated_at": TS, "vrt": B, "callback_at": TS,
        "satisfaction": I,
    },
    "rescues": {
        "request_no": T, "received_at": TS, "vin": T, **mobile("mobile"), "city": T, "valid": B,
        "dispatched_dealer": T, "dispatched_at": TS, "arrived_at": TS, "completed_at": TS,
        "callback_at": TS,
    },
    "dealers": {"dealer_code": T, "name": T, "region": T, "province": T, "city": T, "status": T},
    "staff": {
        "staff_id": T, "dealer_code": T, **name("name"), "role": T, **mobile("mobile"),
        "wecom_userid": T,
    },
}  # fmt: skip

WECHAT: dict[str, dict[str, str]] = {
    "oa_followers": {
        "openid": T, "unionid": T, "subscribe": B, "subscribe_time": TS, "subscribe_scene": T,
        "qr_scene_str": T, "tagid_list": "INTEGER[]", "fetched_at": TS,
    },
    "wecom_follow_users": {"userid": T, "fetched_at": TS},
    "wecom_external_contacts": {
        "external_userid": T, "follow_userid": T, "unionid": T, "name_masked": T, "createtime": TS,
        "add_way": I, "state": T, "remark_mobile_hmacs": "VARCHAR[]", "fetched_at": TS,
    },
    "wecom_behavior_daily": {
        "userid": T, "stat_date": D, "new_apply_cnt": I, "new_contact_cnt": I, "chat_cnt": I,
        "message_cnt": I, "reply_percentage": "DOUBLE", "avg_reply_time": "DOUBLE",
        "negative_feedback_cnt": I, "fetched_at": TS,
    },
    "wecom_groupmsg_results": {
        "msgid": T, "userid": T, "external_userid": T, "creator": T, "create_time": TS, "chat_id": T,
        "status": I, "send_time": TS, "fetched_at": TS,
    },
    "callback_events": {
        "event_id": T, "event": T, "openid": T, "msg_id": T, "status": T, "event_time": TS,
        "received_at": TS, "raw": "JSON",
    },
    "template_send_log": {
        "task_id": T, "month": T, "openid": T, "client_msg_id": T, "msgid": T, "sent_at": TS, "result": T,
    },
    # settled by the asset ["wechat", "template_send_results"] before dbt (docs/reminders.md)
    "template_send_results": {
        "task_id": T, "month": T, "openid": T, "msgid": T, "sent_at": TS, "wechat_status": T,
    },
}  # fmt: skip

# the managers' decisions store as assets/decisions/task_decisions.py copies it
DECISIONS: dict[str, dict[str, str]] = {
    "task_decisions": {
        "decision_id": I, "task_id": T, "action": T, "reason": T, "decided_by": T, "decided_at": TS,
        "dealer_code": T, "month": T, "note": T,
    },
}  # fmt: skip

IDENTITY: dict[str, dict[str, str]] = {
    "oneid_map": {
        "identifier_type": T, "identifier_key": T, "oneid": T, "first_seen_at": TS, "last_seen_at": TS,
    },
    "oneid_links": {
        "left_type": T, "left_key": T, "right_type": T, "right_key": T, "source": T,
        "record_key": T, "rule": T,
    },
    "oneid_changes": {"run_at": TS, "change": T, "old_oneid": T, "new_oneid": T},
}  # fmt: skip

AS_OF = dt.date(2026, 10, 31)
ALICE, BOB, CAROL, DAN, EVE = (f"OID{n:012d}" for n in range(1, 6))
VIN_A, VIN_B, VIN_D, VIN_E = (
    "LSVAA4180N2000001",
    "LSVAA4180N2000002",
    "LSVAA4180N2000004",
    "LSVAA4180N2000005",
)


def _sale(vin, dealer, invoice, who, **extra):
    person = PEOPLE[who] if who else {}
    row = {
        "vin": vin, "vin_check_ok": True, "dealer_code": dealer, "model_code": "M10",
        "model_name": "朗逸", "invoice_date": invoice, "registration_date": invoice,
        "usage": "非营运", "seats": 5, "sales_consultant": "S2",
        "owner_name_masked": person.get("name_masked", "某*"),
        "owner_id_number_hmac": person.get("id"),
        "owner_id_number_status": "valid" if person.get("id") else "bad_checksum",
        "owner_id_number_birth_date": person.get("birth"), "owner_id_number_gender": person.get("gender"),
        "owner_id_number_province_code": person.get("province"), "owner_id_number_masked": "3***********1",
        "owner_mobile_hmac": person.get("mobile"),
        "owner_mobile_status": "valid" if person.get("mobile") else "missing",
        "owner_mobile_masked": person.get("mobile_masked"), "owner_mobile_enc": "c2l2LWVuY3J5cHRlZA==",
    }  # fmt: skip
    row.update(extra)
    return row


def _ro(ro_no, vin, dealer, opened, service_type, amount, mileage, **extra):
    opened_at = dt.datetime.fromisoformat(opened)
    row = {
        "ro_no": ro_no, "dealer_code": dealer, "vin": vin, "vin_check_ok": True, "opened_at": opened_at,
        "closed_at": opened_at + dt.timedelta(hours=3), "mileage_km": mileage, "service_type": service_type,
        "labor_amount": amount * 0.4, "parts_amount": amount * 0.6, "total_amount": amount, "advisor": "S1",
        "sender_name_masked": "王*", "sender_mobile_hmac": "h_mob_sender", "sender_mobile_status": "valid",
        "sender_mobile_masked": "139****0000",
    }  # fmt: skip
    row.update(extra)
    return row


PEOPLE = {
    "alice": {"id": "h_id_alice", "mobile": "h_mob_alice", "name_masked": "艾*", "birth": dt.date(1990, 3, 8),
              "gender": "F", "province": "31", "mobile_masked": "138****0001"},
    "bob": {"id": "h_id_bob", "mobile": "h_mob_bob", "name_masked": "鲍*", "birth": dt.date(1965, 7, 1),
            "gender": "M", "province": "44", "mobile_masked": "138****0002"},
    "carol": {"id": "h_id_carol", "mobile": None, "name_masked": "卡*", "birth": dt.date(2003, 12, 24),
              "gender": "F", "province": "44", "mobile_masked": None},
    "dan": {"id": None, "mobile": "h_mob_dan", "name_masked": "丹*", "birth": None, "gender": None,
            "province": None, "mobile_masked": "138****0004"},
}  # fmt: skip

ROWS: dict[str, list[dict]] = {
    "landing.dealers": [
        {"dealer_code": "D001", "name": "上海一店", "region": "华东", "province": "上海", "city": "上海",
         "status": "营业"},
        {"dealer_code": "D002", "name": "广州二店", "region": "华南", "province": "广东", "city": "广州",
         "status": "营业"},
        {"dealer_code": "D003", "name": "深圳三店", "region": "华南", "province": "广东", "city": "深圳",
         "status": "营业"},
    ],
    "landing.staff": [
        {"staff_id": "S1", "dealer_code": "D001", "name_masked": "张*", "role": "服务顾问",
         "wecom_userid": "wc_zhang"},
        {"staff_id": "S2", "dealer_code": "D002", "name_masked": "李*", "role": "销售顾问",
         "wecom_userid": "wc_li"},
    ],
    "landing.vehicle_sales": [
        _sale(VIN_A, "D001", dt.date(2023, 3, 15), "alice"),
        _sale(VIN_B, "D002", dt.date(2021, 5, 10), "bob"),
        # the resale: a second record of the same VIN, a later invoice date, another owner
        _sale(VIN_B, "D003", dt.date(2025, 6, 1), "carol", registration_date=None, usage=None, seats=None),
        _sale(VIN_D, "D001", dt.date(2022, 1, 10), "dan", registration_date=None, usage=None, seats=None),
        _sale(VIN_E, "D003", dt.date(2026, 9, 1), None, owner_name_masked="周*"),
        # sold after the cut-off: not seen by the 2026-11 run
        _sale("LSVAA4180N2000009", "D001", dt.date(2026, 11, 3), "alice"),
    ],
    "landing.repair_orders": [
        _ro("RO-A1", VIN_A, "D001", "2023-06-20 09:00", "首保", 300, 5000,
            next_maintenance_date=dt.date(2023, 12, 20)),
        _ro("RO-A2", VIN_A, "D001", "2024-12-01 10:00", "定期保养", 800, 25000),
        _ro("RO-A3", VIN_A, "D002", "2026-09-21 10:00", "服务活动", 1500, 40000, campaign_code="CAMP1",
            next_maintenance_date=dt.date(2027, 3, 21), warranty_expiry_date=dt.date(2027, 3, 14)),
        # after the cut-off: never counted in the 2026-11 run
        _ro("RO-A4", VIN_A, "D001", "2026-11-05 10:00", "一般维修", 99999, 41000),
        # Bob's visits while he owned VIN_B, then Carol's
        _ro("RO-B1", VIN_B, "D002", "2022-05-01 09:00", "定期保养", 700, 15000),
        _ro("RO-B2", VIN_B, "D002", "2024-05-01 09:00", "一般维修", 2000, 45000),
        _ro("RO-B3", VIN_B, "D003", "2026-02-20 09:00", "定期保养", 900, 70000),
        _ro("RO-D1", VIN_D, "D001", "2024-06-01 09:00", "定期保养", 600, 30000),
    ],
    "landing.wechat_bindings": [
        {"binding_id": "BD1", "openid": "oa_alice", "unionid": "un_alice", "vin_last8": VIN_A[-8:],
         "id_number_hmac": "h_id_alice", "id_number_status": "valid", "mobile_hmac": "h_mob_alice",
         "mobile_status": "valid", "mobile_masked": "138****0001", "bound_at": dt.datetime(2023, 4, 1, 12),
         "status": "有效"},
    ],
    "landing.bookings": [
        {"booking_id": "BK1", "channel": "微信", "openid": "oa_alice", "mobile_hmac": "h_mob_alice",
         "vin": VIN_A,
         "dealer_code": "D002", "created_at": dt.datetime(2026, 9, 15, 8), "scheduled_date": dt.date(2026, 9,
                                                                                                     20),
         "service_item": "保养", "status": "已确认", "feedback_required": True,
         "feedback_at": dt.datetime(2026, 9,
                                                                                                      16, 9)},
        {"booking_id": "BK2", "channel": "电话", "mobile_hmac": "h_mob_dan", "vin": VIN_D,
         "dealer_code": "D001",
         "created_at": dt.datetime(2026, 10, 2, 8), "scheduled_date": dt.date(2026, 10, 10),
         "service_item": "维修",
         "status": "已取消", "feedback_required": False},
    ],
    "landing.campaigns": [
        {"campaign_code": "CAMP1", "scope": "全国", "name": "秋季关爱", "start_date": dt.date(2026, 9, 1),
         "end_date": dt.date(2026, 10, 31), "target_models": None},
    ],
    "landing.campaign_participants": [
        {"participant_id": "P1", "campaign_code": "CAMP1", "vin": VIN_A, "openid": "oa_alice",
         "mobile_hmac": "h_mob_alice", "mobile_status": "valid", "registered_at": dt.datetime(2026, 9, 10,
                                                                                              20),
         "channel": "朋友圈", "invited_by": "S1"},
        {"participant_id": "P2", "campaign_code": "CAMP1", "vin": VIN_D, "mobile_hmac": "h_mob_dan",
         "mobile_status": "valid", "registered_at": dt.datetime(2026, 9, 12, 20), "channel": "电话"},
    ],
    "landing.reminder_calls": [
        {"call_id": "C1", "dealer_code": "D001", "vin": VIN_D, "reminder_type": "保养",
         "reminder_month": dt.date(2026, 10, 1), "called_at": dt.datetime(2026, 10, 3, 10), "result": "接通",
         "duration_s": 65, "agent": "S1"},
    ],
    "landing.complaints": [
        {"complaint_no": "CP1", "channel": "热线", "category": "服务", "level": "一般", "dealer_code": "D002",
         "region": "华南", "vin": VIN_A, "mobile_hmac": "h_mob_alice", "mobile_status": "valid",
         "received_at": dt.datetime(2026, 10, 20, 9), "deadline_at": dt.datetime(2026, 10, 27, 9),
         "first_contact_at": dt.datetime(2026, 10, 20, 15)},
        {"complaint_no": "CP2", "channel": "微信", "category": "品质", "level": "升级", "dealer_code": "D003",
         "region": "华南", "vin": VIN_B, "received_at": dt.datetime(2026, 3, 1, 9),
         "deadline_at": dt.datetime(2026, 3, 8, 9), "first_contact_at": dt.datetime(2026, 3, 3, 9),
         "closed_at": dt.datetime(2026, 3, 5, 9), "escalated_at": dt.datetime(2026, 3, 2, 9),
         "callback_at": dt.datetime(2026, 3, 6, 9), "satisfaction": 4},
    ],
    "landing.rescues": [
        {"request_no": "R1", "received_at": dt.datetime(2026, 8, 1, 22), "vin": VIN_D,
         "mobile_hmac": "h_mob_dan",
         "mobile_status": "valid", "city": "上海", "valid": True, "dispatched_dealer": "D001",
         "dispatched_at": dt.datetime(2026, 8, 1, 22, 10), "arrived_at": dt.datetime(2026, 8, 1, 22, 50),
         "completed_at": dt.datetime(2026, 8, 1, 23, 30)},
    ],
    "wechat.oa_followers": [
        {"openid": "oa_alice", "unionid": "un_alice", "subscribe": True, "subscribe_time": dt.datetime(2023,
                                                                                                       3, 20),
         "subscribe_scene": "ADD_SCENE_QR_CODE", "qr_scene_str": "dealer_D001",
         "fetched_at": dt.datetime(2026, 10, 31)},
        {"openid": "oa_eve", "unionid": "un_eve", "subscribe": True, "subscribe_time": dt.datetime(2026, 1,
                                                                                                   5),
         "subscribe_scene": "ADD_SCENE_SEARCH", "fetched_at": dt.datetime(2026, 10, 31)},
        {"openid": "oa_bob", "unionid": None, "subscribe": False, "subscribe_time": dt.datetime(2021, 6, 1),
         "subscribe_scene": "ADD_SCENE_SEARCH", "fetched_at": dt.datetime(2026, 10, 31)},
    ],
    "wechat.wecom_follow_users": [{"userid": "wc_zhang"}, {"userid": "wc_li"}],
    "wechat.wecom_external_contacts": [
        {"external_userid": "wm_alice", "follow_userid": "wc_zhang", "unionid": "un_alice",
         "name_masked": "艾*",
         "createtime": dt.datetime(2023, 6, 20, 11), "add_way": 1, "state": "dealer_D001"},
        {"external_userid": "wm_alice", "follow_userid": "wc_li", "unionid": "un_alice", "name_masked": "艾*",
         "createtime": dt.datetime(2026, 9, 21, 11), "add_way": 1, "state": "dealer_D002"},
    ],
    "wechat.wecom_behavior_daily": [
        {"userid": "wc_zhang", "stat_date": dt.date(2026, 10, 1), "new_apply_cnt": 1, "new_contact_cnt": 1,
         "chat_cnt": 5, "message_cnt": 20, "reply_percentage": 80.0, "avg_reply_time": 12.5,
         "negative_feedback_cnt": 0},
    ],
    "identity.oneid_map": [
        *({"identifier_type": t, "identifier_key": k, "oneid": o} for t, k, o in [
            ("id_number", "h_id_alice", ALICE), ("mobile", "h_mob_alice", ALICE), ("oa_openid", "oa_alice",
                                                                                   ALICE),
            ("unionid", "un_alice", ALICE), ("wecom_external_userid", "wm_alice", ALICE),
            ("id_number", "h_id_bob", BOB), ("mobile", "h_mob_bob", BOB), ("oa_openid", "oa_bob", BOB),
            ("id_number", "h_id_carol", CAROL),
            ("mobile", "h_mob_dan", DAN),
            ("oa_openid", "oa_eve", EVE), ("unionid", "un_eve", EVE),
        ])
    ],
}  # fmt: skip


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every table of the contract, empty."""
    for schema, tables in (
        ("landing", LANDING),
        ("wechat", WECHAT),
        ("identity", IDENTITY),
        ("decisions", DECISIONS),
    ):
        con.execute(f"create schema if not exists {schema}")
        for table, columns in tables.items():
            cols = dict(columns) if schema != "landing" else {**columns, **LINEAGE}
            ddl = ", ".join(f'"{c}" {t}' for c, t in cols.items())
            con.execute(f"create or replace table {schema}.{table} ({ddl})")
    # ingestion's earlier versions of each landing key (empty: every fixture row is current)
    con.execute("create schema if not exists landing_history")
    for table, columns in LANDING.items():
        ddl = ", ".join(
            f'"{c}" {t}' for c, t in {**columns, **LINEAGE, "_file_modified_at": "DOUBLE"}.items()
        )
        con.execute(f"create or replace table landing_history.{table} ({ddl})")


def insert_rows(con: duckdb.DuckDBPyConnection, relation: str, rows: list[dict]) -> None:
    for n, row in enumerate(rows, start=2):
        if relation.startswith("landing."):
            row = {"_source_file": f"{relation.split('.')[1]}_fixture.csv", "_source_row": n, **row}
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"insert into {relation} ({cols}) values ({marks})", list(row.values()))


def build_fixture_warehouse(path: Path) -> Path:
    """Write the story above to a fresh DuckDB file at ``path``."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        create_tables(con)
        # the quarantine, empty: ingestion always creates it and the gate requires it published
        from assets.ingestion.store import QUARANTINE_COLUMNS

        columns = ", ".join(f'"{c}" {t}' for c, t in QUARANTINE_COLUMNS)
        con.execute(f"create table landing.quarantine ({columns})")
        for relation, rows in ROWS.items():
            insert_rows(con, relation, rows)
    finally:
        con.close()
    return path
