"""The KPI pages' vocabulary and queries (no Streamlit here).

The KPI tables are ``docs/kpis.md``'s: one row per period (``period_grain`` month/quarter/year),
level member (``nation`` / a region / a dealer / a WeCom consultant) and breakdown value (``all``
for the total). The pages read the month rows of one member at a time, its 12-month trend and the
members one level down (the drill-down); every query filters in DuckDB and returns a few rows.
Each metric has a Chinese and an English name and a kind that says how to show it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dashboards import labels as L


@dataclass(frozen=True)
class Metric:
    column: str
    zh: str
    en: str
    kind: str = "count"  # count / rate / share / points / hours / minutes / money / score / rank
    lower_is_better: bool = False

    def name(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


def _metrics(*items: Metric) -> dict[str, Metric]:
    return {m.column: m for m in items}


METRICS: dict[str, Metric] = _metrics(
    # reminders
    Metric("due", "应提醒数", "Due"),
    Metric("due_new", "新增任务", "New"),
    Metric("due_carried", "结转任务", "Carried over"),
    Metric("tracked", "提醒跟踪数", "Tracked"),
    Metric("reached", "已触达", "Reached"),
    Metric("contacted", "已联系", "Contacted"),
    Metric("not_contacted", "未联系", "Not contacted", lower_is_better=True),
    Metric("returned", "提醒回厂数", "Returned"),
    Metric("returned_same_dealer", "本店回厂", "Returned to the same dealer"),
    Metric("returned_other_dealer", "网内他店回厂", "Returned to another dealer"),
    Metric("natural_returned", "自然回厂", "Returned without contact"),
    Metric("closed_by_manager", "经理关闭", "Closed by manager"),
    Metric("carried_to_next_month", "结转下月", "Carried to next month", lower_is_better=True),
    Metric("completion_rate", "提醒完成率", "Completion rate", "rate"),
    Metric("reach_rate", "触达率", "Reach rate", "rate"),
    Metric("return_rate", "提醒回厂率", "Return rate", "rate"),
    Metric("same_dealer_return_share", "本店回厂占比", "Same-dealer share of returns", "rate"),
    Metric("contacted_return_rate", "联系后回厂率", "Return rate after contact", "rate"),
    Metric("natural_return_rate", "自然回厂率", "Return rate without contact", "rate"),
    Metric("return_uplift", "提醒带来的回厂提升", "Uplift from reminders", "points"),
    # bookings
    Metric("scheduled", "每月应预约数", "Bookings scheduled"),
    Metric("cancelled", "取消预约", "Cancelled", lower_is_better=True),
    Metric("feedback_required", "应电话反馈数", "Feedback calls due"),
    Metric("feedback_done", "电话反馈数", "Feedback calls made"),
    Metric("shown", "按约到店", "Showed up"),
    Metric("feedback_rate", "电话反馈率", "Feedback rate", "rate"),
    Metric("show_rate", "预约到店率", "Show rate", "rate"),
    Metric("cancel_share", "取消占比", "Cancelled share", "rate", lower_is_better=True),
    # campaigns
    Metric("participants", "报名人数", "Participants"),
    Metric("participating_dealers", "参与门店数", "Participating dealers"),
    Metric("arrivals", "到店数", "Arrivals"),
    Metric("converted", "转化人数", "Converted"),
    Metric("campaign_repair_orders", "活动工单数", "Campaign repair orders"),
    Metric("new_output_value", "新增维修产值(元)", "New service revenue (CNY)", "money"),
    Metric("arrival_rate", "到店率", "Arrival rate", "rate"),
    Metric("conversion_rate", "转化率", "Conversion rate", "rate"),
    # complaints
    Metric("complaints", "投诉数", "Complaints", lower_is_better=True),
    Metric("first_contact_within_24h", "24小时内首次联系", "First contact within 24 h"),
    Metric("closed", "已结案", "Closed"),
    Metric("closed_within_deadline", "按期结案", "Closed within deadline"),
    Metric("escalated", "升级投诉", "Escalated", lower_is_better=True),
    Metric("vrt_started", "VRT启动", "VRT started"),
    Metric("callbacks", "回访数", "Callbacks"),
    Metric("open_at_period_end", "期末未结", "Open at period end", lower_is_better=True),
    Metric("overdue_open_at_period_end", "期末超期未结", "Overdue at period end", lower_is_better=True),
    Metric(
        "median_hours_to_close",
        "结案时长中位数(小时)",
        "Median hours to close",
        "hours",
        lower_is_better=True,
    ),
    Metric("first_contact_24h_rate", "24小时首次联系率", "First contact within 24 h", "rate"),
    Metric("closed_within_deadline_rate", "按期结案率", "Closed within deadline", "rate"),
    Metric("escalation_rate", "升级率", "Escalation rate", "rate", lower_is_better=True),
    Metric("callback_rate", "回访率", "Callback rate", "rate"),
    Metric("satisfied_share", "满意占比", "Satisfied share", "rate"),
    Metric("avg_satisfaction", "平均满意度(1-5)", "Average satisfaction (1-5)", "score"),
    # rescues
    Metric("requests", "救援请求", "Rescue requests"),
    Metric("valid_requests", "有效请求", "Valid requests"),
    Metric("dispatched", "已派遣", "Dispatched"),
    Metric("arrived", "已到达", "Arrived"),
    Metric("completed", "已完成", "Completed"),
    Metric("valid_share", "有效占比", "Valid share", "rate"),
    Metric(
        "avg_minutes_to_dispatch",
        "平均派遣时长(分钟)",
        "Average minutes to dispatch",
        "minutes",
        lower_is_better=True,
    ),
    Metric(
        "avg_minutes_to_arrival",
        "平均到达时长(分钟)",
        "Average minutes to arrival",
        "minutes",
        lower_is_better=True,
    ),
    Metric(
        "p90_minutes_to_arrival",
        "到达时长P90(分钟)",
        "90th percentile minutes to arrival",
        "minutes",
        lower_is_better=True,
    ),
    # WeCom communication
    Metric("new_applies", "发起申请数", "Friend requests sent"),
    Metric("new_contacts", "新增客户数", "New contacts"),
    Metric("chats", "聊天数", "Chats"),
    Metric("messages", "发送消息数", "Messages sent"),
    Metric("negative_feedback", "删除/拉黑数", "Deleted or blocked", lower_is_better=True),
    Metric("customers_contacted", "群发触达客户", "Customers reached by group messages"),
    Metric("reply_rate", "回复率", "Reply rate", "rate"),
    Metric(
        "avg_reply_minutes", "平均回复时长(分钟)", "Average reply minutes", "minutes", lower_is_better=True
    ),
    # customers
    Metric("followers", "公众号粉丝", "Followers"),
    Metric("followers_new", "新增粉丝", "New followers"),
    Metric("owners", "车主数", "Owners"),
    Metric("bound_owners", "绑定车主", "Bound owners"),
    Metric("reachable_owners", "微信可触达车主", "Owners reachable on WeChat"),
    Metric("vehicles", "车辆数", "Vehicles"),
    Metric("vehicles_active", "活跃车辆", "Active vehicles"),
    Metric("vehicles_at_risk", "流失风险车辆", "Vehicles at risk", lower_is_better=True),
    Metric("vehicles_lapsed", "已流失车辆", "Lapsed vehicles", lower_is_better=True),
    Metric("vehicles_turned_lapsed", "本期新流失", "Turned lapsed", lower_is_better=True),
    Metric("first_service_due", "应首保", "First service due"),
    Metric("first_service_done", "已首保", "First service done"),
    Metric("bound_owner_share", "绑定率", "Bound share", "rate"),
    Metric("wechat_reachable_share", "微信可触达率", "Reachable on WeChat", "rate"),
    Metric("active_12m_share", "12个月活跃率", "Active in 12 months", "rate"),
    Metric("lapsed_share", "流失率", "Lapsed share", "rate", lower_is_better=True),
    Metric("first_service_rate", "首保率", "First-service rate", "rate"),
    Metric("retention_12m_rate", "12个月保持率", "12-month retention", "rate"),
    # dealer scorecard and rankings
    Metric("score", "综合得分", "Score", "score"),
    Metric("region_score", "大区平均得分", "Region's score", "score"),
    Metric("nation_score", "全国平均得分", "Nation's score", "score"),
    Metric("score_vs_region", "较大区(分)", "vs region (points)", "score"),
    Metric("score_vs_nation", "较全国(分)", "vs nation (points)", "score"),
    Metric("rank_in_region", "大区排名", "Rank in region", "rank", lower_is_better=True),
    Metric("rank_in_nation", "全国排名", "Rank in nation", "rank", lower_is_better=True),
    Metric("components_scored", "计分项数", "Components scored"),
    Metric("repair_orders", "工单数", "Repair orders"),
    Metric("revenue", "维修产值(元)", "Revenue (CNY)", "money"),
    Metric("revenue_per_order", "单均产值(元)", "Revenue per order (CNY)", "money"),
    # data pages
    Metric("rows", "隔离行数", "Rows quarantined"),
    Metric("customers", "客户数", "Customers"),
)

# components of the dealer scorecard (docs/kpis.md), each with region_ and nation_ columns
SCORECARD_COMPONENTS = (
    "completion_rate", "return_rate", "show_rate", "feedback_rate", "closed_within_deadline_rate",
    "first_contact_24h_rate", "wechat_reachable_share", "retention_12m_rate",
)  # fmt: skip
STAFF_METRICS = {
    "service_advisor": ("repair_orders", "revenue", "revenue_per_order"),
    "wecom_consultant": ("new_contacts", "chats", "reply_rate", "customers_contacted"),
}


@dataclass(frozen=True)
class MonthlyKpis:
    """A monthly KPI table as a page shows it."""

    table: str
    cards: tuple[str, ...]  # the headline figures of the month
    trend_rates: tuple[str, ...]  # 12-month lines (rates)
    trend_counts: tuple[str, ...]  # 12-month bars (counts)
    members: tuple[str, ...]  # the drill-down table's columns
    ranking: str  # the rate the members are ranked on
    breakdowns: dict[str, L.Labels] = field(default_factory=dict)  # column → code names ('all' = total)
    child_of_dealer: str | None = None  # 'consultant' when the table goes below the dealer


REMINDERS = MonthlyKpis(
    "kpi_reminders_monthly",
    cards=(
        "due",
        "tracked",
        "reached",
        "returned",
        "completion_rate",
        "return_rate",
        "natural_return_rate",
        "return_uplift",
    ),
    trend_rates=("completion_rate", "reach_rate", "return_rate", "natural_return_rate"),
    trend_counts=("due_new", "due_carried"),
    members=(
        "due",
        "tracked",
        "returned",
        "closed_by_manager",
        "completion_rate",
        "return_rate",
        "same_dealer_return_share",
    ),
    ranking="return_rate",
    breakdowns={"reminder_type": L.REMINDER_TYPE},
)
BOOKINGS = MonthlyKpis(
    "kpi_bookings_monthly",
    cards=(
        "scheduled",
        "feedback_required",
        "feedback_done",
        "shown",
        "feedback_rate",
        "show_rate",
        "cancel_share",
    ),
    trend_rates=("feedback_rate", "show_rate", "cancel_share"),
    trend_counts=("scheduled", "cancelled"),
    members=("scheduled", "cancelled", "feedback_rate", "show_rate"),
    ranking="show_rate",
    breakdowns={"booking_channel": L.BOOKING_CHANNEL},
)
COMPLAINTS = MonthlyKpis(
    "kpi_complaints_monthly",
    cards=(
        "complaints",
        "open_at_period_end",
        "overdue_open_at_period_end",
        "first_contact_24h_rate",
        "closed_within_deadline_rate",
        "escalation_rate",
        "callback_rate",
        "avg_satisfaction",
    ),  # fmt: skip
    trend_rates=("first_contact_24h_rate", "closed_within_deadline_rate", "escalation_rate", "callback_rate"),
    trend_counts=("complaints",),
    members=(
        "complaints",
        "overdue_open_at_period_end",
        "first_contact_24h_rate",
        "closed_within_deadline_rate",
        "escalation_rate",
        "avg_satisfaction",
    ),  # fmt: skip
    ranking="closed_within_deadline_rate",
    breakdowns={
        "complaint_channel": L.COMPLAINT_CHANNEL,
        "complaint_category": L.COMPLAINT_CATEGORY,
        "complaint_level": L.COMPLAINT_LEVEL,
    },
)
RESCUES = MonthlyKpis(
    "kpi_rescues_monthly",
    cards=(
        "requests",
        "valid_requests",
        "dispatched",
        "arrived",
        "valid_share",
        "callback_rate",
        "avg_minutes_to_dispatch",
        "avg_minutes_to_arrival",
    ),  # fmt: skip
    trend_rates=("valid_share", "callback_rate"),
    trend_counts=("requests", "valid_requests"),
    members=(
        "requests",
        "valid_requests",
        "avg_minutes_to_dispatch",
        "avg_minutes_to_arrival",
        "callback_rate",
    ),
    ranking="callback_rate",
)
COMMUNICATION = MonthlyKpis(
    "kpi_communication_monthly",
    cards=(
        "new_contacts",
        "chats",
        "messages",
        "customers_contacted",
        "negative_feedback",
        "reply_rate",
        "avg_reply_minutes",
    ),
    trend_rates=("reply_rate",),
    trend_counts=("new_contacts", "chats"),
    members=("new_contacts", "chats", "messages", "customers_contacted", "reply_rate", "avg_reply_minutes"),
    ranking="reply_rate",
    child_of_dealer="consultant",
)
CUSTOMERS = MonthlyKpis(
    "kpi_customers_monthly",
    cards=(
        "owners",
        "vehicles",
        "vehicles_at_risk",
        "vehicles_lapsed",
        "wechat_reachable_share",
        "active_12m_share",
        "first_service_rate",
        "retention_12m_rate",
    ),  # fmt: skip
    trend_rates=("wechat_reachable_share", "active_12m_share", "lapsed_share", "retention_12m_rate"),
    trend_counts=("vehicles_turned_lapsed", "followers_new"),
    members=(
        "owners",
        "vehicles",
        "bound_owner_share",
        "wechat_reachable_share",
        "lapsed_share",
        "retention_12m_rate",
    ),
    ranking="retention_12m_rate",
)


# --- members of the drill-down -------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """Who the figures are about: the nation, a region or a dealer."""

    level: str  # nation / region / dealer
    region: str | None = None
    dealer_code: str | None = None

    def condition(self) -> tuple[str, tuple]:
        if self.level == "dealer":
            return "level = 'dealer' and dealer_code = ?", (self.dealer_code,)
        if self.level == "region":
            return "level = 'region' and region = ?", (self.region,)
        return "level = 'nation'", ()

    def parents(self) -> list[Member]:
        """The members above it, nearest first (a dealer against its region and the nation)."""
        if self.level == "dealer":
            return [Member("region", self.region), Member("nation")]
        if self.level == "region":
            return [Member("nation")]
        return []

    def children_condition(self, child_of_dealer: str | None = None) -> tuple[str, tuple] | None:
        if self.level == "nation":
            return "level = 'region'", ()
        if self.level == "region":
            return "level = 'dealer' and region = ?", (self.region,)
        if child_of_dealer:
            return f"level = '{child_of_dealer}' and dealer_code = ?", (self.dealer_code,)
        return None


def totals_condition(spec: MonthlyKpis) -> str:
    """Rows of the total over every breakdown (``all`` in each breakdown column)."""
    return " and ".join(f"{column} = 'all'" for column in spec.breakdowns) or "true"


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def months_sql(table: str) -> str:
    """The months a table has, newest first, and whether each is final (nation rows: every role sees them)."""
    return (
        f"select month, bool_and(is_final) as is_final from {table} "
        "where period_grain = 'month' and level = 'nation' group by month order by month desc"
    )


def member_rows_sql(spec: MonthlyKpis, member: Member, columns: tuple[str, ...]) -> tuple[str, tuple]:
    """One member's month rows between two months (totals only)."""
    condition, params = member.condition()
    selected = ", ".join(dict.fromkeys(("month", "is_final", *columns)))
    sql = (
        f"select {selected} from {spec.table} where period_grain = 'month' and month between ? and ? "
        f"and {condition} and {totals_condition(spec)} order by month"
    )
    return sql, params


