"""Chinese first, English selectable. Every visible label goes through ``t``."""

from __future__ import annotations

import streamlit as st

LANGUAGES = {"zh": "中文", "en": "English"}

_TEXT: dict[str, dict[str, str]] = {
    "app_title": {"zh": "售后客户数据平台", "en": "After-sales customer data platform"},
    "language": {"zh": "语言", "en": "Language"},
    "page_overview": {"zh": "网络总览", "en": "Network overview"},
    "page_quality": {"zh": "数据质量", "en": "Data quality"},
    "not_published": {
        "zh": "尚无发布的数据。请先运行 `aftercare run --month YYYY-MM`。",
        "en": "Nothing has been published yet. Run `aftercare run --month YYYY-MM` first.",
    },
    "as_of": {"zh": "数据截至", "en": "Data as of"},
    "prepared_month": {"zh": "提醒月份", "en": "Reminder month"},
    "published_at": {"zh": "发布时间", "en": "Published at"},
    "dealers": {"zh": "经销商数", "en": "Dealers"},
    "repair_orders_12m": {"zh": "近12个月工单数", "en": "Repair orders, 12 months"},
    "vehicles_serviced_12m": {"zh": "近12个月进厂车辆", "en": "Vehicles serviced, 12 months"},
    "revenue_12m": {"zh": "近12个月维修产值(元)", "en": "Service revenue, 12 months (CNY)"},
    "by_region": {"zh": "按大区", "en": "By region"},
    "by_dealer": {"zh": "按经销商", "en": "By dealer"},
    "region": {"zh": "大区", "en": "Region"},
    "dealer_code": {"zh": "经销商代码", "en": "Dealer code"},
    "dealer_name": {"zh": "经销商名称", "en": "Dealer"},
    "province": {"zh": "省份", "en": "Province"},
    "city": {"zh": "城市", "en": "City"},
    "filter_region": {"zh": "选择大区", "en": "Region filter"},
    "all": {"zh": "全部", "en": "All"},
    "files": {"zh": "已接收文件", "en": "Files received"},
    "quarantine": {"zh": "隔离行", "en": "Quarantined rows"},
    "quarantine_by_reason": {"zh": "隔离原因", "en": "Quarantine reasons"},
    "page_customers": {"zh": "客户360", "en": "Customer 360"},
    "page_identity": {"zh": "身份解析", "en": "Identity resolution"},
    "customers": {"zh": "客户数(OneID)", "en": "Customers (OneID)"},
    "active": {"zh": "活跃(12个月内进厂)", "en": "Active (visit in 12 months)"},
    "at_risk": {"zh": "流失风险", "en": "At risk"},
    "lapsed": {"zh": "已流失", "en": "Lapsed"},
    "wechat_bound_share": {"zh": "公众号绑定率", "en": "WeChat-bound share"},
    "lapse_status": {"zh": "流失状态", "en": "Lapse status"},
    "value_segment": {"zh": "客户分级", "en": "Value segment"},
    "lookup": {"zh": "客户查询(OneID 或 VIN)", "en": "Look up a customer (OneID or VIN)"},
    "not_found": {"zh": "未找到该客户。", "en": "No such customer."},
    "vehicles": {"zh": "车辆", "en": "Vehicles"},
    "identifiers": {"zh": "标识数", "en": "Identifiers"},
    "identifier_type": {"zh": "标识类型", "en": "Identifier type"},
    "oneids": {"zh": "OneID 数", "en": "OneIDs"},
    "changes": {"zh": "合并/拆分", "en": "Merges / splits"},
    "cluster_sizes": {"zh": "每个OneID的标识数分布", "en": "Identifiers per OneID"},
    "count": {"zh": "数量", "en": "Count"},
    "no_table": {"zh": "该数据尚未发布。", "en": "This data has not been published yet."},
    # signing in
    "login_title": {"zh": "登录", "en": "Sign in"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "sign_in": {"zh": "登录", "en": "Sign in"},
    "login_failed": {"zh": "用户名或密码错误。", "en": "Wrong user name or password."},
    "login_locked": {
        "zh": "密码错误次数过多,账户已锁定至 {until}。",
        "en": "Too many wrong passwords: the account is locked until {until}.",
    },
    "login_disabled": {"zh": "该账户已停用,请联系管理员。", "en": "This account is disabled; ask an admin."},
    "logged_out": {"zh": "已退出登录。", "en": "You are signed out."},
    "signed_in_as": {"zh": "当前用户", "en": "Signed in as"},
    "logout": {"zh": "退出登录", "en": "Sign out"},
    "scope_all": {"zh": "全国", "en": "nationwide"},
    "role_admin": {"zh": "管理员", "en": "Admin"},
    "role_analyst": {"zh": "分析师", "en": "Analyst"},
    "role_region_manager": {"zh": "大区经理", "en": "Region manager"},
    "role_dealer_manager": {"zh": "经销商经理", "en": "Dealer manager"},
    # navigation
    "section_workspace": {"zh": "工作台", "en": "Workspace"},
    "section_kpi": {"zh": "经营分析", "en": "KPIs"},
    "section_data": {"zh": "客户与数据", "en": "Customers and data"},
    "section_admin": {"zh": "系统管理", "en": "Administration"},
    "page_workspace": {"zh": "经销商工作台", "en": "Dealer workspace"},
    "page_admin": {"zh": "系统管理", "en": "Administration"},
}


def lang() -> str:
    return st.session_state.get("lang", "zh")


def t(key: str) -> str:
    entry = _TEXT.get(key)
    if entry is None:
        return key
    return entry.get(lang(), entry["zh"])
