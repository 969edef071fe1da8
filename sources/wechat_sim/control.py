"""Test-only control plane under ``/__sim/`` (not part of the WeChat contract).

| route | what |
|---|---|
| `GET /__sim/state` | clock, follower totals, quotas, tokens, event pushes |
| `POST /__sim/clock/advance?seconds=N` | move the simulated clock (tokens expire, days roll over) |
| `POST /__sim/quota/reset` | reset all daily and minute counters (like `clear_quota`, unlimited) |
| `POST /__sim/quota/limits` | `{"daily": {path: n}, "minute": {path: n}}` override limits |
| `GET /__sim/counters`, `POST /__sim/counters/reset` | calls and errcodes per path |
| `GET /__sim/requests?path=&limit=` | the recent request log |
| `POST /__sim/inject` | `{"path": "/cgi-bin/...", "count": N}` plus one fault (below) |
| `POST /__sim/faults` | `{"rate": 0.05}` change the random fault rate |
| `POST /__sim/tokens/invalidate` | `{"product": "oa" | "wecom" | "all"}` |
| `POST /__sim/followers/subscribe`, `/unsubscribe` | `{"openids": [...], "push": true}` |
| `POST /__sim/followers/new` | `{"count": N, "dealer_code": "", "push": true}` |
| `POST /__sim/followers/change` | `{"fraction": 0.01, "seed": 1, "push": false}`: churn (below) |
| `GET /__sim/templates` | template messages sent |
| `GET /__sim/events`, `POST /__sim/events/flush` | event pushes and waiting until all are delivered |
| `POST /__sim/config` | change `SimConfig` fields (page_size, end_mode, allowed_ips, ...) |
| `POST /__sim/callback` | `{"url": ..., "aes_key": ...}`: callback URL (and safe mode's EncodingAESKey) |

An injected fault is one of `"errcode": -1`, `"http_status": 502`, `"delay": s` or `"drop": true`.
Follower churn: a third of the fraction unsubscribe, a third are new, a third resubscribe.
"""

from __future__ import annotations

import json
import random
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sources.wechat_sim import oa
from sources.wechat_sim.core import Fault
from sources.wechat_sim.simulator import Simulator


def _sim(request: Request) -> Simulator:
    return request.app.state.sim


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    return json.loads(raw) if raw else {}


async def state(request: Request) -> JSONResponse:
    sim = _sim(request)
    followers = sim.state.oa.followers
    return JSONResponse(
        {
            "now": sim.clock.isoformat(),
            "now_unix": sim.clock.now(),
            "followers": {"known": len(followers), "subscribed": sim.state.oa.subscribed_total()},
            "wecom": {
                "members": len(sim.state.wecom.members),
                "contacts": len(sim.state.wecom.contacts),
                "groupmsgs": len(sim.state.wecom.groupmsgs),
            },
            "faults": {"rate": sim.faults.rate, "fired": dict(sim.faults.fired)},
            "events": sim.events.summary(),
            "templates_sent": len(sim.sent_templates),
        }
    )


async def advance(request: Request) -> JSONResponse:
    seconds = float(request.query_params.get("seconds", "0"))
    now = _sim(request).clock.advance(seconds)
    return JSONResponse({"now_unix": now})


async def quota_reset(request: Request) -> JSONResponse:
    _sim(request).quotas.reset()
    return JSONResponse({"ok": True})


async def quota_limits(request: Request) -> JSONResponse:
    sim, body = _sim(request), await _body(request)
    sim.quotas.daily_limits.update({k: int(v) for k, v in (body.get("daily") or {}).items()})
    sim.quotas.minute_limits.update({k: int(v) for k, v in (body.get("minute") or {}).items()})
    return JSONResponse({"daily": sim.quotas.daily_limits, "minute": sim.quotas.minute_limits})


async def counters(request: Request) -> JSONResponse:
    return JSONResponse(_sim(request).log.snapshot())


async def counters_reset(request: Request) -> JSONResponse:
    _sim(request).log.reset()
    return JSONResponse({"ok": True})


async def requests_log(request: Request) -> JSONResponse:
    path = request.query_params.get("path")
    limit = int(request.query_params.get("limit", "1000"))
    rows = [r for r in _sim(request).log.recent if not path or r["path"] == path]
    return JSONResponse({"requests": rows[-limit:]})


async def inject(request: Request) -> JSONResponse:
    body = await _body(request)
    if body.get("drop"):
        fault = Fault("drop")
    elif body.get("http_status"):
        fault = Fault("http_status", http_status=int(body["http_status"]))
    elif "errcode" in body:
        fault = Fault("errcode", errcode=int(body["errcode"]), delay=float(body.get("delay", 0)))
    elif body.get("invalidate_token"):
        fault = Fault("invalidate_token")
    else:
        fault = Fault("delay", delay=float(body.get("delay", 1.0)))
    _sim(request).faults.inject(body.get("path", "*"), fault, int(body.get("count", 1)))
    return JSONResponse({"ok": True})


