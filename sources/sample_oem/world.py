"""The true world of the sample OEM: dealers, staff, people, households, vehicles and who owns them.

Everything later (exports, WeChat state, truth) is derived from this. Arrays are indexed by
position: ``dealer`` / ``staff`` / ``person`` / ``vehicle`` indices are plain ints into them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from sources.sample_oem import dates as D
from sources.sample_oem import identity as I
from sources.sample_oem.geography import BRAND, CITIES, DEALER_GROUPS, MODELS, PLANTS, WMI

# person kinds
HEAD, SPOUSE, BUYER, CONTACT, PROSPECT, STAFF = range(6)
KIND_NAMES = ["household_head", "spouse", "resale_buyer", "contact", "prospect", "staff"]

ROLES = ["销售顾问", "服务顾问", "DCRC专员", "DCRC经理", "救援专员", "保险专员"]
SALES, SERVICE, DCRC, DCRC_MGR, RESCUE, INSURANCE = range(6)

NEVER = np.iinfo(np.int64).max // 4


@dataclass
class Window:
    start: int  # first day of the first month (days since epoch)
    end: int  # last day of the `end` month
    months: int

    @property
    def backfill_day(self) -> int:
        return self.start - 1

    @property
    def end_date(self) -> dt.date:
        return D.to_date(self.end)


@dataclass
class World:
    seed: int
    window: Window
    dealers: pl.DataFrame
    staff: pl.DataFrame
    # people
    p: dict[str, np.ndarray] = field(default_factory=dict)
    # vehicles
    v: dict[str, np.ndarray] = field(default_factory=dict)
    staff_by_role: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def n_persons(self) -> int:
        return self.p["kind"].size

    @property
    def n_vehicles(self) -> int:
        return self.v["inv"].size

    def pick_staff(self, rng: np.random.Generator, role: int, dealer: np.ndarray) -> np.ndarray:
        """A random staff index of ``role`` at each dealer (every dealer has every role)."""
        order, offset, count = self.staff_by_role[role]
        return order[offset[dealer] + (rng.random(dealer.size) * count[dealer]).astype(np.int64)]

    def owner_at(self, vehicle: np.ndarray, day: np.ndarray) -> np.ndarray:
        resold = self.v["resale"][vehicle] <= day
        return np.where(resold, self.v["owner2"][vehicle], self.v["owner1"][vehicle])

    def service_dealer_at(self, vehicle: np.ndarray, day: np.ndarray) -> np.ndarray:
        v = self.v
        dealer = np.where(day >= v["switch"][vehicle], v["alt_dealer"][vehicle], v["serv_dealer"][vehicle])
        return np.where(day >= v["resale"][vehicle], v["resale_dealer"][vehicle], dealer)

    def active_at(self, vehicle: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Whether the vehicle still comes to the network on ``day`` (owned, not lapsed)."""
        v = self.v
        after_resale = day >= v["resale"][vehicle]
        lapse = np.where(after_resale, v["lapse2"][vehicle], v["lapse1"][vehicle])
        return (day >= v["inv"][vehicle]) & (day < lapse)


def build_window(end: str, months: int) -> Window:
    y, m = (int(x) for x in end.split("-"))
    last = D.day(dt.date(y + (m == 12), m % 12 + 1, 1)) - 1
    start = int(D.month_index_start(np.array([D.month_index(np.array([last]))[0] - months + 1]))[0])
    return Window(start=start, end=last, months=months)


def _province_groups(province_of: np.ndarray):
    """Dealers grouped by province, for picking "another dealer in the same province"."""
    order = np.argsort(province_of, kind="stable")
    n_prov = int(province_of.max()) + 1
    count = np.bincount(province_of, minlength=n_prov)
    offset = np.concatenate([[0], np.cumsum(count)[:-1]])
    return order, offset, count


