"""A hand-made warehouse for month-to-month reminder chains (docs/reminders.md), in the contract's
shape (fixture_warehouse.create_tables), built month after month by tests/dbt/test_reminder_chain.py.

The runs prepare 2026-09 (the chain's first list), 2026-10, 2026-11 and 2026-12, each as of the
last day of the month before, with two rule parameters set off their defaults (RULE_VARS: a task
carries at most twice, maintenance is generated up to two months late) so that four months show
every stop. All dealers' files are in the warehouse from the start: every model filters events to
the run's cut-off, which is what the story checks too. The vehicles, one rule each (owners are
phone-only and the dealer is D001 unless said otherwise):

* V_MAX   — serviced by D002, whose campaign CAMP_OPEN (no end date) it never joins: a campaign task
            new in 2026-09, carried twice, stopped by max_carry_months before 2026-12.
* V_WIN   — maintenance due 2026-09-10 (the RO's next date): window 2026-09..11, new in 2026-09,
            carried to 2026-11, stopped because its validity ends on 2026-11-30.
* V_WX    — Wang (bound, subscribed: wechat), maintenance due 2026-10-15: a send delivered
            (success), a DCRC call that did not connect (tracked), a maintenance RO on 2026-10-20:
            done in 2026-10.
* V_LOST  — Li (wechat), maintenance due 2026-10-12: the send's reply was lost (unsettled), never
            tracked: carried.
* V_CLOSE — maintenance due 2026-10-14, closed by a manager on 2026-10-15 (moved): not carried.
* V_REOPEN— due 2026-10-16, closed 2026-10-10 (wrong number), reopened 2026-10-20: carried.
* V_NAT   — due 2026-10-18, never called, came in at D003 on 2026-11-05 (in October's return grace):
            carried into 2026-11 (the run at 2026-10-31 cannot know); October's row then turns
            returned (another dealer) when it becomes final; November's row is returned but not
            reached: carried again (a phone task needs both).
* V_CALL  — due 2026-10-20, a connected 45 s call and a maintenance RO on 2026-10-25: done.
* V_RESALE— bought by Bob at D001 on 2026-07-05: first maintenance due 2026-10-05; resold to
            Carol at D003 on 2026-10-20: the task carried into 2026-11 is Carol's and stays D001's.
* V_ANON  — its owner gave no ID number and no mobile (no OneID): first maintenance due
            2026-09-10, listed on the phone channel with no oneid.
* V_OLD15 — owner with a 15-digit ID number (born 1965-10-12): birthday task in 2026-10.
* V_NEW18 — owner with an 18-digit ID number (born 1949-12-31): birthday task in 2026-12.
* V_WAR   — invoiced 2023-10-15: warranty ends 2026-10-15, generated in 2026-09, carried into
            2026-10 (its due month), then its validity ends; the insurance anniversary likewise.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb

from sources.exports.personal import PersonalData
from sources.pii import PiiVault
from tests.dbt.fixture_warehouse import _ro, _sale, create_tables, insert_rows

MONTHS = ["2026-09", "2026-10", "2026-11", "2026-12"]
RULE_VARS = {"max_carry_months": 2, "maintenance_grace_months": 2}

V_MAX, V_WIN, V_WX, V_LOST, V_CLOSE, V_REOPEN, V_NAT, V_CALL, V_RESALE, V_ANON, V_OLD15, V_NEW18, V_WAR = (
    f"LSVRM4180P{n:07d}" for n in range(1, 14)
)

_VAULT = PiiVault(b"reminder-story-key")
_PERSONAL = PersonalData(_VAULT)
# the two ID numbers the birthday rule is read from, as ingestion derives them (tests only)
ID15 = "110105651012001"  # 1965-10-12, upgraded to 18 characters by ingestion
ID18 = "11010519491231002X"  # 1949-12-31


def task_id(vin: str, reminder_type: str, cycle: str) -> str:
    """docs/reminders.md "The task": md5(vin|reminder_type|cycle), first 16 hex characters."""
    return hashlib.md5(f"{vin}|{reminder_type}|{cycle}".encode()).hexdigest()[:16]


def _owner(oneid_key: str) -> dict:
    """Sale columns of an owner known by an ID-number HMAC and a mobile HMAC (no birth date)."""
    return {
        "owner_id_number_hmac": f"h_id_{oneid_key}", "owner_id_number_status": "valid",
        "owner_id_number_birth_date": None, "owner_mobile_hmac": f"h_mob_{oneid_key}",
        "owner_mobile_status": "valid", "owner_mobile_masked": "138****0000",
        "owner_name_masked": "某*",
    }  # fmt: skip


def _id_owner(raw_id: str) -> dict:
    """Sale columns of an owner identified by a raw ID number, derived as ingestion derives them."""
    hmac, status, birth, gender, province, masked = _PERSONAL.id_number(raw_id)
    return {
        "owner_id_number_hmac": hmac, "owner_id_number_status": status,
        "owner_id_number_birth_date": birth, "owner_id_number_gender": gender,
        "owner_id_number_province_code": province, "owner_id_number_masked": masked,
        "owner_mobile_hmac": None, "owner_mobile_status": "missing", "owner_mobile_masked": None,
    }  # fmt: skip


def sale(vin: str, dealer: str, invoice: dt.date, owner: dict, **extra) -> dict:
    return _sale(vin, dealer, invoice, None, **owner, **extra)


ONEIDS = {
    key: f"OID_{key.upper()}" for key in ("wang", "li", "bob", "carol", *(f"zhao{n}" for n in range(1, 8)))
}
ID15_HMAC = _PERSONAL.id_number(ID15)[0]
ID18_HMAC = _PERSONAL.id_number(ID18)[0]

ROWS: dict[str, list[dict]] = {
    "landing.dealers": [
        {"dealer_code": "D001", "name": "上海一店", "region": "华东", "province": "上海", "city": "上海",
         "status": "营业"},
        {"dealer_code": "D002", "name": "广州二店", "region": "华南", "province": "广东", "city": "广州",
         "status": "营业"},
        {"dealer_code": "D003", "name": "深圳三店", "region": "华南", "province": "广东", "city": "深圳",
         "status": "营业"},
    ],
    "landing.vehicle_sales": [
        sale(V_MAX, "D002", dt.date(2025, 5, 1), _owner("zhao1")),
        sale(V_WIN, "D001", dt.date(2024, 1, 20), _owner("zhao2")),
        sale(V_WX, "D001", dt.date(2025, 4, 10), _owner("wang")),
        sale(V_LOST, "D001", dt.date(2025, 4, 12), _owner("li")),
        sale(V_CLOSE, "D001", dt.date(2025, 4, 14), _owner("zhao3")),
        sale(V_REOPEN, "D001", dt.date(2025, 4, 16), _owner("zhao4")),
        sale(V_NAT, "D001", dt.date(2025, 4, 18), _owner("zhao5")),
        sale(V_CALL, "D001", dt.date(2025, 4, 20), _owner("zhao6")),
        sale(V_RESALE, "D001", dt.date(2026, 7, 5), _owner("bob")),
        sale(V_RESALE, "D003", dt.date(2026, 10, 20), _owner("carol")),
        sale(V_ANON, "D001", dt.date(2026, 6, 10), {
            "owner_id_number_hmac": None, "owner_id_number_status": "missing", "owner_mobile_hmac": None,
            "owner_mobile_status": "missing", "owner_mobile_masked": None,
        }),
        sale(V_OLD15, "D001", dt.date(2022, 3, 3), _id_owner(ID15)),
        sale(V_NEW18, "D003", dt.date(2022, 3, 4), _id_owner(ID18)),
        sale(V_WAR, "D001", dt.date(2023, 10, 15), _owner("zhao7")),
    ],
    "landing.repair_orders": [
        _ro("RO-WIN1", V_WIN, "D001", "2026-03-05 09:00", "定期保养", 600, 20000,
            next_maintenance_date=dt.date(2026, 9, 10)),
        _ro("RO-WX1", V_WX, "D001", "2025-07-10 09:00", "首保", 300, 5000,
            next_maintenance_date=dt.date(2026, 10, 15)),
        _ro("RO-WX2", V_WX, "D001", "2026-10-20 09:00", "定期保养", 700, 15000),
        _ro("RO-LOST1", V_LOST, "D001", "2025-07-12 09:00", "首保", 300, 5000,
            next_maintenance_date=dt.date(2026, 10, 12)),
        _ro("RO-CLOSE1", V_CLOSE, "D001", "2025-07-14 09:00", "首保", 300, 5000,
            next_maintenance_date=dt.date(2026, 10, 14)),
        _ro("RO-REOPEN1", V_REOPEN, "D001", "2025-07-16 09:00", "首保", 300, 5000,
            next_maintenance_date=dt.date(2026, 10, 16)),
        _ro("RO-NAT1", V_NAT, "D001", "2025-07-18 09:00", "首保", 300, 5000,
            next_maintenance_date=dt.date(2026, 10, 18)),
        _ro("RO-NAT2", V_NAT, "D003", "2026-11-05 09:00", "定期保养", 700, 15000),
        _ro("RO-CALL1", V_CALL, "D001", "2025-07-20 09:00", "首保", 300, 5000,
            next_maintenance_date=dt.date(2026, 10, 20)),
        _ro("RO-CALL2", V_CALL, "D001", "2026-10-25 09:00", "定期保养", 700, 15000),
    ],
    "landing.campaigns": [
        {"campaign_code": "CAMP_OPEN", "scope": "店端", "dealer_code": "D002", "name": "常年关爱",
         "start_date": dt.date(2026, 8, 1), "end_date": None, "target_models": None},
    ],
    "landing.reminder_calls": [
        {"call_id": "CL1", "dealer_code": "D001", "vin": V_WX, "reminder_type": "保养",
         "reminder_month": dt.date(2026, 10, 1), "called_at": dt.datetime(2026, 10, 8, 10),
         "result": "无人接听", "duration_s": 0, "agent": "S1"},
        {"call_id": "CL2", "dealer_code": "D001", "vin": V_CALL, "reminder_type": "保养",
         "reminder_month": dt.date(2026, 10, 1), "called_at": dt.datetime(2026, 10, 8, 11), "result": "接通",
         "duration_s": 45, "agent": "S1"},
    ],
    "landing.wechat_bindings": [
        {"binding_id": f"BD_{who}", "openid": f"oa_{who}", "unionid": f"un_{who}", "vin_last8": vin[-8:],
         "id_number_hmac": f"h_id_{who}", "id_number_status": "valid", "mobile_hmac": f"h_mob_{who}",
         "mobile_status": "valid", "mobile_masked": "138****0000", "bound_at": dt.datetime(2025, 5, 1, 12),
         "status": "有效"}
        for who, vin in (("wang", V_WX), ("li", V_LOST))
    ],
    "wechat.oa_followers": [
        {"openid": f"oa_{who}", "unionid": f"un_{who}", "subscribe": True, "subscribe_time": dt.datetime(2025,
                                                                                                         4,
                                                                                                         20),
         "subscribe_scene": "ADD_SCENE_QR_CODE", "qr_scene_str": "dealer_D001",
         "fetched_at": dt.datetime(2026, 9, 30)}
        for who in ("wang", "li")
    ],
    "wechat.template_send_results": [
        {"task_id": task_id(V_WX, "maintenance", "2026-10"), "month": "2026-10", "openid": "oa_wang",
         "msgid": "200001", "sent_at": dt.datetime(2026, 9, 30, 20), "wechat_status": "success"},
        {"task_id": task_id(V_LOST, "maintenance", "2026-10"), "month": "2026-10", "openid": "oa_li",
         "msgid": None, "sent_at": dt.datetime(2026, 9, 30, 20), "wechat_status": "unsettled"},
    ],
    "decisions.task_decisions": [
        {"decision_id": 1, "task_id": task_id(V_CLOSE, "maintenance", "2026-10"), "action": "close",
         "reason": "moved", "decided_by": "wang.li", "decided_at": dt.datetime(2026, 10, 15, 10),
         "dealer_code": "D001", "month": "2026-10"},
        {"decision_id": 2, "task_id": task_id(V_REOPEN, "maintenance", "2026-10"), "action": "close",
         "reason": "wrong_number", "decided_by": "wang.li", "decided_at": dt.datetime(2026, 10, 10, 10),
         "dealer_code": "D001", "month": "2026-10"},
        {"decision_id": 3, "task_id": task_id(V_REOPEN, "maintenance", "2026-10"), "action": "reopen",
         "reason": None, "decided_by": "wang.li", "decided_at": dt.datetime(2026, 10, 20, 10),
         "dealer_code": "D001", "month": "2026-10"},
    ],
    "identity.oneid_map": [
        *({"identifier_type": t, "identifier_key": f"{prefix}{key}", "oneid": oneid}
          for key, oneid in ONEIDS.items() for t, prefix in (("id_number", "h_id_"), ("mobile", "h_mob_"))),
        *({"identifier_type": t, "identifier_key": f"{prefix}{key}", "oneid": ONEIDS[key]}
          for key in ("wang", "li") for t, prefix in (("oa_openid", "oa_"), ("unionid", "un_"))),
        {"identifier_type": "id_number", "identifier_key": ID15_HMAC, "oneid": "OID_OLD15"},
        {"identifier_type": "id_number", "identifier_key": ID18_HMAC, "oneid": "OID_NEW18"},
    ],
}  # fmt: skip


def build_reminder_story(path: Path) -> Path:
    """Write the story above to a fresh DuckDB file at ``path``."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        create_tables(con)
        for relation, rows in ROWS.items():
            insert_rows(con, relation, rows)
    finally:
        con.close()
    return path
