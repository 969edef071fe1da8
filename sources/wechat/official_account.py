"""Official Account client: stable token, followers, user info, tags, template messages, quotas."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from sources.wechat.errors import (
    ApiError,
    ConfigurationError,
    MinuteLimited,
    PaginationLoop,
    QuotaExhausted,
    Transient,
)
from sources.wechat.http import ApiCore

BATCH = 100  # user/info/batchget takes at most 100 openids


def chunks(items: list[str], size: int = BATCH) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@dataclass
class FollowerPage:
    openids: list[str]
    resume_from: str  # pass as next_openid to continue after this page ("" = at the end)
    total: int


@dataclass
class BatchResult:
    """User info of a batch run; ``error`` is set when the run stopped early (e.g. quota)."""

    infos: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: int = 0
    error: Exception | None = None


class OfficialAccountClient(ApiCore):
    product = "WeChat"
    setting = "wechat.base_url"

    def __init__(self, base_url: str, appid: str, secret: str, **kwargs: Any):
        super().__init__(base_url, **kwargs)
        self.appid = appid
        self._secret = secret

    @classmethod
    def from_settings(cls, settings, **kwargs: Any) -> OfficialAccountClient:
        return cls.from_config(settings.wechat, **kwargs)

    @classmethod
    def from_config(cls, cfg, **kwargs: Any) -> OfficialAccountClient:
        """A client for the ``[wechat]`` section ``cfg``; ``MissingSecret`` when it has no secret."""
        from sources.wechat.errors import MissingSecret

        if cfg.secret is None or not cfg.secret.get_secret_value():
            raise MissingSecret(
                "wechat.secret is not set: export AFTERCARE_WECHAT_SECRET with the Official Account's "
                "AppSecret (for the local simulator: the `secret` of data/wechat/oa_account.json)"
            )
        return cls(
            cfg.base_url,
            cfg.appid,
            cfg.secret.get_secret_value(),
            timeout_s=cfg.timeout_s,
            max_concurrency=cfg.max_concurrency,
            **kwargs,
        )

    # -- token --------------------------------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, int]:
        body = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self._secret,
            "force_refresh": False,
        }
        data = self._send("POST", "/cgi-bin/stable_token", None, body)
        code = int(data.get("errcode", 0) or 0)
        if code == 40001:  # at the token endpoint 40001 means a wrong AppSecret, not a stale token
            code = 40125
        if code:
            self._raise_for("/cgi-bin/stable_token", code, str(data.get("errmsg", "")))
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    def _raise_for(self, path: str, errcode: int, errmsg: str) -> None:
        config_hints = {
            40013: (
                "wechat.appid is unknown to the server (40013): check AFTERCARE_WECHAT_APPID / [wechat] appid"
            ),
            40125: (
                "wechat.secret was refused (40125): check AFTERCARE_WECHAT_SECRET (the AppSecret of the "
                "account)"
            ),
            40164: (
                "this machine's IP is not on the Official Account's API IP allowlist (40164): add it in "
                "the MP console (设置与开发 > 基本配置 > IP白名单)"
            ),
            48001: (
                f"the Official Account may not call {path} (48001): it needs a verified service account "
                "with this feature enabled"
            ),
            48006: "clear_quota was used 10 times this month (48006): wait for next month",
        }
        if errcode in config_hints:
            raise ConfigurationError(self.product, path, errcode, errmsg, config_hints[errcode])
        if errcode == -1:
            raise Transient(self.product, path, errcode, errmsg)
        if errcode == 45011:
            raise MinuteLimited(self.product, path, errcode, errmsg)
        if errcode == 45009:
            raise QuotaExhausted(
                self.product,
                path,
                errcode,
                errmsg,
                f"the daily quota of {path} is exhausted (45009); the next run continues where this one "
                "stopped (or an operator may call clear_quota)",
            )
        raise ApiError(self.product, path, errcode, errmsg)

    # -- followers ----------------------------------------------------------------------------------
    def iter_follower_pages(self, next_openid: str = "") -> Iterator[FollowerPage]:
        """Pages of ``user/get``; accepts every documented and observed end-of-list signal."""
        sent = next_openid
        seen: set[str] = set()
        while True:
            params = {"next_openid": sent} if sent else {}
            data = self.call("GET", "/cgi-bin/user/get", params)
            openids = list((data.get("data") or {}).get("openid") or [])
            returned = str(data.get("next_openid") or "")
            total = int(data.get("total", 0) or 0)
            if int(data.get("count", 0) or 0) == 0 or not openids:
                return
            if returned and (returned == sent or returned in seen):
                raise PaginationLoop(
                    f"user/get returned next_openid {returned!r} again after {len(seen)} pages; stopped"
                )
            yield FollowerPage(openids, returned, total)
            if not returned:
                return
            seen.add(returned)
            sent = returned

    def user_info_batch(self, openids: list[str], lang: str = "zh_CN") -> list[dict[str, Any]]:
        if not 0 < len(openids) <= BATCH:
            raise ValueError(f"user/info/batchget takes 1..{BATCH} openids, got {len(openids)}")
        data = self.call(
            "POST",
            "/cgi-bin/user/info/batchget",
            body={"user_list": [{"openid": o, "lang": lang} for o in openids]},
        )
        return list(data.get("user_info_list") or [])

    def user_infos(self, openids: Iterable[str]) -> BatchResult:
        """User info for many openids: batches of 100, ``max_concurrency`` in flight.

        Stops at the first non-transient error but keeps every batch that succeeded, so the
        caller can persist them and resume with the rest.
        """
        result = BatchResult()
        batches = list(chunks(list(openids)))
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="batchget") as pool:
            futures = {}
            pending = iter(batches)
            # keep a bounded number in flight so an early stop wastes little quota
            for batch in _take(pending, self.max_concurrency * 2):
                futures[pool.submit(self.user_info_batch, batch)] = batch
            while futures:
                for future in as_completed(list(futures)):
                    futures.pop(future)
                    try:
                        infos = future.result()
                    except Exception as exc:  # noqa: BLE001 - reported to the caller after the drain
                        result.error = result.error or exc
                        continue
                    result.calls += 1
                    for info in infos:
                        result.infos[info["openid"]] = info
                    if result.error is None:
                        for batch in _take(pending, 1):
                            futures[pool.submit(self.user_info_batch, batch)] = batch
                    break
        return result

    def tags(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/cgi-bin/tags/get").get("tags") or [])

    # -- messages and quota -------------------------------------------------------------------------
    def send_template(
        self, touser: str, template_id: str, data: dict[str, Any], client_msg_id: str, url: str | None = None
    ) -> int:
        body: dict[str, Any] = {
            "touser": touser,
            "template_id": template_id,
            "client_msg_id": client_msg_id,
            "data": data,
        }
        if url:
            body["url"] = url
        return int(self.call("POST", "/cgi-bin/message/template/send", body=body)["msgid"])

    def quota(self, cgi_path: str) -> dict[str, Any]:
        return self.call("POST", "/cgi-bin/openapi/quota/get", body={"cgi_path": cgi_path})


def _take(iterator: Iterator[list[str]], n: int) -> list[list[str]]:
    out = []
    for _ in range(n):
        try:
            out.append(next(iterator))
        except StopIteration:
            break
    return out