def build_world(seed: int, vehicles: int, window: Window) -> World:
    rng = I.stream(seed, "world")
    # ------------------------------------------------------------------ dealers
    n_dealers = int(np.clip(round(vehicles / 250), 12, 800))
    city_w = np.array([c["weight"] for c in CITIES])
    city_of_dealer = rng.choice(len(CITIES), size=n_dealers, p=city_w / city_w.sum())
    # every region keeps at least one dealer
    regions = sorted({c["region"] for c in CITIES})
    for i, r in enumerate(regions):
        if not any(CITIES[c]["region"] == r for c in city_of_dealer):
            city_of_dealer[i] = next(j for j, c in enumerate(CITIES) if c["region"] == r)
    size = rng.lognormal(0, 0.5, size=n_dealers)
    provinces = sorted({c["province"] for c in CITIES})
    prov_idx = np.array([provinces.index(CITIES[c]["province"]) for c in city_of_dealer])
    codes = [f"D{10001 + i * 3}" for i in range(n_dealers)]
    group = rng.integers(0, len(DEALER_GROUPS), size=n_dealers)
    dealers = pl.DataFrame(
        {
            "dealer_code": codes,
            "name": [
                f"{CITIES[c]['city']}{DEALER_GROUPS[g]}{BRAND}汽车销售服务有限公司"
                for c, g in zip(city_of_dealer, group, strict=True)
            ],
            "region": [CITIES[c]["region"] for c in city_of_dealer],
            "province": [CITIES[c]["province"] for c in city_of_dealer],
            "city": [CITIES[c]["city"] for c in city_of_dealer],
            "status": np.where(rng.random(n_dealers) < 0.04, "停业", "营业"),
            "province_code": [CITIES[c]["province_code"] for c in city_of_dealer],
            "city_code": [CITIES[c]["city_code"] for c in city_of_dealer],
            "weight": size,
            "birthday_calls": rng.random(n_dealers) < 0.3,
            "nmd_habit": rng.uniform(0.75, 0.98, size=n_dealers),  # share of maintenance ROs with next date
        }
    )
    prov_groups = _province_groups(prov_idx)

    def other_dealer_same_province(dealer: np.ndarray) -> np.ndarray:
        order, offset, count = prov_groups
        p = prov_idx[dealer]
        return order[offset[p] + (rng.random(dealer.size) * count[p]).astype(np.int64)]

    # ------------------------------------------------------------------ households and vehicles
    sizes = rng.choice([1, 2, 3], size=vehicles, p=[0.88, 0.10, 0.02])
    n_house = int(np.searchsorted(np.cumsum(sizes), vehicles)) + 1
    sizes = sizes[:n_house]
    sizes[-1] -= sizes.sum() - vehicles
    house_of_vehicle = np.repeat(np.arange(n_house), sizes)
    rank_in_house = np.arange(vehicles) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    house_dealer = rng.choice(n_dealers, size=n_house, p=size / size.sum())
    has_spouse = rng.random(n_house) < np.where(sizes > 1, 0.7, 0.25)

    sell_dealer = house_dealer[house_of_vehicle]
    elsewhere = rng.random(vehicles) < 0.15
    sell_dealer = np.where(elsewhere, other_dealer_same_province(sell_dealer), sell_dealer)

    # invoice dates over ~8 years before the end, sales growing over time
    span = 8 * 365
    inv = window.end - (span * (1 - np.sqrt(rng.random(vehicles)))).astype(np.int64)
    # a tail of older cars (8-12 years), so 10-year and yearly inspections occur too
    old = rng.random(vehicles) < 0.05
    inv = np.where(old, window.end - rng.integers(span, 12 * 365, vehicles), inv)
    inv = np.where(D.month_index(inv) > D.month_index(np.array([window.end]))[0], window.end, inv)
    model_w = np.array([m[4] for m in MODELS])
    model = rng.choice(len(MODELS), size=vehicles, p=model_w / model_w.sum())

    # ------------------------------------------------------------------ people
    owned_by_spouse = has_spouse[house_of_vehicle] & (rank_in_house > 0) & (rng.random(vehicles) < 0.5)
    resale_ok = inv < window.start - 365
    p_resale = min(0.95, 0.06 * vehicles / max(1, resale_ok.sum()))
    resold = resale_ok & (rng.random(vehicles) < p_resale)
    n_buyers = int(resold.sum())
    has_contact = rng.random(vehicles) < 0.08
    n_contacts = int(has_contact.sum())
    n_prospects = int(0.12 * vehicles)
    n_spouses = int(has_spouse.sum())

    kind = np.concatenate(
        [
            np.full(n_house, HEAD),
            np.full(n_spouses, SPOUSE),
            np.full(n_buyers, BUYER),
            np.full(n_contacts, CONTACT),
            np.full(n_prospects, PROSPECT),
        ]
    )
    spouse_of_house = np.full(n_house, -1)
    spouse_of_house[has_spouse] = n_house + np.arange(n_spouses)
    buyer_idx = n_house + n_spouses + np.arange(n_buyers)
    contact_idx = n_house + n_spouses + n_buyers + np.arange(n_contacts)
    n_people = kind.size

    # home dealer / city of each person (for province and ID address codes)
    home = np.empty(n_people, dtype=np.int64)
    home[:n_house] = house_dealer
    home[spouse_of_house[has_spouse]] = house_dealer[has_spouse]
    resale_dealer = np.where(rng.random(vehicles) < 0.5, sell_dealer, other_dealer_same_province(sell_dealer))
    home[buyer_idx] = resale_dealer[resold]
    home[contact_idx] = sell_dealer[has_contact]
    home[n_people - n_prospects :] = rng.choice(n_dealers, size=n_prospects, p=size / size.sum())

    male = rng.random(n_people) < 0.68
    spouse_heads = np.flatnonzero(has_spouse)
    male[spouse_of_house[has_spouse]] = ~male[spouse_heads]
    age_years = np.clip(rng.normal(40, 10, size=n_people), 20, 72)
    birth = (window.end - (age_years * 365.25).astype(np.int64) - rng.integers(0, 365, size=n_people)).astype(
        np.int64
    )
    birth_ymd = D.yyyymmdd(birth)

    # ------------------------------------------------------------------ staff
    dealer_vehicles = np.bincount(sell_dealer, minlength=n_dealers)
    per_role = np.stack(
        [
            np.clip(np.round(dealer_vehicles / 150), 3, 25),
            np.clip(np.round(dealer_vehicles / 200), 2, 20),
            np.clip(np.round(dealer_vehicles / 600), 1, 4),
            np.ones(n_dealers),
            np.ones(n_dealers),
            np.ones(n_dealers),
        ],
        axis=1,
    ).astype(np.int64)
    staff_dealer = np.repeat(np.repeat(np.arange(n_dealers), 6), per_role.ravel())
    staff_role = np.repeat(np.tile(np.arange(6), n_dealers), per_role.ravel())
    n_staff = staff_dealer.size
    staff_person = n_people + np.arange(n_staff)
    kind = np.concatenate([kind, np.full(n_staff, STAFF)])
    home = np.concatenate([home, staff_dealer])
    staff_male = rng.random(n_staff) < 0.55
    male = np.concatenate([male, staff_male])
    staff_birth = window.end - (rng.uniform(22, 50, size=n_staff) * 365.25).astype(np.int64)
    birth = np.concatenate([birth, staff_birth])
    birth_ymd = np.concatenate([birth_ymd, D.yyyymmdd(staff_birth)])
    n_all = kind.size

    rng_names = I.stream(seed, "names")
    name = I.names(rng_names, male)
    # a spouse of a male head sometimes shares nothing but the household; names are independent

    # mobiles: every person except prospects has their own number
    rng_mob = I.stream(seed, "mobiles")
    has_mobile = kind != PROSPECT
    mobile = np.zeros(n_all, dtype=np.int64)
    mobile[has_mobile] = I.mobiles(rng_mob, int(has_mobile.sum()))
    own_mobile = mobile.copy()
    # family-shared: a spouse who owns a car uses the household head's mobile at this rate
    spouse_owners = np.unique(spouse_of_house[house_of_vehicle[owned_by_spouse]])
    share = spouse_owners[rng.random(spouse_owners.size) < 0.5]
    # spouse ids increase with the household index, so the heads come out aligned with `share`
    heads_of_share = np.flatnonzero(np.isin(spouse_of_house, share))
    mobile[spouse_of_house[heads_of_share]] = mobile[heads_of_share]
    family_shared = np.zeros(n_all, dtype=bool)
    family_shared[heads_of_share] = True
    family_shared[spouse_of_house[heads_of_share]] = True

    # ID numbers: owners (heads, spouses, buyers); born < 1985 may still use the 15-digit card
    rng_id = I.stream(seed, "id_numbers")
    has_id = (kind == HEAD) | (kind == SPOUSE) | (kind == BUYER)
    city_code = dealers["city_code"].to_numpy()[home]
    area = city_code * 100 + rng_id.integers(1, 12, size=n_all)
    body = np.zeros(n_all, dtype=np.int64)
    check = np.zeros(n_all, dtype=np.uint8)
    b, c = I.id_numbers(rng_id, area[has_id], birth_ymd[has_id], male[has_id])
    body[has_id] = b
    check[has_id] = c

    # WeChat accounts (unionid) for most people; prospects all have one (they are followers)
    rng_wx = I.stream(seed, "wechat_accounts")
    has_unionid = (rng_wx.random(n_all) < 0.92) | (kind == PROSPECT)
    unionid = I.wechat_ids(rng_wx, n_all, "o", 28)
    openid = I.wechat_ids(rng_wx, n_all, "o", 28)
    external_userid = I.wechat_ids(rng_wx, n_all, "wm", 32)

    p = {
        "kind": kind,
        "home_dealer": home,
        "male": male,
        "birth": birth,
        "birth_ymd": birth_ymd,
        "name": name,
        "mobile": mobile,
        "own_mobile": own_mobile,
        "family_shared": family_shared,
        "has_id": has_id,
        "id_body": body,
        "id_check": check,
        "has_unionid": has_unionid,
        "unionid": unionid,
        "openid": openid,
        "external_userid": external_userid,
        "spouse": np.full(n_all, -1),
    }
    p["spouse"][:n_house] = spouse_of_house

    # ------------------------------------------------------------------ vehicles
    owner1 = np.where(owned_by_spouse, spouse_of_house[house_of_vehicle], house_of_vehicle)
    owner2 = np.full(vehicles, -1)
    owner2[resold] = buyer_idx
    resale = np.full(vehicles, NEVER)
    resale[resold] = rng.integers(window.start, window.end - 5, size=n_buyers)
    contact = np.full(vehicles, -1)
    contact[has_contact] = contact_idx

    # VINs: serials increase with production (invoice) order
    order = np.argsort(inv, kind="stable")
    serial_rank = np.empty(vehicles, dtype=np.int64)
    serial_rank[order] = np.arange(vehicles)
    plant = np.frombuffer(PLANTS.encode(), dtype=np.uint8)[(serial_rank // 1_000_000) % len(PLANTS)]
    wmi_vds = np.frombuffer(
        b"".join((WMI + MODELS[i][3]).encode() for i in range(len(MODELS))), dtype=np.uint8
    ).reshape(len(MODELS), 8)[model]
    model_year = D.year_of(inv - 120)
    vin_codes = I.vins(wmi_vds, model_year, plant, serial_rank % 1_000_000 + 1)
    bad_vin = rng.random(vehicles) < 0.002
    # a wrong check digit (kept everywhere the VIN appears: it is the car's "real" VIN)
    vin_codes[bad_vin, 8] = np.where(vin_codes[bad_vin, 8] == ord("7"), ord("3"), ord("7"))
    vin = I._as_strings(vin_codes)

    seats_by_model = np.array([m[2] for m in MODELS])
    taxi = np.array([m[0] == "HT5" for m in MODELS])[model]
    daily_km = np.where(
        taxi, rng.uniform(180, 300, vehicles), np.minimum(rng.lognormal(np.log(38), 0.45, vehicles), 130)
    )
    lapses = rng.random(vehicles) < 0.35
    lapse1 = np.where(lapses, inv + (rng.uniform(0.4, 9, vehicles) * 365).astype(np.int64), NEVER)
    lapse2 = np.where(
        rng.random(vehicles) < 0.3, resale + (rng.uniform(0.3, 3, vehicles) * 365).astype(np.int64), NEVER
    )
    lapse2 = np.where(resold, lapse2, NEVER)
    serv_dealer = np.where(rng.random(vehicles) < 0.85, sell_dealer, other_dealer_same_province(sell_dealer))
    switches = rng.random(vehicles) < 0.10
    switch = np.where(switches, rng.integers(window.start - 365, window.end + 365, vehicles), NEVER)
    alt_dealer = other_dealer_same_province(serv_dealer)

    v = {
        "vin": vin,
        "vin_bad": bad_vin,
        "model": model,
        "inv": inv,
        "reg": inv + rng.integers(1, 21, vehicles),
        "usage_operating": taxi,
        "seats": seats_by_model[model],
        "sell_dealer": sell_dealer,
        "owner1": owner1,
        "owner2": owner2,
        "resale": resale,
        "resold": resold,
        "resale_dealer": resale_dealer,
        "contact": contact,
        "daily_km": daily_km,
        "lapse1": lapse1,
        "lapse2": lapse2,
        "serv_dealer": serv_dealer,
        "switch": switch,
        "alt_dealer": alt_dealer,
        "house": house_of_vehicle,
    }

    staff_ids = [f"S{i:07d}" for i in range(1, n_staff + 1)]
    has_wecom = np.isin(staff_role, [SALES, SERVICE, DCRC]) & (rng.random(n_staff) < 0.9)
    staff = pl.DataFrame(
        {
            "staff_id": staff_ids,
            "dealer_idx": staff_dealer,
            "dealer_code": np.array(codes)[staff_dealer],
            "name": name.gather(staff_person),
            "role": np.array(ROLES)[staff_role],
            "role_idx": staff_role,
            "mobile_int": mobile[staff_person],
            "wecom_userid": pl.Series([f"wc{i:07d}" for i in range(1, n_staff + 1)]).zip_with(
                pl.Series(has_wecom), pl.Series([None] * n_staff, dtype=pl.Utf8)
            ),
            "person": staff_person,
        }
    )
    world = World(seed=seed, window=window, dealers=dealers, staff=staff, p=p, v=v)
    for role in range(6):
        idx = np.flatnonzero(staff_role == role)
        d = staff_dealer[idx]
        order_r = idx[np.argsort(d, kind="stable")]
        count = np.bincount(d, minlength=n_dealers)
        offset = np.concatenate([[0], np.cumsum(count)[:-1]])
        world.staff_by_role[role] = (order_r, offset, count)
    # the consultant who sold each car (first sale) and the resale
    world.v["consultant"] = world.pick_staff(rng, SALES, sell_dealer)
    world.v["resale_consultant"] = world.pick_staff(rng, SALES, resale_dealer)
    return world
