"""Chinese (and English) names for every code the published tables carry.

The marts keep English codes: staging maps the exports' Chinese values to them through the seed
``dbt_project/seeds/enumerations.csv``, whose names are read here (``sources.enumerations``); the
names of codes that only the dashboard shows stay in this module. No chart axis, legend or table
cell of the dashboard shows a raw code such as ``at_risk`` or ``M``: pages pass category columns
through ``label_column`` (or ``label``) first. An unknown code is shown as it is, so a new value is
visible rather than hidden.
"""

from __future__ import annotations

import polars as pl

from dashboards.i18n import lang
from sources.decisions import close_reasons
from sources.enumerations import Labels, labels

LAPSE_STATUS: Labels = {
    "active": ("活跃", "Active"),
    "at_risk": ("流失风险", "At risk"),
    "lapsed": ("已流失", "Lapsed"),
    "no_history": ("无记录", "No history"),
}
VALUE_SEGMENT: Labels = {
    "A": ("A 高价值", "A high value"),
    "B": ("B 核心", "B core"),
    "C": ("C 偶尔", "C occasional"),
    "D": ("D 沉睡", "D dormant"),
}
GENDER: Labels = {"M": ("男", "Male"), "F": ("女", "Female")}
AGE_BAND: Labels = {
    "under_25": ("25岁以下", "Under 25"),
    "25_34": ("25-34岁", "25-34"),
    "35_44": ("35-44岁", "35-44"),
    "45_54": ("45-54岁", "45-54"),
    "55_64": ("55-64岁", "55-64"),
    "65_plus": ("65岁及以上", "65 and over"),
}
REMINDER_TYPE: Labels = {**labels("reminder_type"), "all": ("全部类型", "All types")}
CHANNEL: Labels = labels("reminder_channel")
WECHAT_STATUS: Labels = labels("wechat_status")
CARRY_OUTCOME: Labels = labels("carry_outcome")
SERVICE_TYPE: Labels = {**labels("service_type"), "all": ("全部", "All")}
BOOKING_CHANNEL: Labels = {**labels("booking_channel"), "all": ("全部渠道", "All channels")}
COMPLAINT_CHANNEL: Labels = {**labels("complaint_channel"), "all": ("全部", "All")}
COMPLAINT_CATEGORY: Labels = {**labels("complaint_category"), "all": ("全部", "All")}
COMPLAINT_LEVEL: Labels = {**labels("complaint_level"), "all": ("全部", "All")}
CAMPAIGN_SCOPE: Labels = labels("campaign_scope")
STAFF_ROLE: Labels = labels("staff_role")
LEVEL: Labels = {
    "nation": ("全国", "Nation"),
    "region": ("大区", "Region"),
    "dealer": ("经销商", "Dealer"),
    "consultant": ("顾问", "Consultant"),
}
IDENTIFIER_TYPE: Labels = {
    "unionid": ("微信UnionID", "WeChat UnionID"),
    "oa_openid": ("公众号OpenID", "Official Account OpenID"),
    "wecom_external_userid": ("企业微信外部联系人", "WeCom external contact"),
    "mobile": ("手机号", "Mobile"),
    "id_number": ("身份证号", "ID number"),
}
SOURCE: Labels = {
    "dms": ("DMS 销售系统", "DMS"),
    "csc": ("CSC 售后系统", "CSC"),
    "master": ("主数据", "Master data"),
}
TABLE: Labels = {
    "vehicle_sales": ("车辆销售", "Vehicle sales"),
    "wechat_bindings": ("微信绑定", "WeChat bindings"),
    "bookings": ("预约", "Bookings"),
    "repair_orders": ("维修工单", "Repair orders"),
    "campaigns": ("服务活动", "Campaigns"),
    "campaign_participants": ("活动报名", "Campaign participants"),
    "reminder_calls": ("提醒外呼", "Reminder calls"),
    "complaints": ("投诉", "Complaints"),
    "rescues": ("救援", "Rescues"),
    "dealers": ("经销商", "Dealers"),
    "staff": ("员工", "Staff"),
}
FILE_STATUS: Labels = {
    "ingested": ("已导入", "Ingested"),
    "failed": ("导入失败", "Failed"),
    "skipped": ("已跳过", "Skipped"),
    "unchanged": ("未变化", "Unchanged"),
}
# quarantine reasons are "<reason>: <column>"; the reason part gets a name, the column stays
QUARANTINE_REASON: Labels = {
    "missing key": ("缺少主键", "Missing key"),
    "missing required value": ("缺少必填值", "Missing required value"),
    "impossible or unreadable date": ("日期无效或无法识别", "Impossible or unreadable date"),
    "unreadable amount": ("金额无法识别", "Unreadable amount"),
    "unreadable whole number": ("整数无法识别", "Unreadable whole number"),
    "unreadable yes/no value": ("是/否值无法识别", "Unreadable yes/no value"),
    "malformed VIN (17 characters, no I/O/Q)": ("车架号格式错误(17位,不含I/O/Q)", "Malformed VIN"),
    "unknown dealer code": ("经销商代码不存在", "Unknown dealer code"),
    "ID number fails its checksum and is the row's only person identifier": (
        "身份证号校验失败且无其他客户标识",
        "ID number fails its checksum (only identifier)",
    ),
}
ALERT_CODE: Labels = {
    "complaint_overdue": ("投诉超期未结", "Complaints overdue"),
    "return_rate_drop": ("回厂率下滑", "Return rate drop"),
    "completion_rate_drop": ("提醒完成率下滑", "Completion rate drop"),
    "lapse_spike": ("流失激增", "Lapse spike"),
    "no_export": ("未收到数据导出", "No export received"),
}
YES_NO: Labels = {"true": ("是", "Yes"), "false": ("否", "No")}


