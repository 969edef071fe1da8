"""A hand-made warehouse for the KPI tables (docs/kpis.md), every figure computed by hand below.

Three dealers: K01 (华东), K02 (华东), K03 (华南). Runs at the cut-offs 2026-10-31 (the run for
2026-11) and 2026-11-30, with ``kpi_history_months`` = 6: months 2026-05 … 2026-10 (… 2026-11).

Vehicles (sale date, dealer, owner) and their visits (repair orders):

* V1 K01 2023-01-10 P1: visits 2024-12-01, 2025-12-15, 2026-10-05 (closed after the cut-off).
  Status: May active, Jun-Sep at risk (Dec 15 is more than 6 months before Jun 30), Oct active.
* V2 K02 2022-03-01 P2: one visit 2025-10-20. At risk May-Sep, lapsed in Oct (turned lapsed).
* V3 K03 2026-06-15 P3: visits 06-20, 07-20, 08-20, 09-25 (campaign CMP1, not registered). Active
  from June. None in October: K03's export is missing (``no_export``).
* V4 K01 2026-01-20 P1: first service 2026-04-25. Active May-Sep, at risk Oct. First-service
  window ends July: due and done.
* V5 K02 2026-02-10 P5: never serviced. Active May-Jul, at risk Aug-Oct. Window ends August: due,
  not done.
* V6 K01 2024-05-01 (owner unknown): lapsed until its visit 2026-09-11 (booked, CMP1-coded, 500),
  then active; another visit 2026-11-01 (booked for 10-31: a show the second run sees).
* V7 K02 2024-06-01 (owner unknown): lapsed until 2026-08-15 (booked), visit 09-20 (CMP1 arrival).

Month-end counts (nation): May 3 active / 1 at risk / 2 lapsed; Jun, Jul 3/2/2; Aug 3/3/1;
Sep 4/3/0; Oct 4/2/1. Retention Oct: V1 and V2 visited 24-13 months before, V1 came back: 1 of 2.

People: P1 (bound and subscribed since 2023), P2 (subscribed 2026-08-01, bound 2026-08-10), P3, P5
(follows by K02's QR code, not bound); a prospect follows in October (no dealer); one follower left.

The reminders mart does not exist on this branch yet: ``REMINDERS`` is its contract's relation
by hand (docs/reminders.md), as the two runs see it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from tests.dbt.fixture_warehouse import create_tables, insert_rows

AS_OF = dt.date(2026, 10, 31)
AS_OF_NEXT = dt.date(2026, 11, 30)
HISTORY_MONTHS = 6
P1, P2, P3, P5 = "OID900000000001", "OID900000000002", "OID900000000003", "OID900000000005"
V1, V2, V3, V4, V5, V6, V7 = (f"LKPIA4180N200000{n}" for n in range(1, 8))

# what the fixture builds pass to dbt besides as_of_date (thresholds small enough for a small story)
DBT_VARS = {
    "kpi_history_months": HISTORY_MONTHS,
    "kpi_alert_min_due": 2,
    "kpi_alert_lapse_spike_min": 1,
}


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _sale(vin, dealer, invoice, owner_hmac):
    return {
        "vin": vin, "vin_check_ok": True, "dealer_code": dealer, "model_code": "M10", "model_name": "华驰 A",
        "invoice_date": d(invoice), "registration_date": d(invoice), "usage": "非营运", "seats": 5,
        "owner_name_masked": "某*", "owner_id_number_hmac": owner_hmac,
        "owner_id_number_status": "valid" if owner_hmac else "missing", "owner_mobile_status": "missing",
    }  # fmt: skip


def _ro(ro_no, vin, dealer, opened, hours, service_type, amount, advisor, campaign_code=None):
    opened_at = ts(opened)
    return {
        "ro_no": ro_no, "dealer_code": dealer, "vin": vin, "vin_check_ok": True, "opened_at": opened_at,
        "closed_at": opened_at + dt.timedelta(hours=hours), "mileage_km": 10000, "service_type": service_type,
        "labor_amount": amount * 0.4, "parts_amount": amount * 0.6, "total_amount": amount,
        "advisor": advisor, "campaign_code": campaign_code,
    }  # fmt: skip


def _booking(booking_id, channel, vin, dealer, scheduled, status, required, feedback_at=None):
    return {
        "booking_id": booking_id, "channel": channel, "vin": vin, "dealer_code": dealer,
        "created_at": ts(scheduled + " 08:00") - dt.timedelta(days=3), "scheduled_date": d(scheduled),
        "service_item": "保养", "status": status, "feedback_required": required,
        "feedback_at": ts(feedback_at) if feedback_at else None, "mobile_status": "missing",
    }  # fmt: skip


def _complaint(no, dealer, channel, category, level, received, deadline_hours, first_contact_hours,
               closed_hours=None, escalated_hours=None, callback_hours=None, satisfaction=None):  # fmt: skip
    at = ts(received)

    def after(hours):
        return at + dt.timedelta(hours=hours) if hours is not None else None

    return {
        "complaint_no": no, "channel": channel, "category": category, "level": level, "dealer_code": dealer,
        "region": None, "vin": V1, "mobile_status": "missing", "received_at": at,
        "deadline_at": after(deadline_hours), "first_contact_at": after(first_contact_hours),
        "closed_at": after(closed_hours), "escalated_at": after(escalated_hours),
        "callback_at": after(callback_hours), "satisfaction": satisfaction,
    }  # fmt: skip


def _rescue(no, received, valid, dealer=None, dispatch_minutes=None, arrival_minutes=None, callback=False):
    at = ts(received)
    return {
        "request_no": no, "received_at": at, "vin": V2, "mobile_status": "missing", "city": "上海",
        "valid": valid, "dispatched_dealer": dealer,
        "dispatched_at": at + dt.timedelta(minutes=dispatch_minutes) if dispatch_minutes else None,
        "arrived_at": at + dt.timedelta(minutes=arrival_minutes) if arrival_minutes else None,
        "completed_at": at + dt.timedelta(minutes=arrival_minutes + 60) if arrival_minutes else None,
        "callback_at": at + dt.timedelta(days=1) if callback else None,
    }  # fmt: skip


def _behavior(userid, day, chats, reply_percentage, avg_reply_minutes, new_contacts=0, messages=0):
    return {
        "userid": userid, "stat_date": d(day), "new_apply_cnt": new_contacts, "new_contact_cnt": new_contacts,
        "chat_cnt": chats, "message_cnt": messages, "reply_percentage": reply_percentage,
        "avg_reply_time": avg_reply_minutes, "negative_feedback_cnt": 0,
    }  # fmt: skip


ROWS: dict[str, list[dict]] = {
    "landing.dealers": [
        {"dealer_code": "K01", "name": "上海浦东店", "region": "华东", "province": "上海", "city": "上海",
         "status": "营业"},
        {"dealer_code": "K02", "name": "杭州西湖店", "region": "华东", "province": "浙江", "city": "杭州",
         "status": "营业"},
        {"dealer_code": "K03", "name": "广州天河店", "region": "华南", "province": "广东", "city": "广州",
         "status": "营业"},
    ],
    "landing.staff": [
        {"staff_id": "S_A", "dealer_code": "K01", "name_masked": "张*", "role": "服务顾问",
         "wecom_userid": "wc_a"},
        {"staff_id": "S_A2", "dealer_code": "K01", "name_masked": "陈*", "role": "DCRC专员",
         "wecom_userid": "wc_a2"},
        {"staff_id": "S_B", "dealer_code": "K02", "name_masked": "李*", "role": "服务顾问",
         "wecom_userid": "wc_b"},
        {"staff_id": "S_C", "dealer_code": "K03", "name_masked": "王*", "role": "服务顾问",
         "wecom_userid": None},
    ],
    "landing.vehicle_sales": [
        _sale(V1, "K01", "2023-01-10", "h_p1"),
        _sale(V2, "K02", "2022-03-01", "h_p2"),
        _sale(V3, "K03", "2026-06-15", "h_p3"),
        _sale(V4, "K01", "2026-01-20", "h_p1"),
        _sale(V5, "K02", "2026-02-10", "h_p5"),
        _sale(V6, "K01", "2024-05-01", None),
        _sale(V7, "K02", "2024-06-01", None),
    ],
    "landing.repair_orders": [
        _ro("RO1", V1, "K01", "2024-12-01 09:00", 2, "定期保养", 600, "S_A"),
        _ro("RO2", V1, "K01", "2025-12-15 09:00", 2, "定期保养", 600, "S_A"),
        # closed on 11-02, after the first cut-off: open in October
        _ro("RO3", V1, "K01", "2026-10-05 09:00", 4 * 24 * 7 + 5, "定期保养", 700, "S_A"),
        _ro("RO4", V2, "K02", "2025-10-20 09:00", 2, "一般维修", 900, "S_B"),
        _ro("RO5", V4, "K01", "2026-04-25 09:00", 2, "首保", 0, "S_A"),
        _ro("RO6", V6, "K01", "2026-09-11 09:00", 3, "服务活动", 500, "S_A", campaign_code="CMP1"),
        _ro("RO7", V7, "K02", "2026-08-15 09:00", 4, "定期保养", 650, "S_B"),
        _ro("RO8", V7, "K02", "2026-09-20 09:00", 26, "一般维修", 800, "S_B"),
        _ro("RO9", V3, "K03", "2026-09-25 09:00", 5, "服务活动", 300, "S_C", campaign_code="CMP1"),
        _ro("RO10", V6, "K01", "2026-11-01 09:00", 2, "定期保养", 600, "S_A"),
        _ro("RO12", V3, "K03", "2026-06-20 09:00", 1, "一般维修", 100, "S_C"),
        _ro("RO13", V3, "K03", "2026-07-20 09:00", 1, "一般维修", 100, "S_C"),
        _ro("RO14", V3, "K03", "2026-08-20 09:00", 1, "一般维修", 100, "S_C"),
    ],
    "landing.bookings": [
        _booking("B1", "微信", V6, "K01", "2026-09-10", "已确认", True, "2026-09-11 10:00"),
        _booking("B2", "微信", V2, "K01", "2026-09-20", "已取消", False),
        _booking("B3", "电话", V1, "K01", "2026-09-25", "已确认", True),
        # the car comes the day after: only the run at 2026-11-30 sees the show
        _booking("B4", "APP", V6, "K01", "2026-10-31", "已确认", False),
        _booking("B5", "电话", V7, "K02", "2026-08-15", "已确认", True, "2026-08-16 10:00"),
    ],
    "landing.campaigns": [
        {"campaign_code": "CMP1", "scope": "全国", "name": "金秋关爱", "start_date": d("2026-09-01"),
         "end_date": d("2026-09-30")},
        {"campaign_code": "CMP2", "scope": "店端", "dealer_code": "K02", "name": "杭州车主节",
         "start_date": d("2026-10-15"), "end_date": d("2026-11-30")},
    ],
    "landing.campaign_participants": [
        # at K01 (the inviter's dealer): came with the campaign code
        {"participant_id": "PA", "campaign_code": "CMP1", "vin": V6, "registered_at": ts("2026-09-02 20:00"),
         "channel": "会话", "invited_by": "S_A", "mobile_status": "missing"},
        # no inviter: at the car's servicing dealer K02; came, not for the campaign
        {"participant_id": "PB", "campaign_code": "CMP1", "vin": V7, "registered_at": ts("2026-09-05 20:00"),
         "channel": "朋友圈", "mobile_status": "missing"},
        {"participant_id": "PC", "campaign_code": "CMP1", "vin": V5, "registered_at": ts("2026-09-08 20:00"),
         "channel": "电话", "invited_by": "S_B", "mobile_status": "missing"},
        {"participant_id": "PD", "campaign_code": "CMP2", "vin": V5, "registered_at": ts("2026-10-16 20:00"),
         "channel": "电话", "invited_by": "S_A", "mobile_status": "missing"},
    ],
    "landing.complaints": [
        # (no, dealer, channel, category, level, received, deadline h, first contact h, closed h, escalated h,
        #  callback h, satisfaction)
        _complaint("C1", "K01", "热线", "服务", "一般", "2026-10-02 09:00", 72, 3, 48, None, 72, 5),
        _complaint("C2", "K01", "微信", "品质", "升级", "2026-10-02 15:00", 48, 29, 96, 20, 120, 2),
        _complaint("C3", "K02", "热线", "品质", "一般", "2026-10-20 10:00", 72, 1),
        _complaint("C4", "K03", "媒体", "服务", "重大", "2026-09-28 10:00", 24, 2, 288, 3),
        _complaint("C5", None, "其他", "其他", "一般", "2026-10-15 10:00", 72, 1, 10),
    ],
    "landing.rescues": [
        _rescue("R1", "2026-10-05 08:00", True, "K01", 10, 40, callback=True),
        _rescue("R2", "2026-10-05 20:00", True, "K01", 30, 110),
        _rescue("R3", "2026-10-07 12:00", False),
    ],
    "landing.wechat_bindings": [
        {"binding_id": "BD1", "openid": "oa_p1", "vin_last8": V1[-8:], "id_number_hmac": "h_p1",
         "id_number_status": "valid", "mobile_status": "missing", "bound_at": ts("2023-02-01 10:00"),
         "status": "有效"},
        {"binding_id": "BD2", "openid": "oa_p2", "vin_last8": V2[-8:], "id_number_hmac": "h_p2",
         "id_number_status": "valid", "mobile_status": "missing", "bound_at": ts("2026-08-10 10:00"),
         "status": "有效"},
    ],
    "wechat.oa_followers": [
        {"openid": "oa_p1", "subscribe": True, "subscribe_time": ts("2023-02-01 09:00"),
         "subscribe_scene": "ADD_SCENE_QR_CODE", "qr_scene_str": "dealer_K01"},
        {"openid": "oa_p2", "subscribe": True, "subscribe_time": ts("2026-08-01 09:00"),
         "subscribe_scene": "ADD_SCENE_SEARCH"},
        {"openid": "oa_p5", "subscribe": True, "subscribe_time": ts("2026-03-05 09:00"),
         "subscribe_scene": "ADD_SCENE_QR_CODE", "qr_scene_str": "dealer_K02"},
        {"openid": "oa_gone", "subscribe": False, "subscribe_time": ts("2025-01-01 09:00"),
         "subscribe_scene": "ADD_SCENE_SEARCH"},
        {"openid": "oa_prospect", "subscribe": True, "subscribe_time": ts("2026-10-10 09:00"),
         "subscribe_scene": "ADD_SCENE_SEARCH"},
    ],
    "wechat.wecom_behavior_daily": [
        _behavior("wc_a", "2026-09-15", 4, 50.0, 10.0),
        _behavior("wc_a", "2026-10-01", 10, 80.0, 5.0, new_contacts=2, messages=30),
        _behavior("wc_a", "2026-10-02", 0, 0.0, 0.0),
        _behavior("wc_a2", "2026-10-01", 20, 50.0, 3.0, messages=40),
        _behavior("wc_b", "2026-10-03", 5, 100.0, 2.0, new_contacts=1, messages=12),
        _behavior("wc_c", "2026-10-05", 2, 0.0, 0.0, messages=2),
    ],
    "wechat.wecom_groupmsg_results": [
        {"msgid": "m1", "userid": "wc_a", "external_userid": "ext1", "status": 1,
         "send_time": ts("2026-10-10 10:00")},
        {"msgid": "m1", "userid": "wc_a", "external_userid": "ext2", "status": 1,
         "send_time": ts("2026-10-10 10:00")},
        {"msgid": "m1", "userid": "wc_a", "external_userid": "ext3", "status": 2, "send_time": None},
        {"msgid": "m2", "userid": "wc_a", "external_userid": "ext1", "status": 1,
         "send_time": ts("2026-10-20 10:00")},
        {"msgid": "m3", "userid": "wc_b", "external_userid": "ext4", "status": 1,
         "send_time": ts("2026-09-05 10:00")},
    ],
    "identity.oneid_map": [
        {"identifier_type": t, "identifier_key": k, "oneid": o}
        for t, k, o in [
            ("id_number", "h_p1", P1), ("oa_openid", "oa_p1", P1),
            ("id_number", "h_p2", P2), ("oa_openid", "oa_p2", P2),
            ("id_number", "h_p3", P3),
            ("id_number", "h_p5", P5), ("oa_openid", "oa_p5", P5),
        ]
    ],
}  # fmt: skip


def _task(month, task_id, dealer, reminder_type, carried=False, tracked=False, reached=False, contacted=None,
          returned=False, same_dealer=None, closed_reason=None, carry_outcome=None):  # fmt: skip
    return {
        "month": d(month), "task_id": task_id, "dealer_code": dealer, "reminder_type": reminder_type,
        "is_carried_over": carried, "carry_months": 1 if carried else 0, "tracked": tracked,
        "reached": reached, "contacted": tracked if contacted is None else contacted, "returned": returned,
        "returned_same_dealer": same_dealer if returned else None, "closed_reason": closed_reason,
        "carry_outcome": carry_outcome,
    }  # fmt: skip


# K01 returned and tracked every task in Jun-Aug (the baseline of the rate warnings)
_EARLIER = [
    _task(month, f"E{month[5:7]}{n}", "K01", "maintenance", tracked=True, reached=True, returned=True,
          same_dealer=True, carry_outcome="done")
    for month in ("2026-06-01", "2026-07-01", "2026-08-01")
    for n in (1, 2)
]  # fmt: skip

_SEPTEMBER = [
    _task("2026-09-01", "T1", "K01", "maintenance", tracked=True, reached=True, returned=True,
          same_dealer=True, carry_outcome="done"),
    _task("2026-09-01", "T2", "K01", "maintenance", tracked=True, carry_outcome="carried"),
    # returned to another dealer without anybody contacting it: a natural return
    _task("2026-09-01", "T3", "K01", "first_maintenance", returned=True, same_dealer=False,
          carry_outcome="done"),
    _task("2026-09-01", "T4", "K01", "insurance", closed_reason="sold", carry_outcome="closed"),
    # a WeChat delivery: contacted and reached, not tracked by phone
    _task("2026-09-01", "T5", "K02", "birthday", reached=True, contacted=True, carry_outcome="window_passed"),
]  # fmt: skip

# what the mart says at each cut-off: T2 comes back on 2026-11-05, inside October's return grace
REMINDERS = {
    AS_OF: [
        *_EARLIER, *_SEPTEMBER,
        _task("2026-10-01", "T2", "K01", "maintenance", carried=True, tracked=True, reached=True),
        _task("2026-10-01", "T6", "K02", "maintenance"),
        # the list for the month being prepared: no KPIs yet
        _task("2026-11-01", "T7", "K02", "warranty"),
    ],
    AS_OF_NEXT: [
        *_EARLIER, *_SEPTEMBER,
        _task("2026-10-01", "T2", "K01", "maintenance", carried=True, tracked=True, reached=True,
              returned=True, same_dealer=True, carry_outcome="done"),
        _task("2026-10-01", "T6", "K02", "maintenance", carry_outcome="carried"),
        _task("2026-11-01", "T6", "K02", "maintenance", carried=True),
        _task("2026-11-01", "T7", "K02", "warranty", tracked=True),
    ],
}  # fmt: skip

REMINDERS_COLUMNS = {
    "month": "DATE", "task_id": "VARCHAR", "dealer_code": "VARCHAR", "reminder_type": "VARCHAR",
    "is_carried_over": "BOOLEAN", "carry_months": "INTEGER", "tracked": "BOOLEAN", "reached": "BOOLEAN",
    "contacted": "BOOLEAN", "returned": "BOOLEAN", "returned_same_dealer": "BOOLEAN",
    "closed_reason": "VARCHAR", "carry_outcome": "VARCHAR",
}  # fmt: skip


def build_kpi_fixture_warehouse(path: Path, as_of: dt.date) -> Path:
    """Write the story above, as the run at ``as_of`` sees it, to a fresh DuckDB file."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        create_tables(con)
        for relation, rows in ROWS.items():
            insert_rows(con, relation, rows)
        con.execute("create schema fixture")
        ddl = ", ".join(f"{c} {t}" for c, t in REMINDERS_COLUMNS.items())
        con.execute(f"create table fixture.reminders ({ddl})")
        insert_rows(con, "fixture.reminders", REMINDERS[as_of])
    finally:
        con.close()
    return path
