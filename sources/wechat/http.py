"""The shared HTTP core: one keep-alive ``httpx.Client``, a token provider, the retry table of
reference/wechat-api.md §5, and a bounded token refresh.

| condition | retried? | policy |
|---|---|---|
| transport error, HTTP 5xx, unreadable body, errcode -1 | yes | back-off with jitter, ``attempts`` tries |
| OA 45011 (minute limit) | yes | wait until the next minute boundary (+ jitter), at most 3 tries |
| WeCom 45033 (concurrency) | yes | 0.5-2 s jittered |
| WeCom 45009 (frequency) | yes, bounded | 60 s, then ``RateLimited`` (``MinutePacer`` keeps calls under it) |
| OA 45009 (daily quota) | no | ``QuotaExhausted`` |
| 40001 / 40014 / 42001 on an API call | once | fetch a new token, retry; again -> ``TokenRejected`` |
| credentials / allowlist / permission codes | no | ``ConfigurationError`` naming the setting |
| data errors (40003, 40037, 43004, 84061, 60011, ...) | no | ``ApiError`` with the errcode |

A transport error is a failed connect, a timeout or a cut connection; the back-off is exponential.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import tenacity

from sources.wechat.errors import (
    ApiError,
    ApiUnreachable,
    BudgetSpent,
    ConcurrencyLimited,
    MinuteLimited,
    RateLimited,
    TokenRejected,
    Transient,
    WecomFrequencyLimited,
)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
TOKEN_MARGIN_S = 300  # refresh this long before expiry (the platform rotates 5 minutes early)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    initial_wait_s: float = 0.5
    max_wait_s: float = 8.0
    minute_wait_s: float | None = None  # None: until the next minute boundary
    minute_attempts: int = 3
    wecom_frequency_wait_s: float = 60.0
    wecom_frequency_attempts: int = 2
    concurrency_wait_s: tuple[float, float] = (0.5, 2.0)


FAST_RETRIES = RetryPolicy(
    initial_wait_s=0.02,
    max_wait_s=0.2,
    minute_wait_s=0.05,
    wecom_frequency_wait_s=0.05,
    concurrency_wait_s=(0.01, 0.05),
)  # for tests


class TokenProvider:
    """Caches one access token; a single fetch at a time (single-flight) across threads."""

    def __init__(self, fetch: Callable[[], tuple[str, int]]):
        self._fetch = fetch
        self._lock = threading.Lock()
        self._token: str | None = None
        self._valid_until = 0.0
        self.fetches = 0

    def get(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._valid_until:
                token, expires_in = self._fetch()
                self.fetches += 1
                self._token = token
                self._valid_until = time.monotonic() + max(
                    expires_in - TOKEN_MARGIN_S, min(60, expires_in / 2)
                )
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` unless another thread already replaced it."""
        with self._lock:
            if self._token == token:
                self._token = None


class CallBudget:
    """At most ``limit`` API calls for one pull in one run, counted across threads.

    A run that reaches the limit is not an error: ``take`` raises ``BudgetSpent``, the pull stores
    what it has and the next run resumes from the pull's cursor. Every ``progress_every`` calls a
    line goes to ``log`` so an operator can follow a long backfill.
    """

    def __init__(
        self,
        limit: int,
        progress_every: int = 1000,
        log: Callable[[str], None] | None = None,
        label: str = "API",
    ):
        self.limit, self.progress_every, self.label = limit, max(1, progress_every), label
        self._log = log
        self._lock = threading.Lock()
        self.used = 0
        self.planned: int | None = None  # the pull's own estimate of the calls it needs, for the log

    @property
    def left(self) -> int:
        with self._lock:
            return max(0, self.limit - self.used)

    def take(self, path: str) -> None:
        with self._lock:
            if self.used >= self.limit:
                raise BudgetSpent(
                    f"{self.label}: this run's budget of {self.limit} calls is used up (at {path}); "
                    "the next run continues"
                )
            self.used += 1
            used = self.used
        if self._log is not None and used % self.progress_every == 0:
            planned = f" of ~{self.planned} planned" if self.planned else ""
            self._log(f"{self.label}: {used} calls made{planned} (budget {self.limit} this run)")


