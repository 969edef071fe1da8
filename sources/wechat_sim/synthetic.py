"""A small synthetic simulator state in the generator's format, for tests and the bench.

The real demo state comes from ``aftercare generate`` (``sources.sample_oem``); this writer only
exists so the simulator and the client can be exercised without the full generator, e.g.
``python -m sources.wechat_sim.synthetic OUT --followers 600000`` for the 600k-follower bench.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl

CLOCK_START = "2026-10-31T09:00:00+08:00"
APPID = "wxa1f2c3d4e5f60718"
CORPID = "ww0a1b2c3d4e5f6071"
OA_SECRET = "sim-oa-secret-0001"
WECOM_SECRET = "sim-wecom-secret-0001"
TEMPLATE_ID = "TPL_SERVICE_REMINDER"
SCENES = ["ADD_SCENE_QR_CODE", "ADD_SCENE_SEARCH", "ADD_SCENE_PROFILE_CARD", "ADD_SCENE_OTHERS"]


def write_state(
    folder: str | Path,
    followers: int = 1000,
    members: int = 6,
    contacts_per_member: int = 30,
    unsubscribed_share: float = 0.05,
    seed: int = 7,
) -> Path:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    start = int(dt.datetime.fromisoformat(CLOCK_START).timestamp())

    (out / "oa_account.json").write_text(
        json.dumps(
            {
                "appid": APPID,
                "secret": OA_SECRET,
                "templates": [{"template_id": TEMPLATE_ID, "title": "保养到期提醒"}],
                "clock_start": CLOCK_START,
            },
            ensure_ascii=False,
        )
    )
    (out / "oa_tags.json").write_text(
        json.dumps([{"id": 100, "name": "车主"}, {"id": 101, "name": "潜客"}], ensure_ascii=False)
    )

    idx = np.arange(followers)
    subscribe = (rng.random(followers) >= unsubscribed_share).astype(np.int64)
    sub_time = start - rng.integers(86_400, 3 * 365 * 86_400, followers)
    dealer = rng.integers(0, 40, followers)
    via_qr = rng.random(followers) < 0.6
    has_union = rng.random(followers) < 0.9
    pl.DataFrame(
        {
            "openid": [f"oSim{i:08d}x{seed:02d}" for i in idx],
            "unionid": [f"uSim{i:08d}" if u else None for i, u in zip(idx, has_union, strict=True)],
            "subscribe": subscribe,
            "subscribe_time": sub_time,
            "unsubscribe_time": [
                int(t) + 86_400 if s == 0 else None for s, t in zip(subscribe, sub_time, strict=True)
            ],
            "subscribe_scene": [
                SCENES[0] if q else SCENES[1 + (i % 3)] for i, q in zip(idx, via_qr, strict=True)
            ],
            "qr_scene": np.zeros(followers, dtype=np.int64),
            "qr_scene_str": [f"dealer_D{d:03d}" if q else "" for d, q in zip(dealer, via_qr, strict=True)],
            "remark": [""] * followers,
            "tagid_list": [[100] if i % 4 == 0 else [] for i in idx],
            "language": ["zh_CN"] * followers,
            "blocks_template": rng.random(followers) < 0.02,
        },
        schema_overrides={"tagid_list": pl.List(pl.Int64)},
    ).write_parquet(out / "oa_followers.parquet")

    (out / "wecom_corp.json").write_text(
        json.dumps({"corpid": CORPID, "secret": WECOM_SECRET, "agentid": 1000002, "clock_start": CLOCK_START})
    )
    userids = [f"sc_D{m % 40:03d}_{m:03d}" for m in range(members)]
    pl.DataFrame(
        {
            "userid": userids,
            "name": [f"顾问{m}" for m in range(members)],
            "dealer_code": [f"D{m % 40:03d}" for m in range(members)],
            "staff_id": [f"S{m:05d}" for m in range(members)],
            "enabled": [m % 5 != 4 for m in range(members)],  # every 5th: customer contact not enabled
        }
    ).write_parquet(out / "wecom_members.parquet")

    n_contacts = max(1, members * contacts_per_member // 2)
    contact_ids = [f"wmSim{i:06d}{'x' * 21}" for i in range(n_contacts)]
    pl.DataFrame(
        {
            "external_userid": contact_ids,
            "unionid": [f"uSim{i:08d}" if i % 3 else None for i in range(n_contacts)],
            "name": [f"客户{i}" for i in range(n_contacts)],
            "type": [1] * n_contacts,
            "gender": [int(g) for g in rng.integers(0, 3, n_contacts)],
        }
    ).write_parquet(out / "wecom_external_contacts.parquet")

    rel_rows = []
    for m, userid in enumerate(userids):
        if m % 5 == 3:
            continue  # a consultant without customers: list answers 84061
        for k in range(contacts_per_member):
            c = (m * 7 + k * 3) % n_contacts
            mobile = f"139{(c * 7919) % 10**8:08d}" if k % 2 == 0 else ""
            rel_rows.append(
                {
                    "userid": userid,
                    "external_userid": contact_ids[c],
                    "remark": f"客户{c}",
                    "description": "",
                    "createtime": start - int(rng.integers(86_400, 400 * 86_400)),
                    "add_way": int(rng.choice([1, 2, 3, 16])),
                    "state": f"dealer_D{m % 40:03d}",
                    "remark_mobiles": [mobile] if mobile else [],
                    "tags": ["etSimTag0001"] if k % 3 == 0 else [],
                }
            )
    pl.DataFrame(
        rel_rows, schema_overrides={"remark_mobiles": pl.List(pl.Utf8), "tags": pl.List(pl.Utf8)}
    ).unique(["userid", "external_userid"], keep="first", maintain_order=True).write_parquet(
        out / "wecom_follow_relations.parquet"
    )

    first_day = dt.date.fromisoformat(CLOCK_START[:10]) - dt.timedelta(days=90)
    beh = []
    for userid in userids:
        for d in range(90):
            beh.append(
                {
                    "userid": userid,
                    "stat_date": first_day + dt.timedelta(days=d),
                    "new_apply_cnt": int(rng.integers(0, 5)),
                    "new_contact_cnt": int(rng.integers(0, 4)),
                    "chat_cnt": int(rng.integers(0, 30)),
                    "message_cnt": int(rng.integers(0, 120)),
                    "reply_percentage": float(round(rng.uniform(40, 100), 2)),
                    "avg_reply_time": int(rng.integers(1, 60)),
                    "negative_feedback_cnt": int(rng.integers(0, 2)),
                }
            )
    pl.DataFrame(beh).write_parquet(out / "wecom_behavior_daily.parquet")

    msgs, results = [], []
    for j in range(4):
        msgid = f"msgSim{j:04d}"
        creator = userids[j % len(userids)]
        created = start - (j * 9 + 3) * 86_400
        msgs.append(
            {
                "msgid": msgid,
                "creator": creator,
                "create_time": created,
                "chat_type": "single",
                "text": "您的爱车保养提醒",
            }
        )
        for k, rel in enumerate(r for r in rel_rows if r["userid"] in userids[:3]):
            status = [1, 1, 0, 2, 3][k % 5]
            results.append(
                {
                    "msgid": msgid,
                    "userid": rel["userid"],
                    "external_userid": rel["external_userid"],
                    "status": status,
                    "send_time": created + 3600 if status else None,
                }
            )
    pl.DataFrame(msgs).write_parquet(out / "wecom_groupmsg.parquet")
    pl.DataFrame(results, schema_overrides={"send_time": pl.Int64}).unique(
        ["msgid", "userid", "external_userid"], maintain_order=True
    ).write_parquet(out / "wecom_groupmsg_results.parquet")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--followers", type=int, default=1000)
    parser.add_argument("--members", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(write_state(args.out, followers=args.followers, members=args.members, seed=args.seed))


if __name__ == "__main__":
    main()
