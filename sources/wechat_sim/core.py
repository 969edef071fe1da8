"""Clock, tokens, quotas, faults and bookkeeping of the simulator (no HTTP here)."""

from __future__ import annotations

import base64
import datetime as dt
import random
import string
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from sources.wechat_sim.state import SHANGHAI

TOKEN_LIFETIME_S = 7200
GRACE_S = 300  # a superseded or rotated token keeps working this long
# a token must have served this many calls before a fault may kill it early, so a freshly
# refreshed token is never invalidated on the very retry that follows the refresh
EARLY_INVALIDATION_MIN_USES = 20

# Default daily quotas of a new account (reference/wechat-api.md 2.9), per API path.
OA_DAILY_QUOTAS: dict[str, int] = {
    "/cgi-bin/token": 2000,
    "/cgi-bin/stable_token": 500_000,
    "/cgi-bin/user/get": 500,
    "/cgi-bin/user/info": 5_000_000,
    "/cgi-bin/user/info/batchget": 5_000_000,
    "/cgi-bin/tags/get": 1000,
    "/cgi-bin/message/template/send": 100_000,
    "/cgi-bin/openapi/quota/get": 1000,
}
OA_MINUTE_LIMITS: dict[str, int] = {
    "/cgi-bin/stable_token": 10_000,
    "/cgi-bin/user/info/batchget": 60_000,
    "/cgi-bin/message/template/send": 60_000,
}
WECOM_MINUTE_LIMIT = 10_000  # per corp per API (document 90454)
WECOM_HOUR_LIMIT = 150_000
WECOM_CONCURRENCY = 5  # per corp per API, 45033 beyond


class SimClock:
    """Simulated wall clock: starts at ``clock_start`` and runs with real time, plus advances."""

    def __init__(self, start: dt.datetime):
        self._start = start.timestamp()
        self._t0 = time.monotonic()
        self._offset = 0.0

    def now(self) -> float:
        return self._start + (time.monotonic() - self._t0) + self._offset

    def advance(self, seconds: float) -> float:
        self._offset += seconds
        return self.now()

    def day(self) -> dt.date:
        """The quota day: daily counters reset at 00:00 Asia/Shanghai."""
        return dt.datetime.fromtimestamp(self.now(), SHANGHAI).date()

    def isoformat(self) -> str:
        return dt.datetime.fromtimestamp(self.now(), SHANGHAI).isoformat()


@dataclass
class Token:
    value: str
    product: str  # "oa_stable" | "oa_classic" | "wecom"
    issued_at: float
    expires_at: float
    dead_after: float | None = None  # superseded: valid until then
    invalidated: bool = False
    uses: int = 0


class TokenRegistry:
    def __init__(self, rng: random.Random):
        self._rng = rng
        self.tokens: dict[str, Token] = {}
        self.current: dict[str, Token | None] = {"oa_stable": None, "oa_classic": None, "wecom": None}
        self.force_refreshes: list[float] = []

    def _new(self, product: str, now: float) -> Token:
        prefix = "92_" if product.startswith("oa") else ""
        body = "".join(self._rng.choices(string.ascii_letters + string.digits + "-_", k=136))
        token = Token(prefix + body, product, now, now + TOKEN_LIFETIME_S)
        self.tokens[token.value] = token
        self.current[product] = token
        return token

    def _usable(self, token: Token | None, now: float) -> bool:
        return (
            token is not None
            and not token.invalidated
            and now < token.expires_at
            and (token.dead_after is None or now < token.dead_after)
        )

    def classic(self, now: float) -> Token:
        """``cgi-bin/token``: a new token per call, the previous one lives 5 more minutes."""
        previous = self.current["oa_classic"]
        if previous is not None:
            previous.dead_after = min(previous.expires_at, now + GRACE_S)
        return self._new("oa_classic", now)

    def stable(self, now: float, force: bool) -> Token:
        """``cgi-bin/stable_token``: the same token while valid, rotated 5 minutes before expiry."""
        current = self.current["oa_stable"]
        if force and current is not None:
            today = [t for t in self.force_refreshes if now - t < 86_400]
            spaced = not self.force_refreshes or now - self.force_refreshes[-1] >= 30
            if len(today) < 20 and spaced:  # otherwise: no refresh, the current token comes back
                self.force_refreshes.append(now)
                current.invalidated = True
                return self._new("oa_stable", now)
        if not self._usable(current, now) or current.expires_at - now < GRACE_S:
            if current is not None and self._usable(current, now):
                current.dead_after = min(current.expires_at, now + GRACE_S)
            return self._new("oa_stable", now)
        return current

    def wecom(self, now: float) -> Token:
        """WeCom ``gettoken``: the same token while valid, a new one after expiry or revocation."""
        current = self.current["wecom"]
        if self._usable(current, now):
            return current
        return self._new("wecom", now)

    def check(self, value: str | None, now: float, products: tuple[str, ...]) -> int:
        """0 when the token may be used, else the errcode a real server answers."""
        if not value:
            return 41001
        token = self.tokens.get(value)
        if token is None or token.product not in products:
            return 40014 if "wecom" in products else 40001
        if token.invalidated or (token.dead_after is not None and now >= token.dead_after):
            return 40001 if token.product != "wecom" else 40014
        if now >= token.expires_at:
            return 42001
        token.uses += 1
        return 0

    def invalidate(self, products: tuple[str, ...]) -> int:
        killed = 0
        for product in products:
            token = self.current.get(product)
            if token is not None and not token.invalidated:
                token.invalidated = True
                killed += 1
            self.current[product] = None
        return killed

    def invalidate_early(self, value: str | None) -> bool:
        """Fault: kill a well-used current token before its time (Tencent may do this)."""
        token = self.tokens.get(value or "")
        if token is None or token.invalidated or token.uses < EARLY_INVALIDATION_MIN_USES:
            return False
        if self.current.get(token.product) is not token:
            return False
        token.invalidated = True
        self.current[token.product] = None
        return True


