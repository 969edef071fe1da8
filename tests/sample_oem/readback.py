"""Read the generated export files back the way a dealer-side reader must: any encoding, either
delimiter, xlsx with title rows, English or Chinese headers. Independent of the generator's code
(only the alias list below, copied from SOURCES.md)."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import unicodedata
from pathlib import Path

import openpyxl

# table -> {english column: [Chinese aliases]} (SOURCES.md); columns without an alias are English only
ALIASES: dict[str, dict[str, list[str]]] = {
    "vehicle_sales": {
        "vin": ["车架号", "VIN码", "底盘号"],
        "dealer_code": ["经销商代码"],
        "model_code": ["车型代码"],
        "model_name": ["车型名称"],
        "invoice_date": ["开票日期"],
        "registration_date": ["上牌日期", "注册登记日期"],
        "usage": ["使用性质"],
        "seats": ["座位数"],
        "owner_name": ["车主姓名", "客户姓名"],
        "owner_id_number": ["证件号码", "身份证号"],
        "owner_mobile": ["手机号码", "联系电话"],
        "sales_consultant": ["销售顾问"],
    },
    "wechat_bindings": {
        "binding_id": ["绑定编号"],
        "openid": ["OpenID"],
        "unionid": ["UnionID"],
        "vin_last8": ["底盘号后8位", "VIN后8位"],
        "id_number": ["证件号码"],
        "mobile": ["手机号码"],
        "bound_at": ["注册时间", "绑定时间"],
        "status": ["状态"],
    },
    "bookings": {
        "booking_id": ["预约单号"],
        "channel": ["预约渠道"],
        "openid": ["OpenID"],
        "mobile": ["联系电话"],
        "vin": ["车架号"],
        "dealer_code": ["经销商代码"],
        "created_at": ["创建时间"],
        "scheduled_date": ["预约日期"],
        "service_item": ["预约项目"],
        "status": ["预约状态"],
        "feedback_required": ["需电话反馈"],
        "feedback_at": ["电话反馈时间"],
        "feedback_result": ["反馈结果"],
    },
    "repair_orders": {
        "ro_no": ["工单号"],
        "dealer_code": ["经销商代码"],
        "vin": ["车架号"],
        "opened_at": ["进厂时间"],
        "closed_at": ["结算时间"],
        "mileage_km": ["行驶里程"],
        "service_type": ["维修类型"],
        "labor_amount": ["工时费"],
        "parts_amount": ["材料费"],
        "total_amount": ["结算金额"],
        "next_maintenance_date": ["预计下次保养日期"],
        "next_maintenance_km": ["下次保养里程"],
        "warranty_expiry_date": ["强保到期日", "质保到期日"],
        "next_inspection_date": ["下次年检日期"],
        "advisor": ["服务顾问"],
        "sender_name": ["送修人"],
        "sender_mobile": ["送修人电话"],
        "campaign_code": ["活动代码"],
    },
    "campaigns": {
        "campaign_code": [],
        "scope": ["活动范围"],
        "dealer_code": [],
        "name": ["活动名称"],
        "start_date": ["开始日期"],
        "end_date": ["结束日期"],
        "target_models": ["目标车型"],
        "target_purchase_from": [],
        "target_purchase_to": [],
    },
    "campaign_participants": {
        "participant_id": [],
        "campaign_code": [],
        "vin": [],
        "mobile": [],
        "openid": [],
        "registered_at": ["报名时间"],
        "channel": ["渠道"],
        "invited_by": ["邀约人"],
    },
    "reminder_calls": {
        "call_id": [],
        "dealer_code": [],
        "vin": [],
        "reminder_type": ["提醒类型"],
        "reminder_month": ["提醒月份"],
        "called_at": ["通话时间"],
        "result": ["结果"],
        "duration_s": ["通话时长"],
        "agent": ["专员"],
    },
    "complaints": {
        "complaint_no": [],
        "channel": ["渠道"],
        "category": ["类别"],
        "level": ["级别"],
        "dealer_code": [],
        "region": [],
        "vin": [],
        "mobile": [],
        "received_at": ["受理时间"],
        "deadline_at": ["时限"],
        "first_contact_at": [],
        "closed_at": ["关闭时间"],
        "close_reason": [],
        "escalated_at": [],
        "vrt": ["VRT启动"],
        "callback_at": ["回访时间"],
        "satisfaction": ["满意度"],
    },
    "rescues": {
        "request_no": [],
        "received_at": [],
        "vin": [],
        "mobile": [],
        "city": [],
        "valid": ["有效"],
        "dispatched_dealer": [],
        "dispatched_at": [],
        "arrived_at": [],
        "completed_at": [],
        "callback_at": [],
    },
    "dealers": {
        "dealer_code": [],
        "name": ["经销商名称"],
        "region": ["大区"],
        "province": ["省份"],
        "city": ["城市"],
        "status": ["状态"],
    },
    "staff": {
        "staff_id": [],
        "dealer_code": [],
        "name": [],
        "role": ["岗位"],
        "mobile": ["手机号码"],
        "wecom_userid": [],
    },
}
TABLE_NAMES = sorted(ALIASES, key=len, reverse=True)


def table_of(path: Path) -> str:
    return next(t for t in TABLE_NAMES if path.name.startswith(t))


def canonical(table: str, header: str) -> str | None:
    h = unicodedata.normalize("NFKC", str(header)).strip()
    for col, aliases in ALIASES[table].items():
        if h == col or h in aliases:
            return col
    return None


def detect_encoding(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


@functools.cache
def read_export(path: Path) -> tuple[list[str | None], list[list]]:
    """(canonical column per position or None for unknown columns, data rows). Cached: treat as read-only."""
    table = table_of(path)
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
        wb.close()
    else:
        data = path.read_bytes()
        text = data.decode(detect_encoding(data))
        delimiter = "\t" if "\t" in text.splitlines()[0] else ","
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    for i, row in enumerate(rows[:6]):
        cols = [canonical(table, c) if c is not None else None for c in row]
        if sum(c is not None for c in cols) >= 2:
            return cols, [r for r in rows[i + 1 :]]
    raise AssertionError(f"{path}: no header row found in the first 6 rows")


def column_values(path: Path, column: str) -> list:
    cols, rows = read_export(path)
    if column not in cols:
        return []
    i = cols.index(column)
    return [r[i] if i < len(r) else None for r in rows]


def parse_date(value) -> dt.date | None:
    """Any date form of SOURCES.md (or None when empty or impossible)."""

    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float):
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
    text = unicodedata.normalize("NFKC", str(value)).strip()
    m = re.match(r"^(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?", text) or re.match(
        r"^(\d{4})(\d{2})(\d{2})$", text
    )
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
