"""WeCom client: consultants, their customers, behaviour statistics, group-message results."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sources.clock import SHANGHAI
from sources.wechat.errors import (
    ApiError,
    ConcurrencyLimited,
    ConfigurationError,
    PaginationLoop,
    Transient,
    WecomFrequencyLimited,
)
from sources.wechat.http import ApiCore, MinutePacer, shared_pacer

MAX_USERIDS = 100
BEHAVIOR_DAYS = 30  # get_user_behavior_data: at most 30 days per call
GROUPMSG_WINDOW = dt.timedelta(days=30)  # get_groupmsg_list_v2: range at most one month


class WecomClient(ApiCore):
    product = "WeCom"
    setting = "wecom.base_url"

    def __init__(
        self, base_url: str, corpid: str, secret: str, calls_per_minute: int | None = None, **kwargs: Any
    ):
        kwargs["max_concurrency"] = min(int(kwargs.get("max_concurrency", 4)), 5)  # 45033 beyond ~5 per API
        super().__init__(base_url, **kwargs)
        self.corpid = corpid
        self._secret = secret
        self.calls_per_minute = calls_per_minute  # None: unpaced (45009 backs off 60 s)

    def _pacer(self, path: str) -> MinutePacer | None:
        if self.calls_per_minute is None:
            return None
        return shared_pacer((self.base_url, self.corpid, path), self.calls_per_minute)

    @classmethod
    def from_settings(cls, settings, **kwargs: Any) -> WecomClient:
        return cls.from_config(settings.wecom, **kwargs)

    @classmethod
    def from_config(cls, cfg, **kwargs: Any) -> WecomClient:
        """A client for the ``[wecom]`` section ``cfg``; ``MissingSecret`` when it has no secret."""
        from sources.wechat.errors import MissingSecret

        if cfg.secret is None or not cfg.secret.get_secret_value():
            raise MissingSecret(
                "wecom.secret is not set: export AFTERCARE_WECOM_SECRET with the secret of the self-built "
                "app allowed to call customer-contact APIs (for the local simulator: the `secret` of "
                "data/wechat/wecom_corp.json)"
            )
        return cls(
            cfg.base_url,
            cfg.corpid,
            cfg.secret.get_secret_value(),
            timeout_s=cfg.timeout_s,
            max_concurrency=cfg.max_concurrency,
            calls_per_minute=cfg.calls_per_minute,
            **kwargs,
        )

    def _fetch_token(self) -> tuple[str, int]:
        data = self._send(
            "GET", "/cgi-bin/gettoken", {"corpid": self.corpid, "corpsecret": self._secret}, None
        )
        code = int(data.get("errcode", 0) or 0)
        if code in (40001, 40091):  # at gettoken these mean a wrong secret
            raise ConfigurationError(
                self.product,
                "/cgi-bin/gettoken",
                code,
                str(data.get("errmsg", "")),
                f"wecom.secret was refused ({code}): check AFTERCARE_WECOM_SECRET",
            )
        if code:
            self._raise_for("/cgi-bin/gettoken", code, str(data.get("errmsg", "")))
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    def _raise_for(self, path: str, errcode: int, errmsg: str) -> None:
        config_hints = {
            40013: (
                "wecom.corpid is unknown to the server (40013): check AFTERCARE_WECOM_CORPID / [wecom] corpid"
            ),
            60020: "this machine's IP is not a trusted IP of the WeCom app (60020): add it under 企业可信IP",
            48002: f"the WeCom app may not call {path} (48002): add it under 客户联系 > 可调用接口的应用",
            48009: "the WeCom secret is of the wrong type (48009): use the self-built app's secret",
            84074: "the WeCom app has no customer-contact permission (84074)",
        }
        if errcode in config_hints:
            raise ConfigurationError(self.product, path, errcode, errmsg, config_hints[errcode])
        if errcode == -1:
            raise Transient(self.product, path, errcode, errmsg)
        if errcode == 45009:
            raise WecomFrequencyLimited(self.product, path, errcode, errmsg)
        if errcode == 45033:
            raise ConcurrencyLimited(self.product, path, errcode, errmsg)
        raise ApiError(self.product, path, errcode, errmsg)

    # -- consultants and customers ------------------------------------------------------------------
    def follow_users(self) -> list[str]:
        return list(
            self.call("GET", "/cgi-bin/externalcontact/get_follow_user_list").get("follow_user") or []
        )

    def customer_ids(self, userid: str) -> list[str]:
        try:
            data = self.call("GET", "/cgi-bin/externalcontact/list", {"userid": userid})
        except ApiError as exc:
            if exc.errcode == 84061:  # a member without customers: an error, not an empty list
                return []
            raise
        return list(data.get("external_userid") or [])

    def customer(self, external_userid: str) -> dict[str, Any] | None:
        """One customer with all its consultants (``follow_user`` pages of 500); None if unknown."""
        follow: list[dict[str, Any]] = []
        cursor, seen = "", set()
        while True:
            params = {"external_userid": external_userid, **({"cursor": cursor} if cursor else {})}
            try:
                data = self.call("GET", "/cgi-bin/externalcontact/get", params)
            except ApiError as exc:
                if exc.errcode in (40096, 84061):  # not (or no longer) a customer of the corp
                    return None
                raise
            follow.extend(data.get("follow_user") or [])
            cursor = str(data.get("next_cursor") or "")
            if not cursor:
                return {"external_contact": data.get("external_contact") or {}, "follow_user": follow}
            if cursor in seen:
                raise PaginationLoop(f"externalcontact/get returned cursor {cursor!r} twice; stopped")
            seen.add(cursor)

    def iter_customers(self, userids: list[str]) -> Iterator[dict[str, Any]]:
        """Every (customer, consultant) relation of ``userids`` via ``batch/get_by_user``.

        The consultants go in chunks of 100, each chunk paged by its own cursor. Chunks are fetched
        ``max_concurrency`` at a time (a few ahead of the one being yielded) and yielded in the
        consultants' order, so the snapshot is the same whatever the timing: one after the other,
        a snapshot at M (~4,500 pages) waited ~2 minutes on round trips alone."""
        chunks = iter([userids[i : i + MAX_USERIDS] for i in range(0, len(userids), MAX_USERIDS)])
        ahead = self.max_concurrency * 2
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="get_by_user") as pool:
            pending = deque(
                pool.submit(self._customers_of, chunk) for chunk in itertools.islice(chunks, ahead)
            )
            while pending:
                # a failed chunk raises here, once the chunks in flight have ended
                contacts = pending.popleft().result()
                pending.extend(
                    pool.submit(self._customers_of, chunk) for chunk in itertools.islice(chunks, 1)
                )
                yield from contacts

    def _customers_of(self, chunk: list[str]) -> list[dict[str, Any]]:
        """Every relation of up to 100 consultants, page after page of their cursor."""
        return self._cursor_pages(
            "/cgi-bin/externalcontact/batch/get_by_user",
            "external_contact_list",
            {"userid_list": chunk, "limit": 100},
        )

    # -- behaviour ----------------------------------------------------------------------------------
    def behavior(self, userid: str, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
        """Daily statistics of one consultant (the API sums over all userids given, so one each)."""
        rows: list[dict[str, Any]] = []
        start = first
        while start <= last:
            end = min(last, start + dt.timedelta(days=BEHAVIOR_DAYS - 1))
            data = self.call(
                "POST",
                "/cgi-bin/externalcontact/get_user_behavior_data",
                body={"userid": [userid], "start_time": _unix(start), "end_time": _unix(end)},
            )
            rows.extend(data.get("behavior_data") or [])
            start = end + dt.timedelta(days=1)
        return rows

    # -- group messages -----------------------------------------------------------------------------
    def groupmsgs(
        self, since: dt.datetime, until: dt.datetime, chat_type: str = "single"
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start = since
        while start < until:
            end = min(until, start + GROUPMSG_WINDOW)
            out.extend(
                self._cursor_pages(
                    "/cgi-bin/externalcontact/get_groupmsg_list_v2",
                    "group_msg_list",
                    {
                        "chat_type": chat_type,
                        "start_time": int(start.timestamp()),
                        "end_time": int(end.timestamp()),
                        "limit": 100,
                    },
                )
            )
            start = end + dt.timedelta(seconds=1)
        return out

    def groupmsg_tasks(self, msgid: str) -> list[dict[str, Any]]:
        return self._cursor_pages(
            "/cgi-bin/externalcontact/get_groupmsg_task", "task_list", {"msgid": msgid, "limit": 1000}
        )

    def groupmsg_send_results(self, msgid: str, userid: str) -> list[dict[str, Any]]:
        return self._cursor_pages(
            "/cgi-bin/externalcontact/get_groupmsg_send_result",
            "send_list",
            {"msgid": msgid, "userid": userid, "limit": 1000},
        )

    def _cursor_pages(self, path: str, key: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = ""
        seen: set[str] = set()
        while True:
            data = self.call("POST", path, body={**body, "cursor": cursor})
            out.extend(data.get(key) or [])
            cursor = str(data.get("next_cursor") or "")
            if not cursor:
                return out
            if cursor in seen:
                raise PaginationLoop(f"{path} returned cursor {cursor!r} twice; stopped")
            seen.add(cursor)


def _unix(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(), SHANGHAI).timestamp())
