"""The export tables of ``SOURCES.md``: columns, Chinese header aliases, kinds, keys, required columns.

One declarative list drives the header matcher, the typing step, the pandera schemas and the DDL of
the landing tables, so a new column is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sources.enumerations import source_codes


class Kind(StrEnum):
    TEXT = "text"
    VIN = "vin"  # kept plain, upper-cased, with vin_check_ok
    DATE = "date"
    TIMESTAMP = "timestamp"
    MONTH = "month"  # a month, landed as the DATE of its first day
    AMOUNT = "amount"  # DECIMAL(14,2)
    INTEGER = "integer"
    BOOLEAN = "boolean"
    MOBILE = "mobile"  # -> _hmac, _status, _masked, _enc
    ID_NUMBER = "id_number"  # -> _hmac, _status, _birth_date, _gender, _province_code, _masked
    NAME = "name"  # -> _masked, _enc


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = Kind.TEXT
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    system: str  # the inbox folder: dms / csc / master
    key: tuple[str, ...]
    required: tuple[str, ...]  # besides the key
    columns: tuple[Column, ...]
    checks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> allowed values
    # Chinese names a dealer's file may start with instead of the English one (SOURCES.md's table
    # names, plus the everyday name an export menu shows, e.g. 车辆销售 for 销售开票)
    names_zh: tuple[str, ...] = ()

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.key + self.required))

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def has_dealer_code(self) -> bool:
        return any(c.name in DEALER_COLUMNS for c in self.columns)


# columns whose values must be a known dealer (master/dealers)
DEALER_COLUMNS = ("dealer_code", "dispatched_dealer")


def C(name: str, kind: Kind = Kind.TEXT, *aliases: str) -> Column:  # noqa: N802 - reads like a table row
    return Column(name, kind, aliases)


K = Kind

TABLES: tuple[Table, ...] = (
    Table(
        "dealers",
        "master",
        names_zh=("经销商", "经销商主数据"),
        key=("dealer_code",),
        required=(),
        columns=(
            C("dealer_code", K.TEXT, "经销商代码"),
            C("name", K.TEXT, "经销商名称"),
            C("region", K.TEXT, "大区"),
            C("province", K.TEXT, "省份"),
            C("city", K.TEXT, "城市"),
            C("status", K.TEXT, "状态"),
        ),
    ),
    Table(
        "staff",
        "master",
        names_zh=("员工", "人员"),
        key=("staff_id",),
        required=(),
        columns=(
            C("staff_id", K.TEXT, "员工编号", "员工工号"),
            C("dealer_code", K.TEXT, "经销商代码"),
            C("name", K.NAME, "姓名", "员工姓名"),
            C("role", K.TEXT, "岗位"),
            C("mobile", K.MOBILE, "手机号码"),
            C("wecom_userid", K.TEXT, "企业微信账号", "企微账号"),
        ),
    ),
    Table(
        "vehicle_sales",
        "dms",
        names_zh=("销售开票", "车辆销售"),
        key=("vin", "invoice_date"),
        required=("dealer_code",),
        columns=(
            C("vin", K.VIN, "车架号", "VIN码", "底盘号"),
            C("dealer_code", K.TEXT, "经销商代码"),
            C("model_code", K.TEXT, "车型代码"),
            C("model_name", K.TEXT, "车型名称"),
            C("invoice_date", K.DATE, "开票日期"),
            C("registration_date", K.DATE, "上牌日期", "注册登记日期"),
            C("usage", K.TEXT, "使用性质"),
            C("seats", K.INTEGER, "座位数"),
            C("owner_name", K.NAME, "车主姓名", "客户姓名"),
            C("owner_id_number", K.ID_NUMBER, "证件号码", "身份证号"),
            C("owner_mobile", K.MOBILE, "手机号码", "联系电话"),
            C("sales_consultant", K.TEXT, "销售顾问"),
        ),
    ),
    Table(
        "wechat_bindings",
        "dms",
        names_zh=("公众号注册绑定", "微信绑定"),
        key=("binding_id",),
        required=(),
        columns=(
            C("binding_id", K.TEXT, "绑定编号"),
            C("openid", K.TEXT, "OpenID"),
            C("unionid", K.TEXT, "UnionID"),
            C("vin_last8", K.TEXT, "底盘号后8位", "VIN后8位"),
            C("id_number", K.ID_NUMBER, "证件号码"),
            C("mobile", K.MOBILE, "手机号码"),
            C("bound_at", K.TIMESTAMP, "注册时间", "绑定时间"),
            C("status", K.TEXT, "状态"),
        ),
        checks={"status": tuple(source_codes("binding_status"))},
    ),
    Table(
        "bookings",
        "dms",
        names_zh=("预约单",),
        key=("booking_id",),
        required=("dealer_code", "scheduled_date"),
        columns=(
            C("booking_id", K.TEXT, "预约单号"),
            C("channel", K.TEXT, "预约渠道"),
            C("openid", K.TEXT, "OpenID"),
            C("mobile", K.MOBILE, "联系电话"),
            C("vin", K.VIN, "车架号"),
            C("dealer_code", K.TEXT, "经销商代码"),
            C("created_at", K.TIMESTAMP, "创建时间"),
            C("scheduled_date", K.DATE, "预约日期"),
            C("service_item", K.TEXT, "预约项目"),
            C("status", K.TEXT, "预约状态"),
            C("feedback_required", K.BOOLEAN, "需电话反馈"),
            C("feedback_at", K.TIMESTAMP, "电话反馈时间"),
            C("feedback_result", K.TEXT, "反馈结果"),
        ),
    ),
    Table(
        "repair_orders",
        "csc",
        names_zh=("维修工单",),
        key=("ro_no",),
        required=("vin", "dealer_code", "opened_at"),
        columns=(
            C("ro_no", K.TEXT, "工单号"),
            C("dealer_code", K.TEXT, "经销商代码"),
            C("vin", K.VIN, "车架号"),
            C("opened_at", K.TIMESTAMP, "进厂时间"),
            C("closed_at", K.TIMESTAMP, "结算时间"),
            C("mileage_km", K.INTEGER, "行驶里程"),
            C("service_type", K.TEXT, "维修类型"),
            C("labor_amount", K.AMOUNT, "工时费"),
            C("parts_amount", K.AMOUNT, "材料费"),
            C("total_amount", K.AMOUNT, "结算金额"),
            C("next_maintenance_date", K.DATE, "预计下次保养日期"),
            C("next_maintenance_km", K.INTEGER, "下次保养里程"),
            C("warranty_expiry_date", K.DATE, "强保到期日", "质保到期日"),
            C("next_inspection_date", K.DATE, "下次年检日期"),
            C("advisor", K.TEXT, "服务顾问"),
            C("sender_name", K.NAME, "送修人"),
            C("sender_mobile", K.MOBILE, "送修人电话"),
            C("campaign_code", K.TEXT, "活动代码"),
        ),
    ),
    Table(
        "campaigns",
        "csc",
        names_zh=("服务活动",),
        key=("campaign_code",),
        required=(),
        columns=(
            C("campaign_code", K.TEXT, "活动代码"),
            C("scope", K.TEXT, "活动范围"),
            C("dealer_code", K.TEXT, "经销商代码"),
            C("name", K.TEXT, "活动名称"),
            C("start_date", K.DATE, "开始日期"),
            C("end_date", K.DATE, "结束日期"),
            C("target_models", K.TEXT, "目标车型"),
            C("target_purchase_from", K.DATE, "购车日期从", "购车日期起"),
            C("target_purchase_to", K.DATE, "购车日期至", "购车日期止"),
        ),
    ),
    Table(
        "campaign_participants",
        "csc",
        names_zh=("活动报名",),
        key=("participant_id",),
        required=(),
        columns=(
            C("participant_id", K.TEXT, "报名编号"),
            C("campaign_code", K.TEXT, "活动代码"),
            C("vin", K.VIN, "车架号"),
            C("mobile", K.MOBILE, "手机号码", "联系电话"),
            C("openid", K.TEXT, "OpenID"),
            C("registered_at", K.TIMESTAMP, "报名时间"),
            C("channel", K.TEXT, "渠道"),
            C("invited_by", K.TEXT, "邀约人"),
        ),
    ),
    Table(
        "reminder_calls",
        "csc",
        names_zh=("车辆提醒单",),
        key=("call_id",),
        required=("vin", "reminder_type", "called_at"),
        columns=(
            C("call_id", K.TEXT, "通话编号", "提醒单号"),
            C("dealer_code", K.TEXT, "经销商代码"),
            C("vin", K.VIN, "车架号"),
            C("reminder_type", K.TEXT, "提醒类型"),
            C("reminder_month", K.MONTH, "提醒月份"),
            C("called_at", K.TIMESTAMP, "通话时间"),
            C("result", K.TEXT, "结果"),
            C("duration_s", K.INTEGER, "通话时长"),
            C("agent", K.TEXT, "专员"),
        ),
    ),
    Table(
        "complaints",
        "csc",
        names_zh=("客户投诉",),
        key=("complaint_no",),
        required=("received_at",),
        columns=(
            C("complaint_no", K.TEXT, "投诉单号"),
            C("channel", K.TEXT, "渠道"),
            C("category", K.TEXT, "类别"),
            C("level", K.TEXT, "级别"),
            C("dealer_code", K.TEXT, "经销商代码"),
            C("region", K.TEXT, "大区", "区域"),
            C("vin", K.VIN, "车架号"),
            C("mobile", K.MOBILE, "手机号码", "联系电话"),
            C("received_at", K.TIMESTAMP, "受理时间"),
            C("deadline_at", K.TIMESTAMP, "时限"),
            C("first_contact_at", K.TIMESTAMP, "首次联系时间"),
            C("closed_at", K.TIMESTAMP, "关闭时间"),
            C("close_reason", K.TEXT, "关闭原因"),
            C("escalated_at", K.TIMESTAMP, "升级时间"),
            C("vrt", K.BOOLEAN, "VRT启动"),
            C("callback_at", K.TIMESTAMP, "回访时间"),
            C("satisfaction", K.INTEGER, "满意度"),
        ),
    ),
    Table(
        "rescues",
        "csc",
        names_zh=("紧急救援",),
        key=("request_no",),
        required=(),
        columns=(
            C("request_no", K.TEXT, "救援单号"),
            C("received_at", K.TIMESTAMP, "受理时间"),
            C("vin", K.VIN, "车架号"),
            C("mobile", K.MOBILE, "手机号码", "联系电话"),
            C("city", K.TEXT, "城市"),
            C("valid", K.BOOLEAN, "有效"),
            C("dispatched_dealer", K.TEXT, "派工经销商", "派遣经销商"),
            C("dispatched_at", K.TIMESTAMP, "派工时间"),
            C("arrived_at", K.TIMESTAMP, "到达时间"),
            C("completed_at", K.TIMESTAMP, "完成时间"),
            C("callback_at", K.TIMESTAMP, "回访时间"),
        ),
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

# master data first: the dealer-code check of every other table reads landing.dealers
INGEST_ORDER: tuple[str, ...] = tuple(t.name for t in TABLES)


def output_columns(table: Table) -> list[tuple[str, str]]:
    """(column, DuckDB type) of the landing table, lineage columns last."""
    out: list[tuple[str, str]] = []
    for col in table.columns:
        n = col.name
        match col.kind:
            case Kind.TEXT:
                out.append((n, "VARCHAR"))
            case Kind.VIN:
                out += [(n, "VARCHAR"), (f"{n}_check_ok", "BOOLEAN")]
            case Kind.DATE | Kind.MONTH:
                out.append((n, "DATE"))
            case Kind.TIMESTAMP:
                out.append((n, "TIMESTAMP"))
            case Kind.AMOUNT:
                out.append((n, "DECIMAL(14,2)"))
            case Kind.INTEGER:
                out.append((n, "INTEGER"))
            case Kind.BOOLEAN:
                out.append((n, "BOOLEAN"))
            case Kind.MOBILE:
                out += [
                    (f"{n}_hmac", "VARCHAR"),
                    (f"{n}_status", "VARCHAR"),
                    (f"{n}_masked", "VARCHAR"),
                    (f"{n}_enc", "VARCHAR"),
                ]
            case Kind.ID_NUMBER:
                out += [
                    (f"{n}_hmac", "VARCHAR"),
                    (f"{n}_status", "VARCHAR"),
                    (f"{n}_birth_date", "DATE"),
                    (f"{n}_gender", "VARCHAR"),
                    (f"{n}_province_code", "VARCHAR"),
                    (f"{n}_masked", "VARCHAR"),
                ]
            case Kind.NAME:
                out += [(f"{n}_masked", "VARCHAR"), (f"{n}_enc", "VARCHAR")]
    out += LINEAGE_COLUMNS
    return out


LINEAGE_COLUMNS: list[tuple[str, str]] = [
    ("_source_file", "VARCHAR"),
    ("_source_row", "INTEGER"),
    ("_file_date", "DATE"),
    ("_ingested_at", "TIMESTAMP"),
    ("_extra", "JSON"),
]
