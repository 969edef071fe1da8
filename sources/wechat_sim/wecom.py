"""WeCom endpoints (reference/wechat-api.md section 3, behaviours of 4.3)."""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

from sources.wechat_sim.core import decode_cursor, encode_cursor
from sources.wechat_sim.oa import Req
from sources.wechat_sim.simulator import Simulator
from sources.wechat_sim.state import SHANGHAI, Relation

MAX_USERIDS = 100
GET_PAGE = 500  # externalcontact/get pages follow_user beyond 500 followers
MONTH_S = 31 * 86_400
BEHAVIOR_MAX_DAYS = 30


def _err(sim: Simulator, req: Req, code: int, detail: str = "") -> dict[str, Any]:
    return sim.wecom_error(code, req.ip, detail)


def _ok(**payload: Any) -> dict[str, Any]:
    return {"errcode": 0, "errmsg": "ok", **payload}


def gettoken(sim: Simulator, req: Req) -> dict[str, Any]:
    corp = sim.state.wecom
    if req.query.get("corpid") != corp.corpid:
        return _err(sim, req, 40013)
    if req.query.get("corpsecret") != corp.secret:
        return _err(sim, req, 40001)
    if sim.config.allowed_ips is not None and req.ip not in sim.config.allowed_ips:
        return _err(sim, req, 60020)
    now = sim.clock.now()
    token = sim.tokens.wecom(now)
    return _ok(access_token=token.value, expires_in=int(token.expires_at - now))


def get_follow_user_list(sim: Simulator, req: Req) -> dict[str, Any]:
    return _ok(follow_user=sim.state.wecom.follow_users())


def contact_list(sim: Simulator, req: Req) -> dict[str, Any]:
    corp = sim.state.wecom
    userid = req.query.get("userid") or ""
    if userid not in corp.members:
        return _err(sim, req, 60011)
    relations = corp.relations_by_user.get(userid) or []
    if not relations:
        return _err(sim, req, 84061)  # not an empty list: WeCom answers "not external contact"
    return _ok(external_userid=[r.external_userid for r in relations])


def _contact(sim: Simulator, external_userid: str) -> dict[str, Any]:
    row = sim.state.wecom.contacts.get(external_userid) or {"external_userid": external_userid}
    contact: dict[str, Any] = {
        "external_userid": external_userid,
        "name": row.get("name") or "",
        "type": int(row.get("type") or 1),
        "gender": int(row.get("gender") or 0),
        "avatar": f"https://wework.qpic.example/sim/{zlib.crc32(external_userid.encode()) % 10_000}/0",
    }
    if contact["type"] == 1 and row.get("unionid"):
        contact["unionid"] = row["unionid"]
    return contact


def _follow(rel: Relation, detailed_tags: bool) -> dict[str, Any]:
    follow: dict[str, Any] = {
        "userid": rel.userid,
        "remark": rel.remark,
        "description": rel.description,
        "createtime": rel.createtime,
    }
    if detailed_tags:
        follow["tags"] = [{"group_name": "", "tag_name": t, "type": 1, "tag_id": t} for t in rel.tags]
    else:
        follow["tag_id"] = list(rel.tags)
    follow.update(
        remark_corp_name="",
        remark_mobiles=list(rel.remark_mobiles),
        oper_userid=rel.external_userid,
        add_way=rel.add_way,
        state=rel.state,
    )
    return follow


def contact_get(sim: Simulator, req: Req) -> dict[str, Any]:
    external_userid = req.query.get("external_userid") or ""
    if external_userid not in sim.state.wecom.contacts:
        return _err(sim, req, 40096)
    relations = sim.state.wecom.relations_by_contact.get(external_userid) or []
    if not relations:
        return _err(sim, req, 84061)
    position = decode_cursor(req.query.get("cursor") or "", 1)
    if position is None:
        return _err(sim, req, 40058, "invalid cursor")
    start = position[0]
    page = relations[start : start + GET_PAGE]
    more = start + GET_PAGE < len(relations)
    payload = _ok(
        external_contact=_contact(sim, external_userid), follow_user=[_follow(r, True) for r in page]
    )
    if more:
        payload["next_cursor"] = encode_cursor(start + GET_PAGE)
    return payload


