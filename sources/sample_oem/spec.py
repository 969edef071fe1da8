"""What the sample OEM writes: the export tables of SOURCES.md and the dirt it injects.

Every table is a list of ``Column``: its English name, the Chinese header aliases SOURCES.md lists
for it in that table (a file with Chinese headers uses one of them; a column without a listed alias
keeps its English name), the value kind (which decides how a file renders it) and whether it is
required. ``DIRT`` is the single list of configured dirt rates; ``dirt_rates.json`` repeats it with
the counts actually injected.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...] = ()
    kind: str = "text"  # text / key / date / ts / amount / bool / int / mobile / id_number
    required: bool = False
    droppable: bool = False  # an optional column some files leave out entirely


@dataclass(frozen=True)
class Table:
    name: str
    system: str  # dms / csc / master
    key: str
    columns: tuple[Column, ...]
    date_column: str  # the event date that decides the monthly file

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, *aliases: str, kind: str = "text", required: bool = False, droppable: bool = False):
    return Column(name, tuple(aliases), kind, required, droppable)


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "vehicle_sales",
            "dms",
            "vin",
            (
                _c("vin", "车架号", "VIN码", "底盘号", kind="key", required=True),
                _c("dealer_code", "经销商代码", kind="dealer", required=True),
                _c("model_code", "车型代码"),
                _c("model_name", "车型名称"),
                _c("invoice_date", "开票日期", kind="date", required=True),
                _c("registration_date", "上牌日期", "注册登记日期", kind="date", droppable=True),
                _c("usage", "使用性质", droppable=True),
                _c("seats", "座位数", kind="int", droppable=True),
                _c("owner_name", "车主姓名", "客户姓名"),
                _c("owner_id_number", "证件号码", "身份证号", kind="id_number"),
                _c("owner_mobile", "手机号码", "联系电话", kind="mobile"),
                _c("sales_consultant", "销售顾问"),
            ),
            "invoice_date",
        ),
        Table(
            "wechat_bindings",
            "dms",
            "binding_id",
            (
                _c("binding_id", "绑定编号", kind="key", required=True),
                _c("openid", "OpenID"),
                _c("unionid", "UnionID"),
                _c("vin_last8", "底盘号后8位", "VIN后8位"),
                _c("id_number", "证件号码", kind="id_number"),
                _c("mobile", "手机号码", kind="mobile"),
                _c("bound_at", "注册时间", "绑定时间", kind="ts"),
                _c("status", "状态"),
            ),
            "bound_at",
        ),
        Table(
            "bookings",
            "dms",
            "booking_id",
            (
                _c("booking_id", "预约单号", kind="key", required=True),
                _c("channel", "预约渠道"),
                _c("openid", "OpenID"),
                _c("mobile", "联系电话", kind="mobile"),
                _c("vin", "车架号"),
                _c("dealer_code", "经销商代码", kind="dealer", required=True),
                _c("created_at", "创建时间", kind="ts"),
                _c("scheduled_date", "预约日期", kind="date", required=True),
                _c("service_item", "预约项目"),
                _c("status", "预约状态"),
                _c("feedback_required", "需电话反馈", kind="bool"),
                _c("feedback_at", "电话反馈时间", kind="ts"),
                _c("feedback_result", "反馈结果", droppable=True),
            ),
            "created_at",
        ),
        Table(
            "repair_orders",
            "csc",
            "ro_no",
            (
                _c("ro_no", "工单号", kind="key", required=True),
                _c("dealer_code", "经销商代码", kind="dealer", required=True),
                _c("vin", "车架号", required=True),
                _c("opened_at", "进厂时间", kind="ts", required=True),
                _c("closed_at", "结算时间", kind="ts"),
                _c("mileage_km", "行驶里程", kind="int"),
                _c("service_type", "维修类型"),
                _c("labor_amount", "工时费", kind="amount"),
                _c("parts_amount", "材料费", kind="amount"),
                _c("total_amount", "结算金额", kind="amount"),
                _c("next_maintenance_date", "预计下次保养日期", kind="date"),
                _c("next_maintenance_km", "下次保养里程", kind="int", droppable=True),
                _c("warranty_expiry_date", "强保到期日", "质保到期日", kind="date", droppable=True),
                _c("next_inspection_date", "下次年检日期", kind="date", droppable=True),
                _c("advisor", "服务顾问"),
                _c("sender_name", "送修人"),
                _c("sender_mobile", "送修人电话", kind="mobile"),
                _c("campaign_code", "活动代码"),
            ),
            "opened_at",
        ),
        Table(
            "campaigns",
            "csc",
            "campaign_code",
            (
                _c("campaign_code", kind="key", required=True),
                _c("scope", "活动范围"),
                _c("dealer_code", kind="dealer"),
                _c("name", "活动名称"),
                _c("start_date", "开始日期", kind="date"),
                _c("end_date", "结束日期", kind="date"),
                _c("target_models", "目标车型"),
                # SOURCES.md gives both bounds the one alias 购车日期范围: English headers keep them apart
                _c("target_purchase_from", kind="date"),
                _c("target_purchase_to", kind="date"),
            ),
            "start_date",
        ),
        Table(
            "campaign_participants",
            "csc",
            "participant_id",
            (
                _c("participant_id", kind="key", required=True),
                _c("campaign_code"),
                _c("vin"),
                _c("mobile", kind="mobile"),
                _c("openid"),
                _c("registered_at", "报名时间", kind="ts"),
                _c("channel", "渠道"),
                _c("invited_by", "邀约人"),
            ),
            "registered_at",
        ),
        Table(
            "reminder_calls",
            "csc",
            "call_id",
            (
                _c("call_id", kind="key", required=True),
                _c("dealer_code", kind="dealer"),
                _c("vin", required=True),
                _c("reminder_type", "提醒类型", required=True),
                _c("reminder_month", "提醒月份", kind="date"),
                _c("called_at", "通话时间", kind="ts", required=True),
                _c("result", "结果"),
                _c("duration_s", "通话时长", kind="int"),
                _c("agent", "专员"),
            ),
            "called_at",
        ),
        Table(
            "complaints",
            "csc",
            "complaint_no",
            (
                _c("complaint_no", kind="key", required=True),
                _c("channel", "渠道"),
                _c("category", "类别"),
                _c("level", "级别"),
                _c("dealer_code", kind="dealer"),
                _c("region"),
                _c("vin"),
                _c("mobile", kind="mobile"),
                _c("received_at", "受理时间", kind="ts", required=True),
                _c("deadline_at", "时限", kind="ts"),
                _c("first_contact_at", kind="ts"),
                _c("closed_at", "关闭时间", kind="ts"),
                _c("close_reason"),
                _c("escalated_at", kind="ts"),
                _c("vrt", "VRT启动", kind="bool"),
                _c("callback_at", "回访时间", kind="ts"),
                _c("satisfaction", "满意度", kind="int"),
            ),
            "received_at",
        ),
        Table(
            "rescues",
            "csc",
            "request_no",
            (
                _c("request_no", kind="key", required=True),
                _c("received_at", kind="ts"),
                _c("vin"),
                _c("mobile", kind="mobile"),
                _c("city"),
                _c("valid", "有效", kind="bool"),
                _c("dispatched_dealer", kind="dealer"),
                _c("dispatched_at", kind="ts"),
                _c("arrived_at", kind="ts"),
                _c("completed_at", kind="ts"),
                _c("callback_at", kind="ts"),
            ),
            "received_at",
        ),
        Table(
            "dealers",
            "master",
            "dealer_code",
            (
                _c("dealer_code", kind="key", required=True),
                _c("name", "经销商名称"),
                _c("region", "大区"),
                _c("province", "省份"),
                _c("city", "城市"),
                _c("status", "状态"),
            ),
            "",
        ),
        Table(
            "staff",
            "master",
            "staff_id",
            (
                _c("staff_id", kind="key", required=True),
                _c("dealer_code"),
                _c("name"),
                _c("role", "岗位"),
                _c("mobile", "手机号码", kind="mobile"),
                _c("wecom_userid"),
            ),
            "",
        ),
    ]
}

# Unknown columns some files carry (kept by ingestion in `_extra`, otherwise ignored).
EXTRA_COLUMNS = ("备注", "导出人", "门店简称", "remark", "export_batch")

# ---------------------------------------------------------------------------------------------
# Dirt: every form the generator injects, with its configured rate and what the rate is a share of.
# Tests read the files back and check the observed shares against these.
DIRT: dict[str, dict] = {
    # per file
    "file_xlsx": {"rate": 0.30, "of": "files under 50,000 rows (master/dealers is always xlsx)"},
    "file_encoding_gbk": {"rate": 0.22, "of": "csv files"},
    "file_encoding_gb18030": {"rate": 0.08, "of": "csv files"},
    "file_encoding_utf8_bom": {"rate": 0.20, "of": "csv files"},
    "file_tab_delimited": {"rate": 0.20, "of": "csv files"},
    "file_chinese_headers": {"rate": 0.50, "of": "files"},
    "file_header_padded": {"rate": 0.05, "of": "header cells (surrounding spaces)"},
    "file_header_fullwidth": {"rate": 0.30, "of": "header cells with ASCII letters in Chinese-header files"},
    "file_title_rows": {"rate": 0.60, "of": "xlsx files (1-5 title rows above the header)"},
    "file_extra_column": {"rate": 0.15, "of": "files"},
    "file_shuffled_columns": {"rate": 0.20, "of": "files"},
    "file_dropped_optional_column": {"rate": 0.05, "of": "droppable columns per file"},
    "file_excel_serial_dates": {"rate": 0.30, "of": "xlsx files (dates as plain serial numbers)"},
    # per row / value
    "mobile_plus86": {"rate": 0.04, "of": "mobile values ('+86 ' prefix)"},
    "mobile_0086": {"rate": 0.015, "of": "mobile values ('0086' prefix)"},
    "mobile_spaces": {"rate": 0.03, "of": "mobile values (3-4-4 with spaces)"},
    "mobile_dashes": {"rate": 0.02, "of": "mobile values (3-4-4 with dashes)"},
    "mobile_fullwidth": {"rate": 0.01, "of": "mobile values (full-width digits)"},
    "id_15_digit": {"rate": 0.03, "of": "ID numbers of owners born before 1990 (old 15-digit form)"},
    "id_lower_x": {"rate": 0.40, "of": "ID numbers ending in X (written as lower-case x)"},
    "id_bad_checksum": {"rate": 0.004, "of": "ID number values (check character wrong)"},
    "id_missing": {"rate": 0.02, "of": "sale records without an ID number"},
    "vin_bad_check_digit": {"rate": 0.002, "of": "vehicles (VIN check digit wrong everywhere)"},
    "placeholder_mobile": {"rate": 0.012, "of": "sale-record and booking mobiles (13800138000 etc.)"},
    "consultant_mobile_sales": {"rate": 0.015, "of": "sale records (the sales consultant's own mobile)"},
    "consultant_mobile_bookings": {"rate": 0.01, "of": "bookings (the advisor's own mobile)"},
    "consultant_mobile_wecom": {
        "rate": 0.03,
        "of": "WeCom relations (remark_mobiles holds the consultant's own)",
    },
    "family_shared_mobile": {
        "rate": 0.5,
        "of": "spouses who own a car (they use the household head's mobile)",
    },
    "bad_row_missing_key": {"rate": 0.001, "of": "rows of monthly export files"},
    "bad_row_impossible_date": {"rate": 0.001, "of": "rows of monthly export files"},
    "bad_row_unknown_dealer": {"rate": 0.001, "of": "rows of files with a dealer_code column"},
    "resold_vehicle": {"rate": 0.06, "of": "vehicles (a second sale record, new owner, same VIN)"},
    "ro_resent": {"rate": 0.01, "of": "repair orders (sent again next month with a corrected total)"},
}


# ---------------------------------------------------------------------------------------------
# How closely the dealer network follows the OEM's delivery and service SOPs. These rates decide how
# much identity evidence the sources carry: whether a WeChat follower is ever tied to the owner's ID
# number and mobile (the SMS-verified 车主认证 binding), and whether a WeCom contact carries the
# owner's mobile. The noise that costs precision (spouses' and consultants' numbers in WeCom remarks,
# family phones, placeholders) is dirt, in ``DIRT`` and unchanged by these. Reasoning and the numbers
# they give: docs/sample-oem.md ("Dealer SOP").
@dataclass(frozen=True)
class DealerSop:
    # Owners with WeChat who follow the OA: the delivery SOP has the sales consultant get the owner to
    # scan the dealer's QR code at the handover; some decline, and cars sold before the OA existed
    # were never asked.
    owner_follows_oa: float = 0.70
    # Of the owners who follow: the share who follow at delivery (that QR code), the share who already
    # followed as prospects (up to a year before buying); the rest follow later on their own (mean
    # delay `self_follow_delay_days`).
    follow_at_delivery: float = 0.75
    follow_before_purchase: float = 0.10
    self_follow_delay_days: float = 180.0
    # 车主认证 (the SMS-verified binding of owner and car) for an owner who follows by the delivery day:
    # done with the consultant at the handover, a rate dealers are measured on; the misses are owners
    # who decline or whose phone is not at hand ...
    bind_at_delivery: float = 0.98
    # ... and for an owner who follows later on their own: most come for the owner services (booking,
    # maintenance records, points) that need the binding, nobody walks them through it.
    bind_self_followed: float = 0.80
    # WeCom: the share of relations whose remark_mobiles hold the customer's own number, for the
    # selling consultant (added at delivery) and for a service advisor (the service SOP has them record
    # the mobile). The noise shares (a family member's 5 %, the consultant's own
    # `DIRT["consultant_mobile_wecom"]`) come first; the rest of the relations carry no number.
    wecom_remark_own_mobile_sales: float = 0.90
    wecom_remark_own_mobile_service: float = 0.92
    # unionid in the OA user info and on WeCom contacts: the OEM has bound its OA and its WeCom corp to
    # one WeChat Open Platform account (the premise of unionid-based identity); the rest are the
    # platform's gaps (users who never authorized, contacts added before the binding).
    unionid_on_followers: float = 0.98
    unionid_on_wecom_contacts: float = 0.95

    def __post_init__(self) -> None:
        shares = {k: v for k, v in self.__dict__.items() if k != "self_follow_delay_days"}
        bad = [k for k, v in shares.items() if not 0.0 <= v <= 1.0]
        if bad or self.follow_at_delivery + self.follow_before_purchase > 1.0:
            raise ValueError(
                f"DealerSop: shares must lie in [0, 1] and follow_* add up to at most 1: {shares}"
            )
        if (
            max(self.wecom_remark_own_mobile_sales, self.wecom_remark_own_mobile_service)
            > 1 - WECOM_REMARK_NOISE
        ):
            raise ValueError(f"DealerSop: wecom_remark_own_mobile_* above {1 - WECOM_REMARK_NOISE}")


# A WeCom remark holding a family member's number (the spouse's where there is one); with the
# consultant's own number (DIRT) this is the noise every relation is exposed to.
WECOM_REMARK_FAMILY = 0.05
WECOM_REMARK_NOISE = WECOM_REMARK_FAMILY + DIRT["consultant_mobile_wecom"]["rate"]

# The default: dealers that follow the SOPs as Chinese OEMs run them.
SOP_FOLLOWED = DealerSop()
# Dealers that do not: fewer owners follow, every follower binds at 75 % whenever they follow, a WeCom
# remark carries the owner's number 72 % of the time, unionid is missing more often: the evidence of
# the sample OEM before these parameters existed. Tests use it to assert OneID's quality (recall of
# the linkable pairs) independently of how dense the evidence is.
SOP_LOOSE = DealerSop(
    owner_follows_oa=0.55,
    follow_at_delivery=0.60,
    follow_before_purchase=0.15,
    bind_at_delivery=0.75,
    bind_self_followed=0.75,
    wecom_remark_own_mobile_sales=0.72,
    wecom_remark_own_mobile_service=0.72,
    unionid_on_followers=0.94,
    unionid_on_wecom_contacts=0.88,
)
