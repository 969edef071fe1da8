"""The simulator's world: the generator's ``wechat/`` folder loaded into memory.

The files are written by ``aftercare generate`` (``docs/sample-oem.md``); the simulator reads them
once at start and keeps everything in plain dicts and lists so a request is a few lookups.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from sources.clock import SHANGHAI

OA_FILES = ("oa_account.json", "oa_followers.parquet", "oa_tags.json")
WECOM_FILES = (
    "wecom_corp.json",
    "wecom_members.parquet",
    "wecom_external_contacts.parquet",
    "wecom_follow_relations.parquet",
    "wecom_behavior_daily.parquet",
    "wecom_groupmsg.parquet",
)


class StateError(ValueError):
    """The state folder cannot be served; the message names the file and what is wrong."""


@dataclass
class Follower:
    openid: str
    unionid: str | None
    subscribe: int
    subscribe_time: int
    unsubscribe_time: int | None
    subscribe_scene: str
    qr_scene: int
    qr_scene_str: str
    remark: str
    tagid_list: list[int]
    language: str
    blocks_template: bool


@dataclass
class OaState:
    appid: str
    secret: str
    templates: dict[str, str]  # template_id -> title
    clock_start: dt.datetime
    followers: dict[str, Follower]
    order: list[str]  # the stable (undocumented) order user/get walks; new followers are appended
    tags: list[dict[str, Any]]
    position: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.position = {openid: i for i, openid in enumerate(self.order)}

    def add_follower(self, follower: Follower) -> None:
        if follower.openid not in self.followers:
            self.position[follower.openid] = len(self.order)
            self.order.append(follower.openid)
        self.followers[follower.openid] = follower

    def subscribed_total(self) -> int:
        return sum(1 for f in self.followers.values() if f.subscribe)


@dataclass
class Relation:
    userid: str
    external_userid: str
    remark: str
    description: str
    createtime: int
    add_way: int
    state: str
    remark_mobiles: list[str]
    tags: list[str]


@dataclass
class WecomState:
    corpid: str
    secret: str
    agentid: int
    clock_start: dt.datetime
    members: dict[str, dict[str, Any]]  # userid -> row
    member_order: list[str]
    contacts: dict[str, dict[str, Any]]  # external_userid -> row
    relations_by_user: dict[str, list[Relation]]
    relations_by_contact: dict[str, list[Relation]]
    behavior: dict[tuple[str, dt.date], dict[str, Any]]
    groupmsgs: list[dict[str, Any]]  # sorted by create_time
    groupmsg_results: dict[str, list[dict[str, Any]]]  # msgid -> results

    def follow_users(self) -> list[str]:
        return [u for u in self.member_order if self.members[u].get("enabled", True)]


@dataclass
class SimState:
    oa: OaState
    wecom: WecomState


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StateError(f"{path} is missing: run `aftercare generate --out DIR` first") from None
    except json.JSONDecodeError as exc:
        raise StateError(f"{path} is not valid JSON: {exc}") from exc


def _read_parquet(path: Path, required: set[str], optional: bool = False) -> pl.DataFrame | None:
    if not path.exists():
        if optional:
            return None
        raise StateError(f"{path} is missing: run `aftercare generate --out DIR` first")
    frame = pl.read_parquet(path)
    missing = required - set(frame.columns)
    if missing:
        raise StateError(f"{path} lacks column(s) {sorted(missing)}")
    return frame


def _ts(value: Any, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise StateError(f"{where}: clock_start {value!r} is not an ISO timestamp") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)


def resolve_state_dir(data: str | Path) -> Path:
    """Accept the generator's output folder or its ``wechat/`` subfolder."""
    folder = Path(data)
    if (folder / "wechat" / "oa_account.json").exists():
        return folder / "wechat"
    if (folder / "oa_account.json").exists():
        return folder
    raise StateError(
        f"{folder} holds no simulator state (oa_account.json): run `aftercare generate --out {folder}` "
        "and pass that folder or its wechat/ subfolder"
    )


