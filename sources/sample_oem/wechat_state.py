"""The WeChat Official Account and WeCom state the simulator serves (``OUT/wechat/``).

Who follows the OA, who is a consultant's WeCom contact, and what the consultants did each day.
Formats are fixed in docs/sample-oem.md; the simulator is built against exactly these columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from sources.sample_oem import dates as D
from sources.sample_oem import identity as I
from sources.sample_oem.geography import MODELS
from sources.sample_oem.spec import DIRT, SOP_FOLLOWED, WECOM_REMARK_FAMILY, DealerSop
from sources.sample_oem.world import BUYER, HEAD, PROSPECT, SALES, SERVICE, SPOUSE, World

SCENES = np.array(
    [
        "ADD_SCENE_QR_CODE",
        "ADD_SCENE_SEARCH",
        "ADD_SCENE_PROFILE_CARD",
        "ADD_SCENE_ACCOUNT_MIGRATION",
        "ADD_SCENE_OTHERS",
        "ADD_SCENE_WECHAT_ADVERTISEMENT",
    ]
)
SCENE_P = [0.5, 0.17, 0.1, 0.05, 0.13, 0.05]

TAGS = [
    {"id": 0, "name": "黑名单"},  # ids 0-2 are reserved by WeChat
    {"id": 1, "name": "星标组"},
    {"id": 2, "name": "未分组"},
    {"id": 100, "name": "车主"},
    {"id": 101, "name": "潜客"},
    {"id": 102, "name": "VIP"},
    {"id": 103, "name": "东区"},
    {"id": 104, "name": "南区"},
    {"id": 105, "name": "北区"},
    {"id": 106, "name": "中区"},
    {"id": 107, "name": "西区"},
]
REGION_TAG = {"东区": 103, "南区": 104, "北区": 105, "中区": 106, "西区": 107}

NICKNAMES = [
    "阳光",
    "Tony",
    "小王",
    "平安是福",
    "A张先生",
    "快乐每一天",
    "Kevin",
    "静待花开",
    "老李",
    "Lily",
    "🌸",
    "风",
]
WECOM_TAGS = ["已购车", "首保客户", "意向客户", "VIP", "保险到期", "老客户", "活动报名"]
GROUPMSG_TEXTS = [
    "尊敬的车主您好，本店夏季空调免费检测活动火热进行中，欢迎预约到店。",
    "您好，冬季将至，建议您到店进行防冻液和电瓶检查，回复可预约。",
    "尊敬的客户，您的爱车即将到达保养周期，欢迎联系您的服务顾问预约。",
    "国庆长途出行前，本店提供免费安全检查，期待您的光临。",
]


@dataclass
class WechatState:
    followers: pl.DataFrame  # one row per follower, plus internal columns (_person, _dealer)
    members: pl.DataFrame
    contacts: pl.DataFrame
    relations: pl.DataFrame
    behavior: pl.DataFrame
    groupmsg: pl.DataFrame
    groupmsg_results: pl.DataFrame
    sop: DealerSop  # how closely the dealers follow the delivery and service SOPs
    follower_of_person: np.ndarray  # openid index per person or -1 (subscribed or not)
    contact_person: np.ndarray  # person index of each WeCom external contact
    subscribed_person: np.ndarray  # bool per person: currently subscribed


def first_vehicle_day(world: World) -> tuple[np.ndarray, np.ndarray]:
    """Per person: the day they first owned a car in the network (int64 max if never) and that car."""
    v = world.v
    first = np.full(world.n_persons, np.iinfo(np.int64).max, dtype=np.int64)
    car = np.full(world.n_persons, -1, dtype=np.int64)
    records = ((v["owner1"], v["inv"]), (v["owner2"], v["resale"]))
    for owner, start in records:
        ok = owner >= 0
        np.minimum.at(first, owner[ok], start[ok])
    for owner, start in records:
        ok = np.flatnonzero(owner >= 0)
        hit = ok[start[ok] == first[owner[ok]]]
        car[owner[hit]] = hit
    return first, car


def ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of arange(lo[i], hi[i]) for all i, without a Python loop."""
    cnt = hi - lo
    total = int(cnt.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    return np.repeat(lo, cnt) + (np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt))