async def faults(request: Request) -> JSONResponse:
    body = await _body(request)
    plan = _sim(request).faults
    plan.rate = float(body.get("rate", plan.rate))
    if "seed" in body:
        plan.reseed(int(body["seed"]))
    return JSONResponse({"rate": plan.rate})


async def invalidate_tokens(request: Request) -> JSONResponse:
    product = (await _body(request)).get("product", "all")
    products = {
        "oa": ("oa_stable", "oa_classic"),
        "wecom": ("wecom",),
        "all": ("oa_stable", "oa_classic", "wecom"),
    }[product]
    return JSONResponse({"invalidated": _sim(request).tokens.invalidate(products)})


async def subscribe(request: Request) -> JSONResponse:
    body = await _body(request)
    changed = oa.set_subscription(
        _sim(request), list(body.get("openids", [])), True, bool(body.get("push", True))
    )
    return JSONResponse({"changed": changed})


async def unsubscribe(request: Request) -> JSONResponse:
    body = await _body(request)
    changed = oa.set_subscription(
        _sim(request), list(body.get("openids", [])), False, bool(body.get("push", True))
    )
    return JSONResponse({"changed": changed})


async def new_followers(request: Request) -> JSONResponse:
    body = await _body(request)
    created = oa.add_followers(
        _sim(request), int(body.get("count", 1)), bool(body.get("push", True)), body.get("dealer_code", "")
    )
    return JSONResponse({"created": created})


async def change_followers(request: Request) -> JSONResponse:
    """Change ``fraction`` of the followers: unsubscribes, resubscribes and new followers."""
    sim, body = _sim(request), await _body(request)
    rng = random.Random(int(body.get("seed", 0)))
    push = bool(body.get("push", False))
    followers = sim.state.oa.followers
    subscribed = sorted(o for o, f in followers.items() if f.subscribe)
    lapsed = sorted(o for o, f in followers.items() if not f.subscribe)
    n = max(1, round(len(subscribed) * float(body.get("fraction", 0.01))))
    n_unsub = n // 3
    n_resub = min(len(lapsed), n // 3)
    n_new = n - n_unsub - n_resub
    gone = oa.set_subscription(sim, rng.sample(subscribed, n_unsub), False, push)
    back = oa.set_subscription(sim, rng.sample(lapsed, n_resub), True, push)
    created = oa.add_followers(sim, n_new, push)
    return JSONResponse({"unsubscribed": gone, "resubscribed": back, "created": created})


async def templates(request: Request) -> JSONResponse:
    return JSONResponse({"sent": _sim(request).sent_templates})


async def events(request: Request) -> JSONResponse:
    sim = _sim(request)
    return JSONResponse(
        {
            **sim.events.summary(),
            "pushes": [
                {
                    "xml": p.xml,
                    "openid": p.openid,
                    "attempts": p.attempts,
                    "delivered": p.delivered,
                    "last_error": p.last_error,
                }
                for p in sim.events.pushes
            ],
        }
    )


async def events_flush(request: Request) -> JSONResponse:
    sim = _sim(request)
    await sim.events.flush()
    return JSONResponse(sim.events.summary())


async def config(request: Request) -> JSONResponse:
    sim, body = _sim(request), await _body(request)
    try:
        sim.config.update(body)
    except KeyError as exc:
        return JSONResponse({"error": f"unknown setting {exc}"}, status_code=400)
    return JSONResponse(vars(sim.config))


async def set_callback(request: Request) -> JSONResponse:
    sim, body = _sim(request), await _body(request)
    sim.events.url = body.get("url") or None
    if "aes_key" in body:
        sim.events.aes_key = body["aes_key"] or None  # EncodingAESKey: safe mode
    return JSONResponse({"url": sim.events.url, "safe_mode": bool(sim.events.aes_key)})


def routes() -> list[Route]:
    post = ["POST"]
    return [
        Route("/__sim/state", state),
        Route("/__sim/clock/advance", advance, methods=post),
        Route("/__sim/quota/reset", quota_reset, methods=post),
        Route("/__sim/quota/limits", quota_limits, methods=post),
        Route("/__sim/counters", counters),
        Route("/__sim/counters/reset", counters_reset, methods=post),
        Route("/__sim/requests", requests_log),
        Route("/__sim/inject", inject, methods=post),
        Route("/__sim/faults", faults, methods=post),
        Route("/__sim/tokens/invalidate", invalidate_tokens, methods=post),
        Route("/__sim/followers/subscribe", subscribe, methods=post),
        Route("/__sim/followers/unsubscribe", unsubscribe, methods=post),
        Route("/__sim/followers/new", new_followers, methods=post),
        Route("/__sim/followers/change", change_followers, methods=post),
        Route("/__sim/templates", templates),
        Route("/__sim/events", events),
        Route("/__sim/events/flush", events_flush, methods=post),
        Route("/__sim/config", config, methods=post),
        Route("/__sim/callback", set_callback, methods=post),
    ]
