"""What happens in the window: sales, bindings, bookings, repair orders, campaigns, DCRC calls,
complaints and rescues, as typed tables.

Every function returns a polars DataFrame with the English columns of SOURCES.md plus ``_day`` (the
event day that decides the monthly file). Mobile columns hold the true number as int64 (0 =
missing); ID-number columns hold the person index (-1 = missing). ``render`` turns them into the
dirty strings the files carry.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from sources.sample_oem import dates as D
from sources.sample_oem import identity as I
from sources.sample_oem.geography import MODELS
from sources.sample_oem.wechat_state import WechatState
from sources.sample_oem.world import DCRC, INSURANCE, NEVER, SERVICE, World

PLACEHOLDER_MOBILES = np.array([13800138000, 13888888888, 11111111111, 13912345678, 13000000000])


def _date(days: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    s = pl.Series(np.asarray(days).astype(np.int32)).cast(pl.Date)
    if valid is not None:
        s = s.zip_with(pl.Series(valid), pl.Series([None] * s.len(), dtype=pl.Date))
    return s


def _ts(secs: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    s = pl.Series(np.asarray(secs).astype(np.int64) * 1000).cast(pl.Datetime("ms"))
    if valid is not None:
        s = s.zip_with(pl.Series(valid), pl.Series([None] * s.len(), dtype=pl.Datetime("ms")))
    return s


def _opt(values: np.ndarray, valid: np.ndarray, dtype=pl.Int64) -> pl.Series:
    s = pl.Series(values).cast(dtype)
    return s.zip_with(pl.Series(valid), pl.Series([None] * s.len(), dtype=dtype))


def _str(values: np.ndarray, valid: np.ndarray) -> pl.Series:
    """Strings, null where not ``valid``."""
    s = pl.Series(np.asarray(values).astype(str))
    return s.zip_with(pl.Series(np.asarray(valid, dtype=bool)), pl.Series([None] * s.len(), dtype=pl.Utf8))


def _ids(prefix: str, n: int, width: int = 9) -> pl.Series:
    return pl.Series(np.arange(1, n + 1)).cast(pl.Utf8).str.zfill(width).str.replace(r"^", prefix)


class Activity:
    """Builds every export table from one world; each table has its own random stream."""

    def __init__(self, world: World, wx: WechatState):
        self.w = world
        self.wx = wx
        self.dealer_code = world.dealers["dealer_code"].to_numpy()
        self.staff_id = world.staff["staff_id"].to_numpy()
        self.staff_mobile = world.staff["mobile_int"].to_numpy()
        self.openid = world.p["openid"]

    def rng(self, name: str) -> np.random.Generator:
        return I.stream(self.w.seed, name)

    def openid_of(self, person: np.ndarray, p: float, rng: np.random.Generator) -> pl.Series:
        """The person's OA openid where they follow (and with probability p the record carries it)."""
        has = (self.wx.follower_of_person[person] >= 0) & (rng.random(person.size) < p)
        return self.openid.gather(person).zip_with(
            pl.Series(has), pl.Series([None] * person.size, dtype=pl.Utf8)
        )

    # ------------------------------------------------------------------------------ campaigns
    def campaigns(self) -> pl.DataFrame:
        rng = self.rng("campaigns")
        w = self.w.window
        rows = []
        month0 = D.month_index(np.array([w.start]))[0]
        n_models = len(MODELS)
        # national: a service campaign every quarter, a recall twice a year
        for k in range(0, w.months, 3):
            start = int(D.month_index_start(np.array([month0 + k]))[0]) + int(rng.integers(0, 20))
            rows.append(("全国", None, "服务活动", start, start + int(rng.integers(30, 75)), k))
            if k % 6 == 0:
                rows.append(("全国", None, "召回", start + 10, start + 180, k))
        # dealer campaigns: about one a year per dealer
        n_dealer_campaigns = int(self.w.dealers.height * w.months / 12)
        dealers = rng.integers(0, self.w.dealers.height, n_dealer_campaigns)
        starts = rng.integers(w.start, w.end - 30, n_dealer_campaigns)
        for d, s in zip(dealers, starts, strict=True):
            rows.append(("店端", int(d), "服务活动", int(s), int(s) + int(rng.integers(14, 45)), -1))
        n = len(rows)
        scope = [r[0] for r in rows]
        dealer = np.array([-1 if r[1] is None else r[1] for r in rows])
        kind = [r[2] for r in rows]
        start = np.array([r[3] for r in rows])
        end = np.minimum(np.array([r[4] for r in rows]), w.end + 120)
        names_service = [
            "夏季空调免费检测",
            "冬季关爱服务月",
            "老客户回厂礼",
            "轮胎安全检查",
            "春季保养特惠",
            "长途出行安全检查",
        ]
        recall_parts = ["制动软管", "燃油泵", "安全气囊", "电子驻车控制单元"]
        model_targeted = rng.random(n) < 0.3
        name, targets = [], []
        for i in range(n):
            if kind[i] == "召回":
                m = int(rng.integers(0, n_models))
                targets.append(MODELS[m][0])
                name.append(f"{MODELS[m][1]} {recall_parts[i % len(recall_parts)]}召回")
                continue
            name.append(names_service[i % len(names_service)])
            if model_targeted[i]:
                picks = sorted(set(MODELS[j][0] for j in rng.integers(0, n_models, 2)))
                targets.append(";".join(picks))
            else:
                targets.append("")
        ranged = (rng.random(n) < 0.25) | (np.array(kind) == "召回")
        p_from = start - rng.integers(3 * 365, 7 * 365, n)
        p_to = p_from + rng.integers(365, 3 * 365, n)
        code = [
            (
                f"NC{D.to_date(s).strftime('%Y%m')}{i:03d}"
                if sc == "全国"
                else f"DC{self.dealer_code[d]}{i:04d}"
            )
            for i, (sc, s, d) in enumerate(zip(scope, start, dealer, strict=True))
        ]
        return pl.DataFrame(
            {
                "campaign_code": code,
                "scope": scope,
                "dealer_code": _str(self.dealer_code[np.maximum(dealer, 0)], dealer >= 0),
                "name": name,
                "start_date": _date(start),
                "end_date": _date(end),
                "target_models": targets,
                "target_purchase_from": _date(p_from, ranged),
                "target_purchase_to": _date(p_to, ranged),
                "_day": start,
                "_dealer": dealer,
                "_kind": kind,
                "_start": start,
                "_end": end,
                "_from": np.where(ranged, p_from, -NEVER),
                "_to": np.where(ranged, p_to, NEVER),
            }
        )

    def _dealer_vehicles(self, dealer: int) -> np.ndarray:
        if not hasattr(self, "_by_dealer"):
            v = self.w.v
            n = self.w.n_vehicles
            veh = np.concatenate([np.arange(n)] * 3)
            dl = np.concatenate([v["serv_dealer"], v["alt_dealer"], v["resale_dealer"]])
            order = np.lexsort((veh, dl))
            self._by_dealer = (veh[order], dl[order])
        veh, dl = self._by_dealer
        lo, hi = np.searchsorted(dl, [dealer, dealer + 1])
        return np.unique(veh[lo:hi])

    def _eligible(self, c: dict, rng: np.random.Generator) -> np.ndarray:
        """Vehicles a campaign targets (model, purchase range, dealer), active at its start."""
        v = self.w.v
        ok = (v["inv"] >= c["_from"]) & (v["inv"] <= c["_to"]) & (v["inv"] < c["_start"])
        if c["target_models"]:
            codes = c["target_models"].split(";")
            ok &= np.isin(v["model"], [i for i, m in enumerate(MODELS) if m[0] in codes])
        if c["_dealer"] >= 0:
            # only cars this dealer ever services can be its campaign's targets
            idx = self._dealer_vehicles(c["_dealer"])
            idx = idx[ok[idx]]
            idx = idx[self.w.service_dealer_at(idx, np.full(idx.size, c["_start"])) == c["_dealer"]]
        else:
            idx = np.flatnonzero(ok)
        return idx[self.w.active_at(idx, np.full(idx.size, c["_start"]))]

    def participants(self, campaigns: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Campaign registrations, and the campaign / recall visits they lead to (RO seeds)."""
        rng = self.rng("campaign_participants")
        parts, visits = [], []
        for c in campaigns.iter_rows(named=True):
            idx = self._eligible(c, rng)
            if c["_kind"] == "召回":
                came = idx[rng.random(idx.size) < 0.55]
                day = rng.integers(c["_start"], max(c["_end"], c["_start"] + 1), came.size)
                inside = day <= self.w.window.end  # the campaign may run on after the window
                visits.append((came[inside], day[inside], c["campaign_code"], "召回"))
                continue
            rate = 0.05 if c["scope"] == "全国" else 0.10
            sel = idx[rng.random(idx.size) < rate]
            reg = rng.integers(c["_start"], max(c["_end"], c["_start"] + 1), sel.size)
            inside = reg <= self.w.window.end
            sel, reg = sel[inside], reg[inside]
            parts.append((sel, reg, c["campaign_code"]))
            came = rng.random(sel.size) < 0.6
            visit = np.minimum(reg + rng.integers(0, 21, sel.size), self.w.window.end)
            visits.append((sel[came], visit[came], c["campaign_code"], "服务活动"))
        vin_idx = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, dtype=np.int64)
        reg = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, dtype=np.int64)
        code = np.concatenate([np.full(p[0].size, p[2]) for p in parts]) if parts else np.empty(0)
        n = vin_idx.size
        owner = self.w.owner_at(vin_idx, reg)
        channel = np.array(["朋友圈", "群发", "会话", "电话", "到店"])[
            rng.choice(5, size=n, p=[0.25, 0.2, 0.2, 0.25, 0.1])
        ]
        dealer = self.w.service_dealer_at(vin_idx, reg)
        inviter = np.where(
            rng.random(n) < 0.5, self.w.pick_staff(rng, SERVICE, dealer), self.w.pick_staff(rng, DCRC, dealer)
        )
        wechat_channel = np.isin(channel, ["朋友圈", "群发", "会话"])
        order = np.argsort(reg, kind="stable")
        vin_idx, reg, code, owner, channel, inviter, wechat_channel = (
            a[order] for a in (vin_idx, reg, code, owner, channel, inviter, wechat_channel)
        )
        secs = D.office_seconds(rng, reg, 8, 22)
        participants = pl.DataFrame(
            {
                "participant_id": _ids("CP", n),
                "campaign_code": code.astype(str),
                "vin": self.w.v["vin"].gather(vin_idx),
                "mobile": np.where(rng.random(n) < 0.97, self.w.p["mobile"][owner], 0),
                "openid": self.openid_of(owner, 0.9, rng).zip_with(
                    pl.Series(wechat_channel), pl.Series([None] * n, dtype=pl.Utf8)
                ),
                "registered_at": _ts(secs),
                "channel": channel,
                "invited_by": _str(self.staff_id[inviter], channel != "朋友圈"),
                "_day": reg,
            }
        )
        seeds = pl.DataFrame(
            {
                "_vehicle": np.concatenate([x[0] for x in visits]),
                "_day": np.concatenate([x[1] for x in visits]),
                "campaign_code": np.concatenate([np.full(x[0].size, x[2]) for x in visits]).astype(str),
                "service_type": np.concatenate([np.full(x[0].size, x[3]) for x in visits]).astype(str),
            }
        )
        return participants, seeds

    # ------------------------------------------------------------------------------ repair orders
    def repair_orders(self, campaign_visits: pl.DataFrame, visits_only: bool = False) -> pl.DataFrame:
        """Every repair order of the window; ``visits_only``: just each visit's service type, vehicle,
        day and dealer (what bookings are made from), without building the orders' other columns."""
        rng = self.rng("repair_orders")
        w, v = self.w.window, self.w.v
        n = self.w.n_vehicles
        events_v, events_d, events_t = [], [], []

        # maintenance: first ~3 months after invoice, then every ~6 months / 5,000-10,000 km
        interval = np.clip(7500 / v["daily_km"], 90, 230) * rng.lognormal(0, 0.1, n)
        t = v["inv"] + np.round(rng.normal(92, 14, n)).astype(np.int64)
        skips_first = rng.random(n) < 0.08
        k = 0
        alive = np.ones(n, dtype=bool)
        while alive.any():
            idx = np.flatnonzero(alive)
            tt = t[idx]
            keep = (tt >= w.start) & (tt <= w.end) & self.w.active_at(idx, tt) & (rng.random(idx.size) > 0.05)
            if k == 0:
                keep &= ~skips_first[idx]
            events_v.append(idx[keep])
            events_d.append(tt[keep])
            events_t.append(np.full(keep.sum(), "首保" if k == 0 else "定期保养"))
            t[idx] = tt + np.round(interval[idx] * rng.lognormal(0, 0.12, idx.size)).astype(np.int64)
            alive = t <= w.end
            k += 1

        # other visits as Poisson processes over the part of the window the car is in service
        span_start = np.maximum(v["inv"], w.start)
        span = np.maximum(w.end - span_start, 0)
        for service_type, per_year in (("一般维修", 1.75), ("索赔", 0.45), ("事故车", 0.2)):
            cnt = rng.poisson(per_year * span / 365.25)
            idx = np.repeat(np.arange(n), cnt)
            day = span_start[idx] + (rng.random(idx.size) * span[idx]).astype(np.int64)
            keep = self.w.active_at(idx, day)
            if service_type == "索赔":
                keep &= day < D.add_years(v["inv"][idx], 3)
            events_v.append(idx[keep])
            events_d.append(day[keep])
            events_t.append(np.full(keep.sum(), service_type))

        veh = np.concatenate(events_v + [campaign_visits["_vehicle"].to_numpy()])
        day = np.concatenate(events_d + [campaign_visits["_day"].to_numpy()])
        stype = np.concatenate(events_t + [campaign_visits["service_type"].to_numpy().astype(str)]).astype(
            str
        )
        campaign = pl.concat(
            [
                pl.Series([None] * sum(e.size for e in events_v), dtype=pl.Utf8),
                campaign_visits["campaign_code"],
            ]
        )
        order = np.lexsort((veh, day))
        veh, day, stype = veh[order], day[order], stype[order]
        campaign = campaign.gather(order)
        m = veh.size

        dealer = self.w.service_dealer_at(veh, day)
        if visits_only:
            return pl.DataFrame({"service_type": stype, "_vehicle": veh, "_day": day, "_dealer": dealer})
        opened = D.office_seconds(rng, day, 8, 17.5)
        hours = np.select(
            [np.isin(stype, ["首保", "定期保养", "服务活动", "召回"]), stype == "事故车"],
            [rng.uniform(0.8, 4, m), rng.uniform(48, 480, m)],
            default=rng.uniform(1, 60, m),
        )
        closed = opened + (hours * 3600).astype(np.int64)
        closed_ok = (rng.random(m) > 0.005) & (closed <= (w.end + 1) * D.DAY_S)
        mileage = np.round(
            (day - v["inv"][veh]) * v["daily_km"][veh] * rng.uniform(0.96, 1.04, m)
        ) + rng.integers(5, 60, m)
        labor = np.select(
            [stype == "首保", stype == "定期保养", stype == "一般维修", stype == "索赔", stype == "事故车"],
            [
                np.where(rng.random(m) < 0.6, 0, rng.uniform(80, 200, m)),
                rng.uniform(150, 450, m),
                rng.lognormal(np.log(300), 0.8, m),
                rng.lognormal(np.log(600), 0.6, m),
                rng.lognormal(np.log(3000), 0.7, m),
            ],
            default=rng.uniform(0, 200, m),
        )
        parts = np.select(
            [stype == "首保", stype == "定期保养", stype == "一般维修", stype == "索赔", stype == "事故车"],
            [
                np.where(labor == 0, 0, rng.uniform(150, 400, m)),
                rng.uniform(300, 1300, m),
                rng.lognormal(np.log(500), 1.0, m),
                rng.lognormal(np.log(1500), 0.8, m),
                rng.lognormal(np.log(8000), 0.8, m),
            ],
            default=np.where(stype == "召回", 0, rng.uniform(0, 300, m)),
        )
        labor = np.round(np.minimum(labor, 200_000), 2)
        parts = np.round(np.minimum(parts, 500_000), 2)
        discount = np.where(rng.random(m) < 0.1, rng.uniform(0.85, 0.98, m), 1.0)
        total = np.round((labor + parts) * discount, 2)

        maint = np.isin(stype, ["首保", "定期保养"])
        habit = self.w.dealers["nmd_habit"].to_numpy()[dealer]
        has_nmd = maint & (rng.random(m) < habit)
        nmd = D.add_months(day, 6) + rng.integers(-7, 8, m)
        nmk = mileage + rng.choice([5000, 7500, 10000], size=m)
        inv = v["inv"][veh]
        warranty = D.add_years(inv, 3) - 1
        reg = v["reg"][veh]
        # inspection (non-operating <= 9 seats): years 2,4,6,8,10 then yearly; operating: yearly
        years_since = (day - reg) / 365.25
        next_year = np.where(
            v["usage_operating"][veh] | (v["seats"][veh] > 9),
            np.floor(years_since) + 1,
            np.where(years_since < 10, (np.floor(years_since / 2) + 1) * 2, np.floor(years_since) + 1),
        ).astype(np.int64)
        next_insp = D.month_end(D.add_years(reg, next_year))

        owner = self.w.owner_at(veh, day)
        spouse = self.w.p["spouse"][owner]
        contact = v["contact"][veh]
        u = rng.random(m)
        sender = np.select(
            [(contact >= 0) & (u < 0.5), (spouse >= 0) & (u > 0.8)],
            [contact, np.maximum(spouse, 0)],
            default=owner,
        )
        sender_mobile = np.where(rng.random(m) < 0.96, self.w.p["own_mobile"][sender], 0)
        sender_mobile = np.where(sender == owner, self.w.p["mobile"][owner], sender_mobile)
        advisor = self.w.pick_staff(rng, SERVICE, dealer)
        mon = D.yyyymmdd(day) // 100
        ro_no = pl.Series(mon).cast(pl.Utf8).str.replace(r"^", "RO") + _ids("", m, 8)

        return pl.DataFrame(
            {
                "ro_no": ro_no,
                "dealer_code": self.dealer_code[dealer],
                "vin": v["vin"].gather(veh),
                "opened_at": _ts(opened),
                "closed_at": _ts(closed, closed_ok),
                "mileage_km": mileage.astype(np.int64),
                "service_type": stype,
                "labor_amount": labor,
                "parts_amount": parts,
                "total_amount": total,
                "next_maintenance_date": _date(nmd, has_nmd),
                "next_maintenance_km": _opt(nmk.astype(np.int64), maint & (rng.random(m) < 0.7)),
                "warranty_expiry_date": _date(warranty, rng.random(m) < 0.3),
                "next_inspection_date": _date(next_insp, rng.random(m) < 0.15),
                "advisor": self.staff_id[advisor],
                "sender_name": self.w.p["name"].gather(sender),
                "sender_mobile": sender_mobile,
                "campaign_code": campaign,
                "_day": day,
                "_vehicle": veh,
                "_dealer": dealer,
            }
        )

    # ------------------------------------------------------------------------------ bookings
    def bookings(self, ros: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng("bookings")
        w = self.w.window
        stype = ros["service_type"].to_numpy()
        maint = np.isin(stype, ["首保", "定期保养", "服务活动"])
        booked = rng.random(ros.height) < np.where(maint, 0.35, 0.12)
        veh = ros["_vehicle"].to_numpy()[booked]
        sched = ros["_day"].to_numpy()[booked] + rng.choice(
            [0, 0, 0, 0, 0, 0, 0, 0, -1, 1], size=booked.sum()
        )
        dealer = ros["_dealer"].to_numpy()[booked]
        item = np.where(maint[booked], "保养", np.where(rng.random(booked.sum()) < 0.9, "维修", "其他"))
        status = np.where(rng.random(booked.sum()) < 0.97, "已确认", "待确认")
        # no-shows and cancellations: bookings without a visit
        n_extra = int(booked.sum() * 0.2)
        xv = rng.integers(0, self.w.n_vehicles, n_extra)
        xd = rng.integers(w.start, w.end + 1, n_extra)
        act = self.w.active_at(xv, xd)
        xv, xd = xv[act], xd[act]
        xs = np.where(rng.random(xv.size) < 0.45, "已取消", "已确认")
        xi = np.array(["保养", "维修", "年检", "其他"])[rng.choice(4, size=xv.size, p=[0.55, 0.3, 0.1, 0.05])]
        veh = np.concatenate([veh, xv])
        sched = np.concatenate([sched, xd])
        dealer = np.concatenate([dealer, self.w.service_dealer_at(xv, xd)])
        item = np.concatenate([item, xi])
        status = np.concatenate([status, xs])
        created_day = sched - rng.integers(1, 8, veh.size)
        # bookings made before the window are not exported (the window's first files start clean)
        keep = created_day >= w.start
        veh, sched, dealer, item, status, created_day = (
            a[keep] for a in (veh, sched, dealer, item, status, created_day)
        )
        n = veh.size
        created = D.office_seconds(rng, created_day, 8, 22)
        order = np.argsort(created, kind="stable")
        veh, sched, dealer, item, status, created = (
            a[order] for a in (veh, sched, dealer, item, status, created)
        )
        owner = self.w.owner_at(veh, sched)
        channel = np.array(["微信", "电话", "APP", "到店"])[rng.choice(4, size=n, p=[0.35, 0.35, 0.15, 0.15])]
        u = rng.random(n)
        advisor = self.w.pick_staff(rng, SERVICE, dealer)
        mobile = np.select(
            [u < 0.01, u < 0.022, u < 0.03],
            [
                self.staff_mobile[advisor],
                rng.choice(PLACEHOLDER_MOBILES, size=n),
                np.zeros(n, dtype=np.int64),
            ],
            default=self.w.p["mobile"][owner],
        )
        required = (rng.random(n) < 0.7) & (status != "已取消")
        done = required & (rng.random(n) < 0.8) & (sched + 1 <= w.end)
        feedback_at = (sched + 1) * D.DAY_S + rng.integers(9 * 3600, 19 * 3600, n)
        result = np.array(["满意", "一般", "不满意", "未接通", "客户改期"])[
            rng.choice(5, size=n, p=[0.6, 0.15, 0.05, 0.12, 0.08])
        ]
        return pl.DataFrame(
            {
                "booking_id": _ids("BK", n),
                "channel": channel,
                "openid": self.openid_of(owner, 0.95, rng).zip_with(
                    pl.Series(channel == "微信"), pl.Series([None] * n, dtype=pl.Utf8)
                ),
                "mobile": mobile,
                "vin": self.w.v["vin"].gather(veh),
                "dealer_code": self.dealer_code[dealer],
                "created_at": _ts(created),
                "scheduled_date": _date(sched),
                "service_item": item,
                "status": status,
                "feedback_required": required,
                "feedback_at": _ts(feedback_at, done),
                "feedback_result": _str(result, done),
                "_day": created // D.DAY_S,
                "_consultant_mobile": u < 0.01,
                "_placeholder": (u >= 0.01) & (u < 0.022),
            }
        )

    # ------------------------------------------------------------------------------ DCRC calls
    def reminder_calls(self, ros: pl.DataFrame, participants: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng("reminder_calls")
        w, v = self.w.window, self.w.v
        n = self.w.n_vehicles
        inv = v["inv"]
        dues_v, dues_m, dues_t = [], [], []

        def add(veh, due_day, rtype, p):
            ok = (due_day >= w.start) & (due_day <= w.end) & (rng.random(veh.size) < p)
            ok &= self.w.active_at(veh, np.minimum(due_day, w.end))
            dues_v.append(veh[ok])
            dues_m.append(D.month_start(due_day[ok]))
            dues_t.append(np.full(ok.sum(), rtype))

        allv = np.arange(n)
        add(allv, D.add_months(inv, 3), "首保", 0.7)
        maint = np.isin(ros["service_type"].to_numpy(), ["首保", "定期保养"])
        rv = ros["_vehicle"].to_numpy()[maint]
        nmd = ros["next_maintenance_date"].to_physical().to_numpy()[maint]
        due = np.where(
            np.isnan(nmd.astype(float)), D.add_months(ros["_day"].to_numpy()[maint], 6), nmd
        ).astype(np.int64)
        add(rv, due, "保养", 0.6)
        add(allv, D.add_years(inv, 3) - 30, "质保", 0.5)
        for yr in range(1, 10):
            add(allv, D.add_years(inv, yr) - 30, "保险", 0.45)
        for yr in (2, 4, 6, 8, 10):
            add(allv, D.add_years(v["reg"], yr), "年审", 0.4)
        owner_now = self.w.owner_at(allv, np.full(n, w.end))
        bdays = self.w.p["birth"][owner_now]
        bd_dealer = self.w.dealers["birthday_calls"].to_numpy()[v["serv_dealer"]]
        for yr in range(D.year_of(np.array([w.start]))[0], D.year_of(np.array([w.end]))[0] + 1):
            bday = D.add_years(bdays, yr - D.year_of(bdays))
            add(allv[bd_dealer], bday[bd_dealer], "生日", 0.6)
        phone = participants.filter(pl.col("channel") == "电话")
        if phone.height:
            vin_to_idx = pl.DataFrame({"vin": self.w.v["vin"], "_v": np.arange(n)})
            pv = phone.join(vin_to_idx, on="vin", how="left")["_v"].to_numpy()
            add(pv, phone["_day"].to_numpy() - 2, "活动", 1.0)

        veh = np.concatenate(dues_v)
        month = np.concatenate(dues_m)
        rtype = np.concatenate(dues_t).astype(str)
        # attempts: retry a failed call up to twice
        results = np.array(["接通", "无人接听", "拒接", "空号", "占线"])
        cv, cm, ct, cr, cday = [], [], [], [], []
        todo = np.arange(veh.size)
        attempt_day = month + rng.integers(0, 25, veh.size)
        for _attempt in range(3):
            res = rng.choice(5, size=todo.size, p=[0.58, 0.24, 0.07, 0.03, 0.08])
            d = np.minimum(attempt_day[todo], w.end)
            cv.append(veh[todo])
            cm.append(month[todo])
            ct.append(rtype[todo])
            cr.append(res)
            cday.append(d)
            again = (res != 0) & (res != 3) & (rng.random(todo.size) < 0.5)
            todo = todo[again]
            attempt_day[todo] += rng.integers(1, 4, todo.size)
        veh, month, rtype, res, day = (np.concatenate(x) for x in (cv, cm, ct, cr, cday))
        called = D.office_seconds(rng, day, 9, 18.5)
        order = np.argsort(called, kind="stable")
        veh, month, rtype, res, called = (a[order] for a in (veh, month, rtype, res, called))
        m = veh.size
        dealer = self.w.service_dealer_at(veh, called // D.DAY_S)
        agent = np.where(
            rtype == "保险", self.w.pick_staff(rng, INSURANCE, dealer), self.w.pick_staff(rng, DCRC, dealer)
        )
        duration = np.where(
            res == 0,
            np.round(rng.lognormal(np.log(85), 0.7, m)),
            np.where(res == 2, rng.integers(0, 4, m), 0),
        ).astype(np.int64)
        return pl.DataFrame(
            {
                "call_id": _ids("CL", m, 10),
                "dealer_code": self.dealer_code[dealer],
                "vin": v["vin"].gather(veh),
                "reminder_type": rtype,
                "reminder_month": _date(month),
                "called_at": _ts(called),
                "result": results[res],
                "duration_s": duration,
                "agent": self.staff_id[agent],
                "_day": called // D.DAY_S,
            }
        )

    # ------------------------------------------------------------------------------ complaints
    def complaints(self) -> pl.DataFrame:
        rng = self.rng("complaints")
        w, v = self.w.window, self.w.v
        n_days = w.end - w.start + 1
        m = rng.poisson(0.015 * self.w.n_vehicles * n_days / 365.25)
        veh = rng.integers(0, self.w.n_vehicles, m)
        day = rng.integers(w.start, w.end + 1, m)
        ok = day >= v["inv"][veh]
        veh, day = veh[ok], np.sort(day[ok])
        m = veh.size
        received = day * D.DAY_S + rng.integers(8 * 3600, 21 * 3600, m)
        level_i = rng.choice(3, size=m, p=[0.8, 0.15, 0.05])
        level = np.array(["一般", "升级", "重大"])[level_i]
        deadline = received + np.array([72, 48, 24])[level_i] * 3600
        first = received + (rng.lognormal(np.log(5), 1.0, m) * 3600).astype(np.int64)
        close_h = rng.lognormal(np.log(40), 0.9, m)
        closed = received + (close_h * 3600).astype(np.int64)
        now = (w.end + 1) * D.DAY_S
        open_ = (rng.random(m) < 0.04) | (closed > now)
        escalated = level_i > 0
        esc_at = received + (rng.uniform(1, 24, m) * 3600).astype(np.int64)
        callback = closed + (rng.uniform(12, 96, m) * 3600).astype(np.int64)
        has_cb = ~open_ & (rng.random(m) < 0.75) & (callback <= now)
        dealer = self.w.service_dealer_at(veh, day)
        owner = self.w.owner_at(veh, day)
        return pl.DataFrame(
            {
                "complaint_no": _ids("TS", m),
                "channel": np.array(["微信", "热线", "经销商", "媒体", "机构", "其他"])[
                    rng.choice(6, size=m, p=[0.3, 0.4, 0.15, 0.05, 0.04, 0.06])
                ],
                "category": np.array(["品质", "销售", "服务", "部品", "其他"])[
                    rng.choice(5, size=m, p=[0.35, 0.15, 0.3, 0.12, 0.08])
                ],
                "level": level,
                "dealer_code": self.dealer_code[dealer],
                "region": self.w.dealers["region"].to_numpy()[dealer],
                "vin": v["vin"].gather(veh),
                "mobile": self.w.p["mobile"][owner],
                "received_at": _ts(received),
                "deadline_at": _ts(deadline),
                "first_contact_at": _ts(first, first <= now),
                "closed_at": _ts(closed, ~open_),
                "close_reason": _str(
                    np.array(["已解决", "协商一致", "客户撤诉", "无法联系"])[
                        rng.choice(4, size=m, p=[0.7, 0.2, 0.05, 0.05])
                    ],
                    ~open_,
                ),
                "escalated_at": _ts(esc_at, escalated),
                "vrt": (level_i == 2) | ((level_i == 1) & (rng.random(m) < 0.3)),
                "callback_at": _ts(callback, has_cb),
                "satisfaction": _opt(
                    rng.choice([1, 2, 3, 4, 5], size=m, p=[0.05, 0.08, 0.17, 0.35, 0.35]), has_cb
                ),
                "_day": day,
            }
        )

    # ------------------------------------------------------------------------------ rescues
    def rescues(self) -> pl.DataFrame:
        rng = self.rng("rescues")
        w, v = self.w.window, self.w.v
        n_days = w.end - w.start + 1
        m = rng.poisson(0.008 * self.w.n_vehicles * n_days / 365.25)
        veh = rng.integers(0, self.w.n_vehicles, m)
        day = rng.integers(w.start, w.end + 1, m)
        ok = day >= v["inv"][veh]
        veh, day = veh[ok], np.sort(day[ok])
        m = veh.size
        received = day * D.DAY_S + rng.integers(0, 86400, m)
        valid = rng.random(m) < 0.85
        dealer = self.w.service_dealer_at(veh, day)
        dispatched = received + rng.integers(5 * 60, 40 * 60, m)
        arrived = dispatched + rng.integers(20 * 60, 120 * 60, m)
        completed = arrived + rng.integers(30 * 60, 240 * 60, m)
        callback = completed + rng.integers(6 * 3600, 72 * 3600, m)
        owner = self.w.owner_at(veh, day)
        contact = v["contact"][veh]
        caller = np.where((contact >= 0) & (rng.random(m) < 0.4), contact, owner)
        now = (w.end + 1) * D.DAY_S
        return pl.DataFrame(
            {
                "request_no": _ids("JY", m),
                "received_at": _ts(received),
                "vin": v["vin"].gather(veh),
                "mobile": self.w.p["mobile"][caller],
                "city": self.w.dealers["city"].to_numpy()[dealer],
                "valid": valid,
                "dispatched_dealer": _str(self.dealer_code[dealer], valid),
                "dispatched_at": _ts(dispatched, valid),
                "arrived_at": _ts(arrived, valid),
                "completed_at": _ts(completed, valid & (completed <= now)),
                "callback_at": _ts(callback, valid & (rng.random(m) < 0.6) & (callback <= now)),
                "_day": day,
            }
        )

    # ------------------------------------------------------------------------------ sales
    def vehicle_sales(self) -> pl.DataFrame:
        rng = self.rng("vehicle_sales")
        v = self.w.v
        n = self.w.n_vehicles
        resold = np.flatnonzero(v["resold"])
        veh = np.concatenate([np.arange(n), resold])
        day = np.concatenate([v["inv"], v["resale"][resold]])
        owner = np.concatenate([v["owner1"], v["owner2"][resold]])
        dealer = np.concatenate([v["sell_dealer"], v["resale_dealer"][resold]])
        consultant = np.concatenate([v["consultant"], v["resale_consultant"][resold]])
        order = np.lexsort((veh, day))
        veh, day, owner, dealer, consultant = (a[order] for a in (veh, day, owner, dealer, consultant))
        m = veh.size
        u = rng.random(m)
        consultant_mob = u < 0.015
        placeholder = (u >= 0.015) & (u < 0.027)
        mobile = np.select(
            [consultant_mob, placeholder],
            [self.staff_mobile[consultant], rng.choice(PLACEHOLDER_MOBILES, size=m)],
            default=self.w.p["mobile"][owner],
        )
        mobile = np.where(rng.random(m) < 0.01, 0, mobile)
        id_person = np.where(rng.random(m) < 0.02, -1, owner)
        model = v["model"][veh]
        reg_day = np.where(day == v["inv"][veh], v["reg"][veh], day + rng.integers(3, 30, m))
        return pl.DataFrame(
            {
                "vin": v["vin"].gather(veh),
                "dealer_code": self.dealer_code[dealer],
                "model_code": np.array([x[0] for x in MODELS])[model],
                "model_name": np.array([x[1] for x in MODELS])[model],
                "invoice_date": _date(day),
                "registration_date": _date(reg_day, rng.random(m) < 0.85),
                "usage": pl.Series(np.where(v["usage_operating"][veh], "营运", "非营运")).zip_with(
                    pl.Series(rng.random(m) < 0.9), pl.Series([None] * m, dtype=pl.Utf8)
                ),
                "seats": _opt(v["seats"][veh], rng.random(m) < 0.9),
                "owner_name": self.w.p["name"].gather(owner),
                "owner_id_number": id_person,
                "owner_mobile": mobile,
                "sales_consultant": self.staff_id[consultant],
                "_day": day,
                "_vehicle": veh,
                "_owner": owner,
                "_consultant_mobile": consultant_mob,
                "_placeholder": placeholder,
            }
        )

    # ------------------------------------------------------------------------------ bindings
    def wechat_bindings(self) -> pl.DataFrame:
        rng = self.rng("wechat_bindings")
        w, v = self.w.window, self.w.v
        f = self.wx.followers
        person_f = f["_person"].to_numpy()
        sub_day = (f["subscribe_time"].to_numpy() + 8 * 3600) // D.DAY_S
        follower_day = np.full(self.w.n_persons, NEVER)
        follower_day[person_f] = sub_day
        sop = self.wx.sop
        # one binding per (owner, car) where the owner follows the OA: an owner who follows by the
        # delivery day is bound by the consultant at the handover (the 车主认证 SOP), one who follows
        # later on their own binds less often, some weeks after following
        recs = []
        for owner, start, end in (
            (v["owner1"], v["inv"], v["resale"]),
            (v["owner2"], v["resale"], np.full(self.w.n_vehicles, NEVER)),
        ):
            idx = np.flatnonzero((owner >= 0) & (start < NEVER))
            o = owner[idx]
            follows = follower_day[o] < NEVER
            idx, o = idx[follows], o[follows]
            at_delivery = follower_day[o] <= start[idx] + 1
            bind = rng.random(idx.size) < np.where(at_delivery, sop.bind_at_delivery, sop.bind_self_followed)
            idx, o, at_delivery = idx[bind], o[bind], at_delivery[bind]
            bound = np.maximum(follower_day[o], start[idx]) + np.where(
                at_delivery, rng.integers(0, 2, idx.size), rng.exponential(25, idx.size).astype(np.int64)
            )
            ok = (bound <= w.end) & (bound < end[idx])
            recs.append((idx[ok], o[ok], bound[ok], end[idx][ok]))
        veh = np.concatenate([r[0] for r in recs])
        owner = np.concatenate([r[1] for r in recs])
        bound = np.concatenate([r[2] for r in recs])
        ends = np.concatenate([r[3] for r in recs])
        order = np.argsort(bound, kind="stable")
        veh, owner, bound, ends = veh[order], owner[order], bound[order], ends[order]
        m = veh.size
        bound_at = bound * D.DAY_S + rng.integers(8 * 3600, 23 * 3600, m)
        fi = self.wx.follower_of_person[owner]
        unionid = (
            f["unionid"]
            .gather(fi)
            .zip_with(pl.Series(rng.random(m) < 0.93), pl.Series([None] * m, dtype=pl.Utf8))
        )
        base = pl.DataFrame(
            {
                "binding_id": _ids("BD", m),
                "openid": self.openid.gather(owner),
                "unionid": unionid,
                "vin_last8": v["vin"].gather(veh).str.slice(9, 8),
                "id_number": owner,
                "mobile": self.w.p["mobile"][owner],
                "bound_at": _ts(bound_at),
                "status": np.full(m, "有效"),
                "_day": bound,
            }
        )
        # unbinding: the seller of a resold car (at the resale), and a few others; the same
        # binding_id comes again in a later file with status 解绑 (the later file wins)
        unbind = (ends < NEVER) | (rng.random(m) < 0.03)
        unbind_day = np.where(ends < NEVER, ends, bound + rng.integers(30, 600, m))
        unbind &= unbind_day <= w.end
        upd = base.filter(pl.Series(unbind)).with_columns(
            status=pl.lit("解绑"), _day=pl.Series(unbind_day[unbind])
        )
        return pl.concat([base, upd])