# the columns of customer_360 and vehicles as the look-up shows them
FIELDS: Labels = {
    "oneid": ("OneID", "OneID"),
    "name_masked": ("姓名(掩码)", "Name (masked)"),
    "mobile_masked": ("手机(掩码)", "Mobile (masked)"),
    "birth_month": ("出生月份", "Birth month"),
    "gender": ("性别", "Gender"),
    "age_band": ("年龄段", "Age band"),
    "province_code": ("省份代码", "Province code"),
    "province_name": ("省份", "Province"),
    "vehicles_owned_now": ("现有车辆数", "Vehicles owned now"),
    "vehicles_owned_before": ("曾有车辆数", "Vehicles owned before"),
    "current_vins": ("现有车架号", "Current VINs"),
    "last_purchase_date": ("最近购车日期", "Last purchase"),
    "selling_dealer_code": ("销售经销商", "Selling dealer"),
    "servicing_dealer_code": ("服务经销商", "Servicing dealer"),
    "is_wechat_follower": ("公众号粉丝", "WeChat follower"),
    "is_wechat_subscribed": ("当前关注公众号", "Subscribed"),
    "is_wechat_bound": ("已绑定公众号", "WeChat-bound"),
    "wecom_consultant_userid": ("企业微信顾问", "WeCom consultant"),
    "wecom_consultant_dealer_code": ("顾问所属经销商", "Consultant's dealer"),
    "wecom_consultants": ("企业微信顾问数", "WeCom consultants"),
    "visits_12m": ("近12个月进厂次数", "Visits, 12 months"),
    "visits_24m": ("近24个月进厂次数", "Visits, 24 months"),
    "visits_lifetime": ("累计进厂次数", "Visits, lifetime"),
    "revenue_12m": ("近12个月产值(元)", "Revenue, 12 months (CNY)"),
    "revenue_24m": ("近24个月产值(元)", "Revenue, 24 months (CNY)"),
    "lifetime_value": ("累计产值(元)", "Lifetime value (CNY)"),
    "first_visit_date": ("首次进厂日期", "First visit"),
    "last_visit_date": ("最近进厂日期", "Last visit"),
    "last_visit_dealer_code": ("最近进厂经销商", "Last visit dealer"),
    "next_maintenance_due_date": ("下次保养日期", "Next maintenance"),
    "next_warranty_expiry_date": ("质保到期日期", "Warranty expiry"),
    "next_insurance_due_date": ("保险到期日期", "Insurance due"),
    "next_inspection_due_date": ("年审到期日期", "Inspection due"),
    "open_complaints": ("未结投诉", "Open complaints"),
    "complaints_lifetime": ("累计投诉", "Complaints, lifetime"),
    "campaigns_joined": ("参加活动数", "Campaigns joined"),
    "campaign_codes": ("参加的活动", "Campaigns"),
    "lapse_status": ("流失状态", "Lapse status"),
    "is_active_12m": ("12个月内活跃", "Active in 12 months"),
    "recency_score": ("最近进厂得分", "Recency score"),
    "frequency_score": ("进厂频次得分", "Frequency score"),
    "monetary_score": ("产值得分", "Monetary score"),
    "rfm_score": ("RFM 总分", "RFM score"),
    "value_segment": ("客户分级", "Value segment"),
    "vin": ("车架号", "VIN"),
    "model_name": ("车型", "Model"),
    "first_invoice_date": ("首次开票日期", "First invoice"),
    "estimated_mileage_km": ("估算里程(公里)", "Estimated mileage (km)"),
}
# columns whose values are codes, with their names
VALUE_LABELS: dict[str, Labels] = {
    "gender": GENDER,
    "age_band": AGE_BAND,
    "lapse_status": LAPSE_STATUS,
    "value_segment": VALUE_SEGMENT,
}


def field_name(column: str) -> str:
    return label(FIELDS, column)


def field_value(column: str, value) -> str:
    """One value of a record as a person reads it: named codes, 是/否, dates without a time."""
    if value is None:
        return "—"
    if column in VALUE_LABELS:
        return label(VALUE_LABELS[column], value)
    if isinstance(value, bool):
        return label(YES_NO, str(value).lower())
    return str(value)


def close_reason_labels() -> Labels:
    return {r.code: (r.label_zh, r.label_en) for r in close_reasons()}


def label(labels: Labels, code, language: str | None = None) -> str:
    """The name of one code (in the session's language unless given); unknown codes as they are."""
    if code is None:
        return "—"
    names = labels.get(str(code))
    if names is None:
        return str(code)
    return names[0] if (language or lang()) == "zh" else names[1]


def quarantine_reason(reason: str | None, language: str | None = None) -> str:
    """``missing key: ro_no`` → ``缺少主键: ro_no`` (several reasons are ``; ``-joined)."""
    if not reason:
        return "—"
    shown = []
    for part in reason.split("; "):
        head, sep, tail = part.partition(": ")
        shown.append(label(QUARANTINE_REASON, head, language) + (sep + tail if sep else ""))
    return "; ".join(shown)


def label_column(frame: pl.DataFrame, column: str, labels: Labels) -> pl.DataFrame:
    """Replace the codes of one column by their names (in the current language)."""
    if column not in frame.columns:
        return frame
    at = 0 if lang() == "zh" else 1
    mapping = {code: names[at] for code, names in labels.items()}
    values = pl.col(column).cast(pl.Utf8)
    return frame.with_columns(values.replace_strict(mapping, default=values).fill_null("—").alias(column))
