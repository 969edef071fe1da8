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
    # administration
    "admin_users": {"zh": "账户", "en": "Accounts"},
    "admin_audit": {"zh": "审计日志", "en": "Audit log"},
    "admin_runs": {"zh": "运行与质量检查", "en": "Runs and quality gate"},
    "admin_quarantine": {"zh": "隔离数据下载", "en": "Quarantine files"},
    "role": {"zh": "角色", "en": "Role"},
    "account_status": {"zh": "状态", "en": "Status"},
    "status_active": {"zh": "正常", "en": "Active"},
    "status_disabled": {"zh": "已停用", "en": "Disabled"},
    "status_locked": {"zh": "锁定至 {until}", "en": "Locked until {until}"},
    "add_account": {"zh": "新增账户", "en": "Add an account"},
    "dealer_for_manager": {"zh": "经销商(经销商经理)", "en": "Dealer (dealer manager)"},
    "region_for_manager": {"zh": "大区(大区经理)", "en": "Region (region manager)"},
    "account_created": {
        "zh": "账户 {name} 已创建,初始密码:`{password}`(仅显示一次)",
        "en": "Account {name} created; password: `{password}` (shown once)",
    },
    "account_actions": {"zh": "账户操作", "en": "Account actions"},
    "disable": {"zh": "停用", "en": "Disable"},
    "enable": {"zh": "启用", "en": "Enable"},
    "reset_password": {"zh": "重置密码", "en": "Reset password"},
    "password_reset": {
        "zh": "{name} 的新密码:`{password}`(仅显示一次),其登录会话已全部结束",
        "en": "New password of {name}: `{password}` (shown once); its sessions have ended",
    },
    "audit_intact": {
        "zh": "审计日志完整(共 {n} 条下载记录,哈希链校验通过)",
        "en": "Audit log intact ({n} downloads, hash chain verified)",
    },
    "audit_broken": {
        "zh": "审计日志自第 {entry} 条起被改动!",
        "en": "The audit log was altered from line {entry} on!",
    },
    "audit_downloads": {"zh": "下载记录", "en": "Downloads"},
    "audit_signins": {"zh": "登录记录", "en": "Sign-ins"},
    "audit_when": {"zh": "时间", "en": "When"},
    "audit_who": {"zh": "用户", "en": "Who"},
    "audit_list": {"zh": "名单", "en": "List"},
    "audit_format": {"zh": "格式", "en": "Format"},
    "audit_file": {"zh": "文件名", "en": "File"},
    "audit_rows": {"zh": "行数", "en": "Rows"},
    "audit_full_mobiles": {"zh": "完整手机号数", "en": "Full mobiles"},
    "audit_event": {"zh": "事件", "en": "Event"},
    "audit_detail": {"zh": "说明", "en": "Detail"},
    "month": {"zh": "月份", "en": "Month"},
    "no_runs": {"zh": "尚无运行记录。", "en": "No run has reached the quality gate yet."},
    "gate_passed": {"zh": "质量检查通过", "en": "Quality gate passed"},
    "gate_failed": {"zh": "质量检查未通过", "en": "Quality gate failed"},
    "gate_unreadable": {"zh": "报告无法读取", "en": "Report unreadable"},
    "gate_checks": {"zh": "检查项", "en": "Checks"},
    "gate_failed_checks": {"zh": "未通过项", "en": "Failed checks"},
    "data_docs": {"zh": "查看 Data Docs 数据质量报告", "en": "Open the Data Docs"},
    "quarantine_help": {
        "zh": "按经销商下载被隔离的数据行及原因,发给经销商修正其导出文件(个人信息已脱敏)。",
        "en": "Download a dealer's quarantined rows with their reasons, for the dealer to fix its exports (personal data masked).",
    },
    "no_dealer": {"zh": "未注明经销商", "en": "No dealer named"},
    "unknown_dealer_code": {"zh": "(代码不在经销商主数据中)", "en": "(code not in the dealer master)"},
    "table": {"zh": "数据表", "en": "Table"},
    "reason": {"zh": "原因", "en": "Reason"},
    "download_xlsx": {"zh": "下载 Excel", "en": "Download Excel"},
    "download_csv": {"zh": "下载 CSV", "en": "Download CSV"},
    "download_audited": {
        "zh": "每次下载都会记入审计日志",
        "en": "Every download is written to the audit log",
    },
    "list_due": {"zh": "应提醒", "en": "Due"},
    "list_not_reminded": {"zh": "未提醒", "en": "Not reminded"},
    "list_not_tracked": {"zh": "未跟踪", "en": "Not tracked"},
    "list_not_returned": {"zh": "未回厂", "en": "Not returned"},
    "list_quarantine": {"zh": "隔离数据", "en": "Quarantine"},
}


def lang() -> str:
    return st.session_state.get("lang", "zh")


def t(key: str) -> str:
    entry = _TEXT.get(key)
    if entry is None:
        return key
    return entry.get(lang(), entry["zh"])