def children_sql(spec: MonthlyKpis, member: Member, columns: tuple[str, ...]) -> tuple[str, tuple] | None:
    """The members one level down, for one month (totals only)."""
    found = member.children_condition(spec.child_of_dealer)
    if found is None:
        return None
    condition, params = found
    selected = ", ".join(
        dict.fromkeys(("level", "level_key", "region", "dealer_code", "dealer_name", *columns))
    )
    if spec.child_of_dealer == "consultant":
        selected += ", consultant_role"
    sql = (
        f"select {selected} from {spec.table} where period_grain = 'month' and month = ? "
        f"and {condition} and {totals_condition(spec)} order by {spec.ranking} desc nulls last, level_key"
    )
    return sql, params


def breakdown_sql(
    spec: MonthlyKpis, member: Member, column: str, metrics: tuple[str, ...]
) -> tuple[str, tuple]:
    """One member's month split by one breakdown column (the others at ``all``)."""
    condition, params = member.condition()
    others = " and ".join(f"{c} = 'all'" for c in spec.breakdowns if c != column) or "true"
    sql = (
        f"select {column}, {', '.join(metrics)} from {spec.table} where period_grain = 'month' and month = ? "
        f"and {condition} and {column} <> 'all' and {others} order by {metrics[0]} desc nulls last"
    )
    return sql, params