def build_wechat(
    world: World, clock_start_s: int, sop: DealerSop = SOP_FOLLOWED, with_activity: bool = True
) -> WechatState:
    """The OA and WeCom state; ``with_activity=False`` leaves out the consultants' daily behaviour and
    group messages (large at scale, no identity in them: the identity-input builder skips them)."""
    rng = I.stream(world.seed, "oa_followers")
    p, w = world.p, world.window
    kind = p["kind"]
    n = kind.size
    first_day, first_car = first_vehicle_day(world)
    is_owner = first_car >= 0

    # --------------------------------------------------------------------- followers
    p_follow = np.select(
        [is_owner & np.isin(kind, [HEAD, BUYER, SPOUSE]), kind == PROSPECT],
        [sop.owner_follows_oa, 1.0],
        default=0.0,
    )
    follows = (rng.random(n) < p_follow) & p["has_unionid"]
    idx = np.flatnonzero(follows)
    owner = is_owner[idx]
    # owners follow at delivery (the consultant has them scan the dealer's QR code), before buying
    # (as prospects) or later on their own; prospects any time
    u = rng.random(idx.size)
    at_delivery = owner & (u < sop.follow_at_delivery)
    before = owner & (u >= 1.0 - sop.follow_before_purchase)
    around = first_day[idx] + np.select(
        [at_delivery, before],
        [rng.integers(0, 2, idx.size), -rng.integers(1, 365, idx.size)],
        default=1 + rng.exponential(sop.self_follow_delay_days, idx.size).astype(np.int64),
    )
    prospect_day = rng.integers(w.end - 3 * 365, w.end, idx.size)
    sub_day = np.where(owner, around, prospect_day)
    keep = sub_day <= w.end
    idx, sub_day, owner, at_delivery = idx[keep], sub_day[keep], owner[keep], at_delivery[keep]
    m = idx.size
    scene = np.where(at_delivery, "ADD_SCENE_QR_CODE", SCENES[rng.choice(len(SCENES), size=m, p=SCENE_P)])
    sell = np.where(
        first_car[idx] >= 0, world.v["sell_dealer"][np.maximum(first_car[idx], 0)], p["home_dealer"][idx]
    )
    dealer_code = world.dealers["dealer_code"].to_numpy()
    is_qr = scene == "ADD_SCENE_QR_CODE"
    # the selling dealer's code is in the QR scene of every delivery follow and of 85 % of other QR follows
    dealer_qr = (is_qr & (rng.random(m) < 0.85)) | at_delivery
    qr_scene_str = np.where(dealer_qr, np.char.add("dealer_", dealer_code[sell]), "")
    # account migration keeps the old account's (earlier) subscribe time
    sub_day = np.where(scene == "ADD_SCENE_ACCOUNT_MIGRATION", sub_day - rng.integers(200, 900, m), sub_day)
    subscribe_time = (sub_day * D.DAY_S + rng.integers(7 * 3600, 23 * 3600, m)) - 8 * 3600  # unix (UTC)
    subscribe_time = np.minimum(subscribe_time, clock_start_s - 3600)
    unsub = rng.random(m) < 0.10
    unsub_time = subscribe_time + (rng.uniform(0.02, 1.0, m) * (clock_start_s - subscribe_time)).astype(
        np.int64
    )
    unionid_present = rng.random(m) < sop.unionid_on_followers
    region = world.dealers["region"].to_numpy()[p["home_dealer"][idx]]
    region_tag = pl.Series(region).replace_strict(REGION_TAG, return_dtype=pl.Int64).to_numpy()
    vip = rng.random(m) < 0.05
    tag_df = pl.DataFrame({"owner": owner, "region_tag": region_tag.astype(np.int64), "vip": vip})
    tag_lists = tag_df.select(
        pl.concat_list(
            pl.when(pl.col("owner")).then(100).otherwise(101),
            pl.when(pl.col("owner")).then(pl.col("region_tag")),
            pl.when(pl.col("owner") & pl.col("vip")).then(102),
        )
        .list.drop_nulls()
        .cast(pl.List(pl.Int64))
    ).to_series()
    followers = pl.DataFrame(
        {
            "openid": p["openid"].gather(idx),
            "unionid": pl.Series(p["unionid"].gather(idx)).zip_with(
                pl.Series(unionid_present), pl.Series([None] * m, dtype=pl.Utf8)
            ),
            "subscribe": np.where(unsub, 0, 1).astype(np.int64),
            "subscribe_time": subscribe_time.astype(np.int64),
            "unsubscribe_time": pl.Series(np.where(unsub, unsub_time, 0)).zip_with(
                pl.Series(unsub), pl.Series([None] * m, dtype=pl.Int64)
            ),
            "subscribe_scene": scene,
            "qr_scene": np.where(qr_scene_str != "", 100000 + sell, 0).astype(np.int64),
            "qr_scene_str": qr_scene_str,
            "remark": np.where(rng.random(m) < 0.03, "老客户", ""),
            "tagid_list": tag_lists,
            "language": ["zh_CN"] * m,
            "blocks_template": rng.random(m) < 0.03,
            "_person": idx,
        }
    )
    follower_of_person = np.full(n, -1)
    follower_of_person[idx] = np.arange(m)
    subscribed_person = np.zeros(n, dtype=bool)
    subscribed_person[idx[~unsub]] = True

    # --------------------------------------------------------------------- WeCom members
    rng = I.stream(world.seed, "wecom")
    st = world.staff
    mem = st.filter(pl.col("wecom_userid").is_not_null())
    members = pl.DataFrame(
        {
            "userid": mem["wecom_userid"],
            "name": mem["name"],
            "dealer_code": mem["dealer_code"],
            "staff_id": mem["staff_id"],
            "enabled": rng.random(mem.height) < 0.9,
        }
    )
    staff_userid = st["wecom_userid"].to_numpy()
    staff_enabled = np.zeros(st.height, dtype=bool)
    staff_enabled[np.flatnonzero(st["wecom_userid"].is_not_null().to_numpy())] = members["enabled"].to_numpy()
    staff_mobile = st["mobile_int"].to_numpy()

    # --------------------------------------------------------------------- external contacts
    p_contact = np.select([is_owner, kind == PROSPECT], [0.35, 0.3], default=0.0)
    is_contact = rng.random(n) < p_contact
    cidx = np.flatnonzero(is_contact)
    k = cidx.size
    car = first_car[cidx]
    dealer_c = np.where(car >= 0, world.v["sell_dealer"][np.maximum(car, 0)], p["home_dealer"][cidx])
    sales = np.where(
        car >= 0, world.v["consultant"][np.maximum(car, 0)], world.pick_staff(rng, SALES, dealer_c)
    )
    service = world.pick_staff(rng, SERVICE, dealer_c)
    gender = np.where(rng.random(k) < 0.2, 0, np.where(p["male"][cidx], 1, 2))
    nick = np.array(NICKNAMES)[rng.integers(0, len(NICKNAMES), k)]
    real_name = p["name"].gather(cidx).to_numpy()
    contact_name = np.where(rng.random(k) < 0.4, real_name, nick)
    unionid_c = pl.Series(p["unionid"].gather(cidx)).zip_with(
        pl.Series(p["has_unionid"][cidx] & (rng.random(k) < sop.unionid_on_wecom_contacts)),
        pl.Series([None] * k, dtype=pl.Utf8),
    )
    contacts = pl.DataFrame(
        {
            "external_userid": p["external_userid"].gather(cidx),
            "unionid": unionid_c,
            "name": contact_name,
            "type": np.ones(k, dtype=np.int64),
            "gender": gender.astype(np.int64),
        }
    )

    # relations: the sales consultant (if on WeCom), a service advisor for some
    rel_person = np.concatenate([cidx, cidx])
    rel_staff = np.concatenate([sales, service])
    rel_take = np.concatenate([np.ones(k, dtype=bool), rng.random(k) < 0.35])
    rel_take &= staff_userid[rel_staff] != None  # noqa: E711 (object array of str/None)
    rel_person, rel_staff = rel_person[rel_take], rel_staff[rel_take]
    r = rel_person.size
    first_day_r = np.where(first_day[rel_person] < world.window.end, first_day[rel_person], w.end - 400)
    create_day = np.minimum(first_day_r + rng.exponential(60, r).astype(np.int64), w.end)
    createtime = create_day * D.DAY_S + rng.integers(9 * 3600, 21 * 3600, r) - 8 * 3600
    add_way = rng.choice([1, 2, 3, 5, 6, 0, 202], size=r, p=[0.5, 0.2, 0.08, 0.07, 0.07, 0.05, 0.03])
    rel_dealer = st["dealer_idx"].to_numpy()[rel_staff]
    state = np.where(rng.random(r) < 0.4, np.char.add("dealer_", dealer_code[rel_dealer]), "")
    surname = pl.Series(p["name"].gather(rel_person)).str.slice(0, 1).to_numpy()
    title = np.where(p["male"][rel_person], "先生", "女士")
    model_names = np.array([""] + [m_[1].split(" ")[1] for m_ in MODELS])
    car_r = first_car[rel_person]
    remark = np.where(
        rng.random(r) < 0.75,
        np.char.add(
            np.char.add(surname.astype(str), title),
            np.char.add(
                " ", model_names[np.where(car_r >= 0, world.v["model"][np.maximum(car_r, 0)] + 1, 0)]
            ),
        ),
        "",
    )
    description = np.where(rng.random(r) < 0.3, np.where(car_r >= 0, "已购车客户", "意向客户"), "")

    # remark_mobiles: typed by the consultant; the consultant's own, a family member's, the customer's
    # own (at the SOP's rate for the consultant's role), else none. Returned as raw typed text (dirt
    # applied by the caller's renderer).
    u = rng.random(r)
    own = p["mobile"][rel_person]
    spouse = p["spouse"][rel_person]
    spouse_mob = np.where(spouse >= 0, p["own_mobile"][np.maximum(spouse, 0)], 0)
    consultant_mob = staff_mobile[rel_staff]
    by_service = np.arange(r) >= int(rel_take[:k].sum())  # the service advisors' relations come second
    noise_consultant = DIRT["consultant_mobile_wecom"]["rate"]
    noise = noise_consultant + WECOM_REMARK_FAMILY
    own_share = np.where(by_service, sop.wecom_remark_own_mobile_service, sop.wecom_remark_own_mobile_sales)
    first_m = np.select(
        [u < noise_consultant, u < noise, u < noise + own_share],
        [consultant_mob, np.where(spouse_mob > 0, spouse_mob, own), own],
        default=np.zeros(r, dtype=np.int64),
    )
    first_m = np.where((own == 0) & (u >= noise), 0, first_m)  # prospects without a known number
    second_m = np.where((rng.random(r) < 0.03) & (first_m > 0), np.where(spouse_mob > 0, spouse_mob, 0), 0)
    tag_pick = np.array(WECOM_TAGS)[rng.integers(0, len(WECOM_TAGS), (r, 2))]
    tag_n = rng.integers(0, 3, r)
    tags = (
        pl.DataFrame({"a": tag_pick[:, 0], "b": tag_pick[:, 1], "n": tag_n})
        .select(
            pl.concat_list(
                pl.when(pl.col("n") >= 1).then(pl.col("a")),
                pl.when((pl.col("n") >= 2) & (pl.col("b") != pl.col("a"))).then(pl.col("b")),
            ).list.drop_nulls()
        )
        .to_series()
    )
    relations = pl.DataFrame(
        {
            "userid": staff_userid[rel_staff].astype(str),
            "external_userid": p["external_userid"].gather(rel_person),
            "remark": remark,
            "description": description,
            "createtime": createtime.astype(np.int64),
            "add_way": add_way.astype(np.int64),
            "state": state,
            "_mobile1": first_m,
            "_mobile2": second_m,
            "_consultant_mobile": (u < noise_consultant) & (first_m == consultant_mob),
            "tags": tags,
            "_person": rel_person,
            "_staff": rel_staff,
        }
    )

    # --------------------------------------------------------------------- behaviour per day
    enabled_staff = np.flatnonzero(staff_enabled)
    if not with_activity:
        enabled_staff = enabled_staff[:0]
    days = np.arange(w.start, w.end + 1)
    nm, nd = enabled_staff.size, days.size
    activity = rng.lognormal(np.log(6), 0.6, nm)  # chats per day level per consultant
    chat = rng.poisson(np.repeat(activity, nd)).astype(np.int64)
    weekday = (np.tile(days, nm) + 3) % 7  # 1970-01-01 was a Thursday
    chat = np.where(weekday >= 5, chat // 2, chat)
    new_apply = rng.poisson(0.4, nm * nd)
    new_contact = np.minimum(new_apply, rng.poisson(0.35, nm * nd))
    message = chat * rng.integers(2, 9, nm * nd)
    reply = np.where(chat > 0, np.round(np.clip(rng.normal(85, 12, nm * nd), 20, 100), 1), 0.0)
    reply_time = np.where(chat > 0, np.round(rng.lognormal(np.log(8), 0.8, nm * nd)), 0).astype(np.int64)
    behavior = pl.DataFrame(
        {
            "userid": np.repeat(staff_userid[enabled_staff].astype(str), nd),
            "stat_date": pl.Series(np.tile(days, nm).astype(np.int32)).cast(pl.Date),
            "new_apply_cnt": new_apply.astype(np.int64),
            "new_contact_cnt": new_contact.astype(np.int64),
            "chat_cnt": chat,
            "message_cnt": message.astype(np.int64),
            "reply_percentage": reply.astype(np.float64),
            "avg_reply_time": reply_time,
            "negative_feedback_cnt": (rng.random(nm * nd) < 0.003).astype(np.int64),
        }
    )

    # --------------------------------------------------------------------- group messages
    # each enabled consultant sends one message to their contacts about once a quarter
    quarters = np.arange(w.start, w.end, 91)
    msgs = []
    results = []
    rel_by_staff = np.argsort(rel_staff, kind="stable")
    rs_sorted = rel_staff[rel_by_staff]
    for q in quarters:
        senders = enabled_staff[rng.random(nm) < 0.8]
        if senders.size == 0:
            continue
        send_day = q + rng.integers(0, 80, senders.size)
        ctime = send_day * D.DAY_S + rng.integers(9 * 3600, 18 * 3600, senders.size) - 8 * 3600
        msgid = I.wechat_ids(rng, senders.size, "msg", 27)
        # a message planned after the window's end is not sent yet. (Moving it to the last day,
        # as before, put most of the last quarter's messages on one day: ~8,500 at M on a month's
        # last day, the month-end pull's largest part; docs/benchmarks.md)
        sent = send_day <= w.end
        if not sent.any():
            continue
        senders, ctime, msgid = senders[sent], ctime[sent], msgid.filter(pl.Series(sent))
        msgs.append(
            pl.DataFrame(
                {
                    "msgid": msgid,
                    "creator": staff_userid[senders].astype(str),
                    "create_time": ctime.astype(np.int64),
                    "chat_type": ["single"] * senders.size,
                    "text": np.array(GROUPMSG_TEXTS)[rng.integers(0, len(GROUPMSG_TEXTS), senders.size)],
                }
            )
        )
        lo = np.searchsorted(rs_sorted, senders, "left")
        hi = np.searchsorted(rs_sorted, senders, "right")
        cnt = hi - lo
        which = np.repeat(np.arange(senders.size), cnt)
        rel = rel_by_staff[ranges(lo, hi)]
        rel_ok = createtime[rel] < ctime[which]
        which, rel = which[rel_ok], rel[rel_ok]
        status = rng.choice([0, 1, 2, 3], size=rel.size, p=[0.12, 0.78, 0.05, 0.05])
        send_time = ctime[which] + rng.integers(60, 3 * 86400, rel.size)
        status = np.where((status == 1) & (send_time > clock_start_s), 0, status)  # not sent yet at the clock
        results.append(
            pl.DataFrame(
                {
                    "msgid": msgid.gather(which),
                    "userid": staff_userid[rel_staff[rel]].astype(str),
                    "external_userid": p["external_userid"].gather(rel_person[rel]),
                    "status": status.astype(np.int64),
                    "send_time": pl.Series(np.where(status == 1, send_time, 0)).zip_with(
                        pl.Series(status == 1), pl.Series([None] * rel.size, dtype=pl.Int64)
                    ),
                }
            )
        )
    groupmsg = pl.concat(msgs) if msgs else pl.DataFrame()
    groupmsg_results = pl.concat(results) if results else pl.DataFrame()
    return WechatState(
        followers=followers,
        members=members,
        contacts=contacts,
        relations=relations,
        behavior=behavior,
        groupmsg=groupmsg,
        groupmsg_results=groupmsg_results,
        sop=sop,
        follower_of_person=follower_of_person,
        contact_person=cidx,
        subscribed_person=subscribed_person,
    )