def batch_get_by_user(sim: Simulator, req: Req) -> dict[str, Any]:
    body = req.body if isinstance(req.body, dict) else None
    if body is None or not isinstance(body.get("userid_list"), list) or not body["userid_list"]:
        return _err(sim, req, 40058)
    userids = body["userid_list"]
    if len(userids) > MAX_USERIDS or any(len(str(u)) > 64 for u in userids):
        return _err(
            sim, req, 40058, f"field `userid_list` exceed max length {MAX_USERIDS}. invalid Request Parameter"
        )
    corp = sim.state.wecom
    if any(u not in corp.members for u in userids):
        return _err(sim, req, 60011)
    limit = body.get("limit") or 50
    limit = min(int(limit), 100)  # above the max is clamped to the max
    position = decode_cursor(body.get("cursor") or "", 2)
    if position is None:
        return _err(sim, req, 40058, "invalid cursor")
    ui, ri = position
    items: list[dict[str, Any]] = []
    while ui < len(userids) and len(items) < limit:
        relations = corp.relations_by_user.get(userids[ui]) or []
        while ri < len(relations) and len(items) < limit:
            rel = relations[ri]
            items.append(
                {"external_contact": _contact(sim, rel.external_userid), "follow_info": _follow(rel, False)}
            )
            ri += 1
        if ri >= len(relations):
            ui, ri = ui + 1, 0
    # skip members with nothing left so an empty cursor really means done
    while ui < len(userids) and not corp.relations_by_user.get(userids[ui]):
        ui, ri = ui + 1, 0
    next_cursor = encode_cursor(ui, ri) if ui < len(userids) else ""
    return _ok(external_contact_list=items, next_cursor=next_cursor)


def _day(ts: int) -> dt.date:
    return dt.datetime.fromtimestamp(ts, SHANGHAI).date()


def user_behavior_data(sim: Simulator, req: Req) -> dict[str, Any]:
    """Per-day statistics, **summed over all given members** as the real API does."""
    body = req.body if isinstance(req.body, dict) else None
    if body is None:
        return _err(sim, req, 40058)
    userids = body.get("userid") or []
    if not userids and not body.get("partyid"):
        return _err(sim, req, 40058, "userid and partyid can not be both empty")
    if len(userids) > MAX_USERIDS:
        return _err(sim, req, 40058)
    corp = sim.state.wecom
    if any(u not in corp.members for u in userids):
        return _err(sim, req, 60011)
    try:
        start, end = int(body["start_time"]), int(body["end_time"])
    except (KeyError, TypeError, ValueError):
        return _err(sim, req, 40058, "invalid start_time or end_time")
    first, last = _day(start), _day(end)
    if last < first or (last - first).days >= BEHAVIOR_MAX_DAYS:
        return _err(sim, req, 40058, "time range exceed 30 days. invalid Request Parameter")
    data = []
    day = first
    while day <= last:
        rows = [corp.behavior.get((u, day)) for u in userids]
        rows = [r for r in rows if r is not None]
        stat_time = int(dt.datetime.combine(day, dt.time(), SHANGHAI).timestamp())
        item: dict[str, Any] = {"stat_time": stat_time}
        for key in ("new_apply_cnt", "new_contact_cnt", "chat_cnt", "message_cnt", "negative_feedback_cnt"):
            item[key] = sum(int(r.get(key) or 0) for r in rows)
        replied = [r for r in rows if r.get("reply_percentage") is not None]
        if replied:
            item["reply_percentage"] = round(
                sum(float(r["reply_percentage"]) for r in replied) / len(replied), 2
            )
        timed = [r for r in rows if r.get("avg_reply_time") is not None]
        if timed:
            item["avg_reply_time"] = round(sum(float(r["avg_reply_time"]) for r in timed) / len(timed))
        data.append(item)
        day += dt.timedelta(days=1)
    return _ok(behavior_data=data)


