"""The platform's WeChat Official Account and WeCom client, and the callback receiver.

Talks to whatever ``wechat.base_url`` / ``wecom.base_url`` point at: Tencent or the local simulator.
This package must never import ``sources.wechat_sim`` (a test checks it).
"""

from sources.wechat.errors import (
    ApiError,
    ApiUnreachable,
    BackfillInProgress,
    BudgetSpent,
    ConfigurationError,
    MissingSecret,
    PaginationLoop,
    QuotaExhausted,
    RateLimited,
    TokenRejected,
    WechatError,
)
from sources.wechat.http import FAST_RETRIES, CallBudget, RetryPolicy
from sources.wechat.official_account import OfficialAccountClient
from sources.wechat.wecom import WecomClient

__all__ = [
    "FAST_RETRIES",
    "ApiError",
    "ApiUnreachable",
    "BackfillInProgress",
    "BudgetSpent",
    "CallBudget",
    "ConfigurationError",
    "MissingSecret",
    "OfficialAccountClient",
    "PaginationLoop",
    "QuotaExhausted",
    "RateLimited",
    "RetryPolicy",
    "TokenRejected",
    "WechatError",
    "WecomClient",
]