class MinutePacer:
    """At most ``limit`` calls in any ``window_s`` seconds, counted across threads.

    WeCom blocks an API for 60 s once a corp passes its 10,000 calls a minute (reference/wechat-api.md
    §3.7). A month-end run asks the behaviour API once per consultant, ~10,700 calls at 1M vehicles:
    unpaced, the first 10,000 went in ~14 s and the rest waited out the 60 s block (83 s in all);
    paced, the rest go as soon as the first calls are a minute old (~62 s). A sliding window never
    holds more than ``limit`` calls in any calendar minute either, whichever the server counts.
    ``clock`` and ``sleep`` are parameters for the tests."""

    def __init__(
        self,
        limit: int,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.limit, self.window_s = max(1, limit), window_s
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._calls: deque[float] = deque()
        self.waited_s = 0.0  # how long callers waited in all, for the log and the tests

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._calls and self._calls[0] <= now - self.window_s:
                    self._calls.popleft()
                if len(self._calls) < self.limit:
                    self._calls.append(now)
                    return
                wait = self._calls[0] + self.window_s - now
                self.waited_s += wait
            self._sleep(wait)  # outside the lock: the other threads see the window slide too


_PACERS: dict[tuple[str, ...], MinutePacer] = {}
_PACERS_LOCK = threading.Lock()


def shared_pacer(key: tuple[str, ...], limit: int) -> MinutePacer:
    """The process's one pacer for ``key`` (WeCom counts per corp and API, not per client: the pulls'
    clients of one run share it)."""
    with _PACERS_LOCK:
        pacer = _PACERS.get(key)
        if pacer is None or pacer.limit != limit:
            pacer = _PACERS[key] = MinutePacer(limit)
        return pacer


class ApiCore:
    """HTTP + retries + token handling shared by the OA and the WeCom clients."""

    product = "wechat"
    setting = "wechat.base_url"

    def __init__(
        self,
        base_url: str,
        timeout_s: float = 10.0,
        max_concurrency: int = 4,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        budget: CallBudget | None = None,
    ):
        self.budget = budget
        self.base_url = base_url.rstrip("/")
        self.max_concurrency = max(1, max_concurrency)
        self.retry = retry or RetryPolicy()
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout_s,
            limits=httpx.Limits(
                max_connections=self.max_concurrency + 2, max_keepalive_connections=self.max_concurrency + 2
            ),
            transport=transport,
        )
        self.tokens = TokenProvider(self._fetch_token)
        self._slots = threading.BoundedSemaphore(self.max_concurrency)

    # -- overridden by the product clients ---------------------------------------------------------
    def _fetch_token(self) -> tuple[str, int]:
        raise NotImplementedError

    def _raise_for(self, path: str, errcode: int, errmsg: str) -> None:
        raise NotImplementedError

    def _pacer(self, path: str) -> MinutePacer | None:
        """The pacer of ``path``'s calls, if the product has a minute limit to keep under."""
        return None

    # -- plumbing -----------------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _send(self, method: str, path: str, params: dict[str, Any] | None, body: Any) -> dict[str, Any]:
        content = None
        headers = {}
        if body is not None:
            # UTF-8 JSON, never \uXXXX escapes (those give 40033)
            content = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        pacer = self._pacer(path)
        if pacer is not None:
            pacer.acquire()  # every request counts on the server, a retry's too
        try:
            with self._slots:
                response = self._http.request(method, path, params=params, content=content, headers=headers)
        except httpx.ConnectError as exc:
            raise _Unreachable(self.product, path, -2, str(exc)) from exc
        except httpx.TransportError as exc:
            raise Transient(self.product, path, -3, f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise Transient(self.product, path, -response.status_code, f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise ApiError(self.product, path, -response.status_code, f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise Transient(self.product, path, -4, "answer is not JSON") from exc
        if not isinstance(data, dict):
            raise Transient(self.product, path, -4, "answer is not a JSON object")
        return data

    def _checked(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        code = int(data.get("errcode", 0) or 0)  # success answers of some OA GETs carry no errcode
        if code:
            self._raise_for(path, code, str(data.get("errmsg", "")))
        return data

    def _attempt(self, method: str, path: str, params: dict[str, Any] | None, body: Any, auth: bool) -> dict:
        if not auth:
            return self._checked(path, self._send(method, path, params, body))
        token = self.tokens.get()
        data = self._send(method, path, {**(params or {}), "access_token": token}, body)
        if int(data.get("errcode", 0) or 0) in TOKEN_ERRORS:
            # the token was superseded, expired early or revoked: one refresh, one retry, never a loop
            self.tokens.invalidate(token)
            token = self.tokens.get()
            data = self._send(method, path, {**(params or {}), "access_token": token}, body)
            code = int(data.get("errcode", 0) or 0)
            if code in TOKEN_ERRORS:
                raise TokenRejected(
                    self.product,
                    path,
                    code,
                    str(data.get("errmsg", "")),
                    f"{self.product} {path} refused a freshly fetched access token ({code}); "
                    "another process may be force-refreshing it",
                )
        return self._checked(path, data)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        policy = self.retry
        if isinstance(exc, MinuteLimited):
            if policy.minute_wait_s is not None:
                return policy.minute_wait_s
            return 60 - (time.time() % 60) + random.uniform(0.1, 1.0)
        if isinstance(exc, WecomFrequencyLimited):
            return policy.wecom_frequency_wait_s
        if isinstance(exc, ConcurrencyLimited):
            return random.uniform(*policy.concurrency_wait_s)
        return tenacity.wait_exponential_jitter(initial=policy.initial_wait_s, max=policy.max_wait_s)(state)

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        policy = self.retry
        if isinstance(exc, MinuteLimited):
            limit = policy.minute_attempts
        elif isinstance(exc, WecomFrequencyLimited):
            limit = policy.wecom_frequency_attempts
        else:
            limit = policy.attempts
        return state.attempt_number >= limit

    def call(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        auth: bool = True,
    ) -> dict[str, Any]:
        if self.budget is not None:
            self.budget.take(path)
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Transient),
            wait=self._wait,
            stop=self._stop,
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, path, params, body, auth)
        except _Unreachable as exc:
            raise ApiUnreachable(
                f"cannot reach {self.product} API at {self.base_url}: start `aftercare simulate --data data` "
                f"or set {self.setting} ({exc.errmsg})"
            ) from exc
        except (MinuteLimited, WecomFrequencyLimited) as exc:
            raise RateLimited(
                self.product,
                path,
                exc.errcode,
                exc.errmsg,
                f"{self.product} {path} stayed rate-limited ({exc.errcode}) through the back-off",
            ) from exc


class _Unreachable(Transient):
    """Connection refused: retried like any transport error, then reported as ApiUnreachable."""