def _unix(value: Any) -> int | None:
    """Unix seconds from an int or a timestamp (naive timestamps are Beijing time)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=SHANGHAI)).timestamp())
    return int(value)


def _int(value: Any, default: int = 0) -> int:
    return default if value is None else int(value)


def load_oa(folder: Path) -> OaState:
    account = _read_json(folder / "oa_account.json")
    for key in ("appid", "secret"):
        if key not in account:
            raise StateError(f"{folder / 'oa_account.json'} lacks {key!r}")
    frame = _read_parquet(folder / "oa_followers.parquet", {"openid", "subscribe", "subscribe_time"})
    assert frame is not None
    followers: dict[str, Follower] = {}
    order: list[str] = []
    for row in frame.iter_rows(named=True):
        tagids = row.get("tagid_list")
        follower = Follower(
            openid=row["openid"],
            unionid=row.get("unionid") or None,
            subscribe=_int(row.get("subscribe")),
            subscribe_time=_unix(row.get("subscribe_time")) or 0,
            unsubscribe_time=_unix(row.get("unsubscribe_time")),
            subscribe_scene=row.get("subscribe_scene") or "ADD_SCENE_OTHERS",
            qr_scene=_int(row.get("qr_scene")),
            qr_scene_str=row.get("qr_scene_str") or "",
            remark=row.get("remark") or "",
            tagid_list=[int(t) for t in tagids] if tagids is not None else [],
            language=row.get("language") or "zh_CN",
            blocks_template=bool(row.get("blocks_template") or False),
        )
        if follower.openid not in followers:
            order.append(follower.openid)
        followers[follower.openid] = follower
    tags_path = folder / "oa_tags.json"
    tags = _read_json(tags_path) if tags_path.exists() else []
    templates = {t["template_id"]: t.get("title", "") for t in account.get("templates", [])}
    return OaState(
        appid=account["appid"],
        secret=account["secret"],
        templates=templates,
        clock_start=_ts(account.get("clock_start") or dt.datetime.now(SHANGHAI), "oa_account.json"),
        followers=followers,
        order=order,
        tags=list(tags),
    )


def load_wecom(folder: Path) -> WecomState:
    corp = _read_json(folder / "wecom_corp.json")
    members = _read_parquet(folder / "wecom_members.parquet", {"userid"})
    contacts = _read_parquet(folder / "wecom_external_contacts.parquet", {"external_userid"})
    relations = _read_parquet(
        folder / "wecom_follow_relations.parquet", {"userid", "external_userid", "createtime"}
    )
    behavior = _read_parquet(folder / "wecom_behavior_daily.parquet", {"userid", "stat_date"}, optional=True)
    groupmsg = _read_parquet(folder / "wecom_groupmsg.parquet", {"msgid", "create_time"}, optional=True)
    results = _read_parquet(
        folder / "wecom_groupmsg_results.parquet", {"msgid", "userid", "external_userid"}, optional=True
    )
    assert members is not None and contacts is not None and relations is not None

    member_rows = {r["userid"]: r for r in members.iter_rows(named=True)}
    by_user: dict[str, list[Relation]] = {u: [] for u in member_rows}
    by_contact: dict[str, list[Relation]] = {}
    for row in relations.sort("createtime").iter_rows(named=True):
        rel = Relation(
            userid=row["userid"],
            external_userid=row["external_userid"],
            remark=row.get("remark") or "",
            description=row.get("description") or "",
            createtime=_unix(row.get("createtime")) or 0,
            add_way=_int(row.get("add_way")),
            state=row.get("state") or "",
            remark_mobiles=list(row.get("remark_mobiles") or []),
            tags=[str(t) for t in (row.get("tags") or [])],
        )
        by_user.setdefault(rel.userid, []).append(rel)
        by_contact.setdefault(rel.external_userid, []).append(rel)

    behavior_rows: dict[tuple[str, dt.date], dict[str, Any]] = {}
    if behavior is not None:
        for row in behavior.iter_rows(named=True):
            day = row["stat_date"]
            if isinstance(day, dt.datetime):
                day = day.date()
            elif isinstance(day, str):
                day = dt.date.fromisoformat(day)
            behavior_rows[(row["userid"], day)] = row

    msgs = []
    if groupmsg is not None:
        for row in groupmsg.iter_rows(named=True):
            row["create_time"] = _unix(row["create_time"])
            msgs.append(row)
        msgs.sort(key=lambda r: r["create_time"])
    results_by_msg: dict[str, list[dict[str, Any]]] = {}
    if results is not None:
        for row in results.iter_rows(named=True):
            row["send_time"] = _unix(row.get("send_time"))
            results_by_msg.setdefault(row["msgid"], []).append(row)

    return WecomState(
        corpid=corp["corpid"],
        secret=corp["secret"],
        agentid=_int(corp.get("agentid"), 1000002),
        clock_start=_ts(corp.get("clock_start") or dt.datetime.now(SHANGHAI), "wecom_corp.json"),
        members=member_rows,
        member_order=list(member_rows),
        contacts={r["external_userid"]: r for r in contacts.iter_rows(named=True)},
        relations_by_user=by_user,
        relations_by_contact=by_contact,
        behavior=behavior_rows,
        groupmsgs=msgs,
        groupmsg_results=results_by_msg,
    )


def load_state(data: str | Path) -> SimState:
    folder = resolve_state_dir(data)
    return SimState(oa=load_oa(folder), wecom=load_wecom(folder))
