"""The simulator's ASGI app: real ``/cgi-bin/...`` paths for both products plus ``/__sim/`` controls.

Every business answer is HTTP 200 + JSON, as Tencent's are. Faults (``--faults RATE`` or injected
through ``/__sim/inject``) are applied by :class:`FaultLayer` in front of the routes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sources.wechat_sim import oa, wecom
from sources.wechat_sim.core import WECOM_CONCURRENCY, Fault
from sources.wechat_sim.oa import Req
from sources.wechat_sim.simulator import Simulator

Handler = Callable[[Simulator, Req], dict[str, Any]]

# path -> (product, needs_token, handler); product "oa" or "wecom"
ENDPOINTS: dict[str, tuple[str, bool, Handler]] = {
    "/cgi-bin/token": ("oa", False, oa.token),
    "/cgi-bin/stable_token": ("oa", False, oa.stable_token),
    "/cgi-bin/user/get": ("oa", True, oa.user_get),
    "/cgi-bin/user/info": ("oa", True, oa.user_info),
    "/cgi-bin/user/info/batchget": ("oa", True, oa.user_info_batchget),
    "/cgi-bin/tags/get": ("oa", True, oa.tags_get),
    "/cgi-bin/message/template/send": ("oa", True, oa.template_send),
    "/cgi-bin/openapi/quota/get": ("oa", True, oa.quota_get),
    "/cgi-bin/clear_quota": ("oa", True, oa.clear_quota),
    "/cgi-bin/clear_quota/v2": ("oa", False, lambda sim, req: oa.clear_quota(sim, req, with_secret=True)),
    "/cgi-bin/gettoken": ("wecom", False, wecom.gettoken),
    "/cgi-bin/externalcontact/get_follow_user_list": ("wecom", True, wecom.get_follow_user_list),
    "/cgi-bin/externalcontact/list": ("wecom", True, wecom.contact_list),
    "/cgi-bin/externalcontact/get": ("wecom", True, wecom.contact_get),
    "/cgi-bin/externalcontact/batch/get_by_user": ("wecom", True, wecom.batch_get_by_user),
    "/cgi-bin/externalcontact/get_user_behavior_data": ("wecom", True, wecom.user_behavior_data),
    "/cgi-bin/externalcontact/get_groupmsg_list_v2": ("wecom", True, wecom.groupmsg_list_v2),
    "/cgi-bin/externalcontact/get_groupmsg_task": ("wecom", True, wecom.groupmsg_task),
    "/cgi-bin/externalcontact/get_groupmsg_send_result": ("wecom", True, wecom.groupmsg_send_result),
}
WECOM_PREFIX = "/wecom"  # optional: a separate base URL for WeCom (wecom.base_url = .../wecom)
TOKEN_PRODUCTS = {"oa": ("oa_stable", "oa_classic"), "wecom": ("wecom",)}

log = logging.getLogger("wechat_sim")


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=status, media_type="application/json; encoding=utf-8")


def _client_ip(request: Request) -> str:
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "127.0.0.1"


def _api_path(path: str) -> str:
    return path[len(WECOM_PREFIX) :] if path.startswith(WECOM_PREFIX + "/cgi-bin/") else path


async def api(request: Request) -> Response:
    sim: Simulator = request.app.state.sim
    path = _api_path(request.url.path)
    endpoint = ENDPOINTS.get(path)
    now = sim.clock.now()
    if endpoint is None:
        payload = sim.oa_error(48001, "api unauthorized")
        sim.log.record(path, 48001, now)
        return _json(payload)
    product, needs_token, handler = endpoint
    raw = await request.body()
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
    req = Req(dict(request.query_params), body, _client_ip(request), raw)
    error: int | None = None
    if needs_token:
        code = sim.tokens.check(req.query.get("access_token"), now, TOKEN_PRODUCTS[product])
        if code:
            error = code
    if error is None:
        error = (
            sim.quotas.take_oa(path, sim.clock.day(), now)
            if product == "oa"
            else sim.quotas.take_wecom(path, now)
        ) or None
    # in_flight counts this request too (FaultLayer counts from arrival to answer, slow ones included)
    if error is None and product == "wecom" and sim.quotas.in_flight[path] > WECOM_CONCURRENCY:
        error = 45033
    if error is not None:
        payload = sim.oa_error(error) if product == "oa" else sim.wecom_error(error, req.ip)
    else:
        payload = handler(sim, req)
    # WeCom APIs take their arguments in the body: logged so tests can tell repeated calls apart
    detail = (
        req.query.get("openid", "") if product == "oa" or not raw else raw.decode("utf-8", "replace")[:300]
    )
    sim.log.record(path, int(payload.get("errcode", 0)), now, detail)
    return _json(payload)


class SimulatedDrop(Exception):
    """Raised on purpose after half a response so the connection is cut (a fault)."""


class FaultLayer:
    """ASGI middleware: busy answers, 502s, slow answers, dropped connections, token kills."""

    def __init__(self, app, sim: Simulator):
        self.app = app
        self.sim = sim

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or "/cgi-bin/" not in scope["path"]:
            return await self.app(scope, receive, send)
        path = _api_path(scope["path"])
        in_flight = self.sim.quotas.in_flight
        in_flight[path] += 1
        try:
            return await self._faulty(path, scope, receive, send)
        finally:
            in_flight[path] -= 1

    async def _faulty(self, path, scope, receive, send):
        sim = self.sim
        fault: Fault | None = sim.faults.draw(path)
        if fault is None:
            return await self.app(scope, receive, send)
        product = ENDPOINTS.get(path, ("oa",))[0]
        now = sim.clock.now()
        if fault.kind in ("slow", "delay") or fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.kind in ("busy", "errcode"):
            code = fault.errcode if fault.errcode is not None else -1
            payload = sim.oa_error(code) if product == "oa" else sim.wecom_error(code)
            sim.log.record(path, code, now, "fault")
            return await _json(payload)(scope, receive, send)
        if fault.kind in ("http502", "http_status"):
            status = fault.http_status or 502
            sim.log.record(path, -status, now, "fault")
            response = Response(
                f"<html><body>{status} Bad Gateway</body></html>", status, media_type="text/html"
            )
            return await response(scope, receive, send)
        if fault.kind == "invalidate_token":
            query = parse_qs(scope.get("query_string", b"").decode())
            sim.tokens.invalidate_early((query.get("access_token") or [None])[0])
            return await self.app(scope, receive, send)
        if fault.kind == "drop":
            # the server does the work; the answer is lost half way
            async def swallow(message):
                return None

            await self.app(scope, receive, swallow)  # counted there; the client sees a cut connection
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"errcode":0,', "more_body": True})
            raise SimulatedDrop(path)
        return await self.app(scope, receive, send)


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, SimulatedDrop)


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


def build_app(sim: Simulator):
    from sources.wechat_sim import control

    routes = [
        Route("/", lambda request: JSONResponse({"simulator": "wechat", "now": sim.clock.isoformat()})),
        *control.routes(),
        Route("/cgi-bin/{rest:path}", api, methods=["GET", "POST"]),
        Route(WECOM_PREFIX + "/cgi-bin/{rest:path}", api, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.sim = sim
    return FaultLayer(app, sim)
