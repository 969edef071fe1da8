"""Typed errors of the WeChat / WeCom client. Callers branch on these classes, never on errmsg."""

from __future__ import annotations


class WechatError(Exception):
    """Base class of everything the client raises."""


class ApiError(WechatError):
    """A business error answer: ``errcode`` != 0."""

    def __init__(self, product: str, path: str, errcode: int, errmsg: str, hint: str = ""):
        self.product = product
        self.path = path
        self.errcode = errcode
        self.errmsg = errmsg
        text = hint or f"{product} {path} answered errcode {errcode}"
        # errmsg is kept for the logs (its rid/hint helps Tencent support); nothing parses it
        super().__init__(f"{text} ({errmsg})" if errmsg else text)


class Transient(ApiError):
    """Retried with back-off: system busy (-1), HTTP 5xx, transport failures, unreadable answers."""


class MinuteLimited(Transient):
    """OA 45011: the per-minute limit; wait for the next minute."""


class WecomFrequencyLimited(Transient):
    """WeCom 45009: minute/hour frequency limit; back off 60 s, a bounded number of times."""


class ConcurrencyLimited(Transient):
    """WeCom 45033: too many concurrent calls to one API."""


class TokenRejected(ApiError):
    """The API refused a token that was just refreshed: not retried further."""


class QuotaExhausted(ApiError):
    """OA 45009: the daily quota of this API is spent; retrying today is pointless."""


class RateLimited(ApiError):
    """A frequency limit that persisted through the bounded back-off."""


class ConfigurationError(ApiError):
    """Credentials, allowlist or permission: the message says which setting to fix."""


class ApiUnreachable(WechatError):
    """No connection to the API at all (nothing listening, DNS, proxy)."""


class PaginationLoop(WechatError):
    """The server handed back a cursor / next_openid already used: stop instead of looping."""


class BudgetSpent(WechatError):
    """This run's call budget (``wecom.call_budget``) is used up; the pull saves its progress and
    the next run continues from its cursor."""


class BackfillInProgress(WechatError):
    """A pull stopped at its call budget with its progress saved: not an error, the next run goes on."""

    def __init__(self, message: str, done: int, left: int):
        self.done, self.left = done, left
        super().__init__(message)


class MissingSecret(WechatError):
    """``wechat.secret`` / ``wecom.secret`` is not set."""