class Quotas:
    """Daily counters per API (45009 for the OA) and per-minute / per-hour windows."""

    def __init__(self) -> None:
        self.daily_limits: dict[str, int] = dict(OA_DAILY_QUOTAS)
        self.minute_limits: dict[str, int] = dict(OA_MINUTE_LIMITS)
        self.daily: Counter[tuple[dt.date, str]] = Counter()
        self.windows: Counter[tuple[str, int, str]] = Counter()
        self.clears: list[float] = []
        self.in_flight: Counter[str] = Counter()

    def used(self, day: dt.date, path: str) -> int:
        return self.daily[(day, path)]

    def take_oa(self, path: str, day: dt.date, now: float) -> int:
        """Count one OA call; 45009 when the daily quota is spent, 45011 when the minute is."""
        limit = self.daily_limits.get(path)
        if limit is not None and self.daily[(day, path)] >= limit:
            return 45009
        minute_limit = self.minute_limits.get(path)
        minute = int(now // 60)
        if minute_limit is not None and self.windows[("m", minute, path)] >= minute_limit:
            return 45011
        self.daily[(day, path)] += 1
        self.windows[("m", minute, path)] += 1
        return 0

    def take_wecom(self, path: str, now: float) -> int:
        minute, hour = int(now // 60), int(now // 3600)
        limit_m = self.minute_limits.get(path, WECOM_MINUTE_LIMIT)
        limit_h = self.daily_limits.get(path, WECOM_HOUR_LIMIT)  # WeCom: the hour window
        if self.windows[("m", minute, path)] >= limit_m or self.windows[("h", hour, path)] >= limit_h:
            return 45009
        self.windows[("m", minute, path)] += 1
        self.windows[("h", hour, path)] += 1
        return 0

    def reset(self) -> None:
        self.daily.clear()
        self.windows.clear()


FAULT_KINDS = (("busy", 0.35), ("drop", 0.2), ("slow", 0.15), ("http502", 0.1), ("invalidate_token", 0.2))


@dataclass
class Fault:
    kind: str  # busy | drop | slow | http502 | invalidate_token | errcode | http_status | delay
    delay: float = 0.0
    errcode: int | None = None
    http_status: int | None = None


class FaultPlan:
    """Random faults at ``rate`` (deterministic for a seed) plus injected next-N responses."""

    def __init__(self, rate: float, seed: int):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"--faults must be between 0 and 1, got {rate}")
        self.rate = rate
        self._rng = random.Random(seed)
        self.injected: dict[str, deque[Fault]] = {}
        self.fired: Counter[str] = Counter()

    def reseed(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def inject(self, path: str, fault: Fault, count: int) -> None:
        self.injected.setdefault(path, deque()).extend([fault] * count)

    def draw(self, path: str) -> Fault | None:
        for key in (path, "*"):
            queue = self.injected.get(key)
            if queue:
                fault = queue.popleft()
                self.fired[fault.kind] += 1
                return fault
        if self.rate <= 0 or self._rng.random() >= self.rate:
            return None
        pick, acc = self._rng.random(), 0.0
        kind = FAULT_KINDS[-1][0]
        for name, weight in FAULT_KINDS:
            acc += weight
            if pick < acc:
                kind = name
                break
        self.fired[kind] += 1
        return Fault(kind, delay=self._rng.uniform(0.2, 1.2) if kind == "slow" else 0.0)


@dataclass
class RequestLog:
    """Counters per path and a bounded log of recent requests, for tests and the operator."""

    calls: Counter[str] = field(default_factory=Counter)
    errcodes: Counter[tuple[str, int]] = field(default_factory=Counter)
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20_000))

    def record(self, path: str, errcode: int, now: float, detail: str = "") -> None:
        self.calls[path] += 1
        self.errcodes[(path, errcode)] += 1
        self.recent.append({"t": round(now, 3), "path": path, "errcode": errcode, "detail": detail})

    def snapshot(self) -> dict[str, Any]:
        by_path: dict[str, dict[str, int]] = {}
        for (path, code), n in self.errcodes.items():
            by_path.setdefault(path, {})[str(code)] = n
        return {"calls": dict(self.calls), "errcodes": by_path}

    def reset(self) -> None:
        self.calls.clear()
        self.errcodes.clear()
        self.recent.clear()


def encode_cursor(*parts: int) -> str:
    """An opaque cursor, as WeCom's are (base64 of something the client must not parse)."""
    raw = "sim:" + ":".join(str(p) for p in parts)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, n: int) -> tuple[int, ...] | None:
    if not cursor:
        return (0,) * n
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
        prefix, *parts = raw.split(":")
        values = tuple(int(p) for p in parts)
    except (ValueError, UnicodeDecodeError):
        return None
    if prefix != "sim" or len(values) != n or min(values) < 0:
        return None
    return values
