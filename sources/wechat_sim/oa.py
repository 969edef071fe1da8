"""Official Account endpoints (reference/wechat-api.md section 2, behaviours of 4.3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sources.wechat_sim.core import OA_DAILY_QUOTAS
from sources.wechat_sim.events import subscribe_event, template_finish_event
from sources.wechat_sim.simulator import Simulator
from sources.wechat_sim.state import Follower

LANGS = {"zh_CN", "zh_TW", "en"}
MAX_BATCH = 100


@dataclass
class Req:
    query: dict[str, str]
    body: Any  # parsed JSON for POST, None when absent
    ip: str
    raw_body: bytes = b""


def _ip_allowed(sim: Simulator, ip: str) -> bool:
    return sim.config.allowed_ips is None or ip in sim.config.allowed_ips


def token(sim: Simulator, req: Req) -> dict[str, Any]:
    q = req.query
    if q.get("grant_type") != "client_credential":
        return sim.oa_error(40002)
    check = _credentials(sim, q.get("appid"), q.get("secret"), req.ip)
    if check:
        return check
    issued = sim.tokens.classic(sim.clock.now())
    return {"access_token": issued.value, "expires_in": 7200}


def stable_token(sim: Simulator, req: Req) -> dict[str, Any]:
    body = req.body if isinstance(req.body, dict) else None
    if body is None:
        return sim.oa_error(47001)  # stable_token takes JSON only
    if body.get("grant_type") != "client_credential":
        return sim.oa_error(40002)
    check = _credentials(sim, body.get("appid"), body.get("secret"), req.ip)
    if check:
        return check
    now = sim.clock.now()
    issued = sim.tokens.stable(now, bool(body.get("force_refresh")))
    return {"access_token": issued.value, "expires_in": int(issued.expires_at - now)}


def _credentials(sim: Simulator, appid: str | None, secret: str | None, ip: str) -> dict[str, Any] | None:
    if appid != sim.state.oa.appid:
        return sim.oa_error(40013)
    if secret != sim.state.oa.secret:
        return sim.oa_error(40125)
    if not _ip_allowed(sim, ip):
        return sim.oa_error(40164, f"invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist")
    return None


def user_get(sim: Simulator, req: Req) -> dict[str, Any]:
    oa = sim.state.oa
    start = req.query.get("next_openid") or ""
    total = oa.subscribed_total()
    if start:
        if start not in oa.position:
            return sim.oa_error(40003)
        index = oa.position[start] + 1
    else:
        index = 0
    page: list[str] = []
    while index < len(oa.order) and len(page) < sim.config.page_size:
        openid = oa.order[index]
        if oa.followers[openid].subscribe:
            page.append(openid)
        index += 1
    if not page:
        # observed end of list: count 0, no `data` key, empty next_openid
        return {"total": total, "count": 0, "next_openid": ""}
    exhausted = not any(oa.followers[o].subscribe for o in oa.order[index:])
    next_openid = "" if (exhausted and sim.config.end_mode == "empty_last") else page[-1]
    return {"total": total, "count": len(page), "data": {"openid": page}, "next_openid": next_openid}


def _user_info(sim: Simulator, follower: Follower | None, openid: str) -> dict[str, Any]:
    if follower is None:
        return {"subscribe": 0, "openid": openid}
    if not follower.subscribe:
        info: dict[str, Any] = {"subscribe": 0, "openid": openid}
        if follower.unionid:
            info["unionid"] = follower.unionid
        return info
    info = {"subscribe": 1, "openid": openid}
    if sim.config.emit_language:
        info["language"] = follower.language
    info["subscribe_time"] = follower.subscribe_time
    if follower.unionid:
        info["unionid"] = follower.unionid
    info.update(
        remark=follower.remark,
        groupid=0,
        tagid_list=list(follower.tagid_list),
        subscribe_scene=follower.subscribe_scene,
        qr_scene=follower.qr_scene,
        qr_scene_str=follower.qr_scene_str,
    )
    return info


def user_info(sim: Simulator, req: Req) -> dict[str, Any]:
    openid = req.query.get("openid") or ""
    lang = req.query.get("lang") or "zh_CN"
    if lang not in LANGS:
        return sim.oa_error(47001)
    follower = sim.state.oa.followers.get(openid)
    if follower is None:
        return sim.oa_error(40003)
    return _user_info(sim, follower, openid)


def user_info_batchget(sim: Simulator, req: Req) -> dict[str, Any]:
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get("user_list"), list):
        return sim.oa_error(44002 if not req.raw_body else 47001)
    users = body["user_list"]
    if not users or len(users) > MAX_BATCH:
        return sim.oa_error(40032)
    followers = sim.state.oa.followers
    result = []
    for entry in users:
        openid = entry.get("openid") if isinstance(entry, dict) else None
        if not isinstance(openid, str) or not openid:
            return sim.oa_error(40003)
        result.append(_user_info(sim, followers.get(openid), openid))
    return {"user_info_list": result}


def tags_get(sim: Simulator, req: Req) -> dict[str, Any]:
    counts: dict[int, int] = {}
    for follower in sim.state.oa.followers.values():
        if follower.subscribe:
            for tagid in follower.tagid_list:
                counts[tagid] = counts.get(tagid, 0) + 1
    return {
        "tags": [
            {"id": t["id"], "name": t["name"], "count": counts.get(t["id"], 0)} for t in sim.state.oa.tags
        ]
    }


def template_send(sim: Simulator, req: Req) -> dict[str, Any]:
    body = req.body
    if not isinstance(body, dict):
        return sim.oa_error(44002 if not req.raw_body else 47001)
    oa = sim.state.oa
    touser = body.get("touser") or ""
    template_id = body.get("template_id") or ""
    if template_id not in oa.templates:
        return sim.oa_error(40037)
    follower = oa.followers.get(touser)
    if follower is None:
        return sim.oa_error(40003)
    if not follower.subscribe:
        return sim.oa_error(43004)
    now = sim.clock.now()
    client_msg_id = body.get("client_msg_id") or ""
    if client_msg_id:
        seen = sim.dedup.get((touser, client_msg_id))
        if seen is not None and now - seen[0] < sim.config.dedup_window_s:
            # a repeat inside the window is not sent again; answer with the original msgid
            return {"errcode": 0, "errmsg": "ok", "msgid": seen[1]}
    assert sim.rng is not None
    msgid = sim.rng.randrange(10**18, 9 * 10**18)
    if client_msg_id:
        sim.dedup[(touser, client_msg_id)] = (now, msgid)
    if follower.blocks_template:
        status = "failed:user block"
    elif sim.rng.random() < sim.config.template_failure_rate:
        status = "failed: system failed"
    else:
        status = "success"
    sim.sent_templates.append(
        {
            "msgid": msgid,
            "touser": touser,
            "template_id": template_id,
            "client_msg_id": client_msg_id,
            "data": body.get("data"),
            "status": status,
            "sent_at": int(now),
        }
    )
    sim.events.enqueue(template_finish_event(_gh_id(sim), touser, int(now), msgid, status), touser)
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}


def _gh_id(sim: Simulator) -> str:
    return "gh_" + sim.state.oa.appid[-12:]


def quota_get(sim: Simulator, req: Req) -> dict[str, Any]:
    body = req.body if isinstance(req.body, dict) else {}
    path = body.get("cgi_path") or ""
    if path not in OA_DAILY_QUOTAS:
        return sim.oa_error(76021)
    limit = sim.quotas.daily_limits.get(path, OA_DAILY_QUOTAS[path])
    used = sim.quotas.used(sim.clock.day(), path)
    minute = sim.quotas.minute_limits.get(path, limit)
    return {
        "errcode": 0,
        "errmsg": "ok",
        "quota": {"daily_limit": limit, "used": used, "remain": max(0, limit - used)},
        "rate_limit": {"call_count": minute, "refresh_second": 60},
        "component_rate_limit": {"call_count": max(1, minute // 4), "refresh_second": 60},
    }


def clear_quota(sim: Simulator, req: Req, with_secret: bool = False) -> dict[str, Any]:
    body = req.body if isinstance(req.body, dict) else {}
    if body.get("appid") != sim.state.oa.appid:
        return sim.oa_error(40013)
    if with_secret and body.get("appsecret") != sim.state.oa.secret:
        return sim.oa_error(40125)
    now = sim.clock.now()
    month = [t for t in sim.quotas.clears if now - t < 30 * 86_400]
    if len(month) >= 10:
        return sim.oa_error(48006)
    sim.quotas.clears.append(now)
    sim.quotas.reset()
    return {"errcode": 0, "errmsg": "ok"}


# -- follower changes (driven by /__sim) -----------------------------------------------------------
def set_subscription(sim: Simulator, openids: list[str], subscribed: bool, push: bool) -> list[str]:
    now = int(sim.clock.now())
    changed = []
    for openid in openids:
        follower = sim.state.oa.followers.get(openid)
        if follower is None or bool(follower.subscribe) == subscribed:
            continue
        follower.subscribe = 1 if subscribed else 0
        if subscribed:
            follower.subscribe_time = now
            follower.unsubscribe_time = None
            follower.subscribe_scene = "ADD_SCENE_SEARCH"
            follower.qr_scene, follower.qr_scene_str = 0, ""
        else:
            follower.unsubscribe_time = now
        changed.append(openid)
        if push:
            sim.events.enqueue(
                subscribe_event(_gh_id(sim), openid, now, subscribed, follower.qr_scene_str), openid
            )
    return changed


def add_followers(sim: Simulator, count: int, push: bool, dealer_code: str = "") -> list[str]:
    assert sim.rng is not None
    now = int(sim.clock.now())
    created = []
    for _ in range(count):
        suffix = "".join(
            sim.rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", k=22)
        )
        openid = "oSim" + suffix
        follower = Follower(
            openid=openid,
            unionid="uSim" + suffix[::-1],
            subscribe=1,
            subscribe_time=now,
            unsubscribe_time=None,
            subscribe_scene="ADD_SCENE_QR_CODE" if dealer_code else "ADD_SCENE_SEARCH",
            qr_scene=0,
            qr_scene_str=f"dealer_{dealer_code}" if dealer_code else "",
            remark="",
            tagid_list=[],
            language="zh_CN",
            blocks_template=False,
        )
        sim.state.oa.add_follower(follower)
        created.append(openid)
        if push:
            sim.events.enqueue(subscribe_event(_gh_id(sim), openid, now, True, follower.qr_scene_str), openid)
    return created
