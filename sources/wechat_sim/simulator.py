"""The simulator object: state + clock + tokens + quotas + faults + event pushes."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from typing import Any

from sources.wechat_sim.core import FaultPlan, Quotas, RequestLog, SimClock, TokenRegistry
from sources.wechat_sim.events import AES_KEY_ENV, EventPusher
from sources.wechat_sim.state import SimState

OA_ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest, could get access_token by "
    "getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40014: "invalid access_token",
    40032: "invalid openid list size, at most 100",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47001: "data format error",
    48006: "forbid to clear quota because of reaching the limit",
    76021: "cgi_path not found, please check",
}
WECOM_ERRMSG = {
    -1: "system busy",
    40001: "invalid credential",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40058: "invalid Request Parameter",
    40096: "invalid external userid",
    41001: "access_token missing",
    42001: "access_token expired",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    60011: "no privilege to access/modify contact/party/agent",
    60020: "not allow to access from your ip",
    84061: "not external contact",
}


@dataclass
class SimConfig:
    """Behaviour switches, changeable at run time through ``/__sim/config``."""

    page_size: int = 10_000  # user/get
    end_mode: str = "after_last"  # or "empty_last": the last page already carries next_openid ""
    emit_language: bool = False  # the current doc says `language` is no longer provided
    template_failure_rate: float = 0.0  # share of template sends that end "failed: system failed"
    dedup_window_s: int = 600  # client_msg_id: one message per openid + id for 10 minutes
    allowed_ips: list[str] | None = None  # None: every caller is on the allowlist
    template_event_delay_s: float = 0.0

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if not hasattr(self, key):
                raise KeyError(key)
            setattr(self, key, value)


@dataclass
class Simulator:
    state: SimState
    clock: SimClock
    faults: FaultPlan
    events: EventPusher
    seed: int = 0
    config: SimConfig = field(default_factory=SimConfig)
    quotas: Quotas = field(default_factory=Quotas)
    log: RequestLog = field(default_factory=RequestLog)
    tokens: TokenRegistry | None = None
    rng: random.Random | None = None
    sent_templates: list[dict[str, Any]] = field(default_factory=list)
    dedup: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.tokens = TokenRegistry(random.Random(self.seed + 1))

    @classmethod
    def build(cls, state: SimState, faults: float = 0.0, callback_url: str | None = None, seed: int = 0):
        return cls(
            state=state,
            clock=SimClock(state.oa.clock_start),
            faults=FaultPlan(faults, seed),
            events=EventPusher(
                callback_url,
                random.Random(seed + 2),
                appid=state.oa.appid,
                aes_key=os.environ.get(AES_KEY_ENV) or None,
            ),
            seed=seed,
        )

    # -- answers ---------------------------------------------------------------------------------
    def _rid(self) -> str:
        assert self.rng is not None
        return "-".join(f"{self.rng.getrandbits(32):08x}" for _ in range(3))

    def oa_error(self, code: int, detail: str = "") -> dict[str, Any]:
        msg = detail or OA_ERRMSG.get(code, "unknown error")
        return {"errcode": code, "errmsg": f"{msg} rid: {self._rid()}"}

    def wecom_error(self, code: int, ip: str = "127.0.0.1", detail: str = "") -> dict[str, Any]:
        assert self.rng is not None
        msg = detail or WECOM_ERRMSG.get(code, "unknown error")
        hint = f"{int(self.clock.now())}{self.rng.randrange(10**12, 10**13)}"
        return {
            "errcode": code,
            "errmsg": f"{msg}, hint: [{hint}], from ip: {ip}, "
            f"more info at https://open.work.weixin.qq.com/devtool/query?e={code}",
        }