def groupmsg_list_v2(sim: Simulator, req: Req) -> dict[str, Any]:
    body = req.body if isinstance(req.body, dict) else None
    if body is None:
        return _err(sim, req, 40058)
    try:
        start, end = int(body["start_time"]), int(body["end_time"])
    except (KeyError, TypeError, ValueError):
        return _err(sim, req, 40058, "start_time and end_time are required")
    if end < start or end - start > MONTH_S:
        return _err(sim, req, 40058, "time range exceed one month. invalid Request Parameter")
    limit = int(body.get("limit") or 50)
    if limit > 100 or limit <= 0:
        limit = 50  # above the max falls back to the default
    chat_type = body.get("chat_type") or "single"
    creator = body.get("creator")
    msgs = [
        m
        for m in sim.state.wecom.groupmsgs
        if start <= int(m["create_time"]) <= end
        and (m.get("chat_type") or "single") == chat_type
        and (not creator or m.get("creator") == creator)
    ]
    position = decode_cursor(body.get("cursor") or "", 1)
    if position is None:
        return _err(sim, req, 40058, "invalid cursor")
    offset = position[0]
    page = msgs[offset : offset + limit]
    next_cursor = encode_cursor(offset + limit) if offset + limit < len(msgs) else ""
    return _ok(
        next_cursor=next_cursor,
        group_msg_list=[
            {
                "msgid": m["msgid"],
                "creator": m.get("creator") or "",
                "create_time": str(int(m["create_time"])),  # a string in real answers
                "create_type": 0,
                "text": {"content": m.get("text") or ""},
                "attachments": [],
            }
            for m in page
        ],
    )


def _page(items: list, cursor: str, limit: int) -> tuple[list, str] | None:
    position = decode_cursor(cursor, 1)
    if position is None:
        return None
    offset = position[0]
    nxt = encode_cursor(offset + limit) if offset + limit < len(items) else ""
    return items[offset : offset + limit], nxt


def _limit(body: dict[str, Any], maximum: int = 1000, default: int = 500) -> int:
    value = int(body.get("limit") or default)
    return default if value <= 0 else min(value, maximum)


def _results(sim: Simulator, msgid: str) -> list[dict[str, Any]] | None:
    """Per-recipient results of a mass message; [] for a known message nobody was sent yet."""
    corp = sim.state.wecom
    if msgid in corp.groupmsg_results:
        return corp.groupmsg_results[msgid]
    return [] if any(m["msgid"] == msgid for m in corp.groupmsgs) else None


def groupmsg_task(sim: Simulator, req: Req) -> dict[str, Any]:
    body = req.body if isinstance(req.body, dict) else {}
    msgid = body.get("msgid") or ""
    results = _results(sim, msgid)
    if results is None:
        return _err(sim, req, 40058, "invalid msgid")
    tasks: dict[str, dict[str, Any]] = {}
    for r in results:
        task = tasks.setdefault(r["userid"], {"userid": r["userid"], "status": 0})
        if int(r.get("status") or 0) != 0 and r.get("send_time"):
            task["status"] = 2
            task["send_time"] = max(int(r["send_time"]), task.get("send_time", 0))
    paged = _page(list(tasks.values()), body.get("cursor") or "", _limit(body))
    if paged is None:
        return _err(sim, req, 40058, "invalid cursor")
    return _ok(next_cursor=paged[1], task_list=paged[0])


def groupmsg_send_result(sim: Simulator, req: Req) -> dict[str, Any]:
    body = req.body if isinstance(req.body, dict) else {}
    msgid = body.get("msgid") or ""
    results = _results(sim, msgid)
    if results is None:
        return _err(sim, req, 40058, "invalid msgid")
    userid = body.get("userid") or ""
    if userid not in sim.state.wecom.members:
        return _err(sim, req, 60011)
    mine = []
    for r in results:
        if r["userid"] != userid:
            continue
        item: dict[str, Any] = {
            "external_userid": r["external_userid"],
            "chat_id": "",
            "userid": userid,
            "status": int(r.get("status") or 0),
        }
        if item["status"] != 0 and r.get("send_time") is not None:
            item["send_time"] = int(r["send_time"])
        mine.append(item)
    paged = _page(mine, body.get("cursor") or "", _limit(body))
    if paged is None:
        return _err(sim, req, 40058, "invalid cursor")
    return _ok(next_cursor=paged[1], send_list=paged[0])
