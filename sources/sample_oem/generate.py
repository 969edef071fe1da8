"""``generate``: the whole sample OEM, from the world to the files.

Same seed and arguments give byte-identical files: every table draws from its own random stream
(``identity.stream``), xlsx files carry a fixed creation date and xlsxwriter's fixed zip timestamps,
and parquet/JSON output has no wall-clock content.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from sources.clock import SHANGHAI, today_local
from sources.identifiers import normalize_mobile
from sources.sample_oem import dates as D
from sources.sample_oem import identity as I
from sources.sample_oem.activity import PLACEHOLDER_MOBILES, Activity
from sources.sample_oem.render import (
    DirtLog,
    add_extra_column,
    choose_style,
    dirty_id_numbers,
    dirty_mobiles,
    render_cells,
    write_file,
)
from sources.sample_oem.spec import DIRT, SOP_FOLLOWED, TABLES, DealerSop, Table
from sources.sample_oem.wechat_state import TAGS, WechatState, build_wechat
from sources.sample_oem.world import KIND_NAMES, STAFF, World, build_window, build_world

APPID = "wxa1f2c3d4e5f60718"
CORPID = "ww0a1b2c3d4e5f6071"
AGENTID = 1000002


@dataclass
class GenerationSummary:
    out: Path
    vehicles: int
    seed: int
    end: str
    months: int
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        lines = [
            f"sample OEM written to {self.out} ({self.vehicles:,} vehicles, seed {self.seed}, "
            f"{self.months} months to {self.end}) in {self.seconds:.1f} s: {len(self.files)} files"
        ]
        lines += [f"  {name:<32} {n:>12,} rows" for name, n in self.rows.items()]
        return "\n".join(lines)


def default_end(today: dt.date | None = None) -> str:
    """The last complete month before today, today in Beijing: the clock of everything aftercare
    stamps (``sources.clock``; a dealer manager's close in the dashboard carries it). On a UTC machine
    the date turns eight hours earlier: from 16:00 UTC on a month's last day it is the next month
    in Beijing, and a close made then falls after that month's cut-off."""
    today = today or today_local()
    first = today.replace(day=1)
    last_month = first - dt.timedelta(days=1)
    return last_month.strftime("%Y-%m")


def generate(
    out: Path,
    vehicles: int = 20_000,
    seed: int = 7,
    end: str | None = None,
    months: int = 24,
    sop: DealerSop = SOP_FOLLOWED,
) -> GenerationSummary:
    started = time.perf_counter()
    out = Path(out)
    end = end or default_end()
    summary = GenerationSummary(out=out, vehicles=vehicles, seed=seed, end=end, months=months)
    window = build_window(end, months)
    world = build_world(seed, vehicles, window)
    clock_start = (window.end * D.DAY_S + 20 * 3600) - 8 * 3600  # unix seconds of month end 20:00 +08:00
    wx = build_wechat(world, clock_start, sop)
    act = Activity(world, wx)
    log = DirtLog()

    campaigns = act.campaigns()
    participants, visits = act.participants(campaigns)
    ros = act.repair_orders(visits)
    tables = {
        "vehicle_sales": act.vehicle_sales(),
        "wechat_bindings": act.wechat_bindings(),
        "bookings": act.bookings(ros),
        "repair_orders": ros,
        "campaigns": campaigns,
        "campaign_participants": participants,
        "reminder_calls": act.reminder_calls(ros, participants),
        "complaints": act.complaints(),
        "rescues": act.rescues(),
    }
    for name in ("vehicle_sales", "bookings"):
        df = tables[name]
        log.add("placeholder_mobile", df["_placeholder"].sum(), df.height)
        key = "consultant_mobile_sales" if name == "vehicle_sales" else "consultant_mobile_bookings"
        log.add(key, df["_consultant_mobile"].sum(), df.height)
    sales = tables["vehicle_sales"]
    log.add("id_missing", (sales["owner_id_number"] < 0).sum(), sales.height)
    log.add("vin_bad_check_digit", world.v["vin_bad"].sum(), world.n_vehicles)
    log.add("resold_vehicle", world.v["resold"].sum(), world.n_vehicles)

    for d in ("inbox/dms", "inbox/csc", "inbox/master", "wechat", "truth"):
        # a rerun replaces the previous sample OEM (a stale month file would otherwise linger)
        shutil.rmtree(out / d, ignore_errors=True)
        (out / d).mkdir(parents=True, exist_ok=True)
    del ros, participants, campaigns  # the tables dict holds the only references: freed as written
    for name in list(tables):
        df = tables.pop(name)
        summary.rows[name] = df.height
        summary.files += write_table(
            out, TABLES[name], df, world, log, backfill=name in ("vehicle_sales", "wechat_bindings")
        )
        del df
    summary.files += write_master(out, world, log)
    summary.rows["dealers"] = world.dealers.height
    summary.rows["staff"] = world.staff.height

    summary.files += write_wechat(out / "wechat", world, wx, log, clock_start)
    for name in (
        "oa_followers",
        "wecom_external_contacts",
        "wecom_follow_relations",
        "wecom_behavior_daily",
        "wecom_groupmsg_results",
    ):
        attr = {
            "oa_followers": "followers",
            "wecom_external_contacts": "contacts",
            "wecom_follow_relations": "relations",
            "wecom_behavior_daily": "behavior",
            "wecom_groupmsg_results": "groupmsg_results",
        }[name]
        summary.rows[name] = getattr(wx, attr).height
    summary.files += write_truth(out / "truth", world, wx, log)
    summary.rows["truth/persons"] = world.n_persons
    summary.seconds = time.perf_counter() - started
    return summary


# ------------------------------------------------------------------------------------------ exports


def write_table(
    out: Path, table: Table, df: pl.DataFrame, world: World, log: DirtLog, backfill: bool
) -> list[str]:
    rng = I.stream(world.seed, f"files/{table.name}")
    w = world.window
    for c in table.columns:
        if c.kind == "mobile":
            df = df.with_columns(dirty_mobiles(rng, df[c.name].to_numpy(), log).alias(c.name))
        elif c.kind == "id_number":
            df = df.with_columns(dirty_id_numbers(rng, df[c.name].to_numpy(), world.p, log).alias(c.name))
    day = df["_day"].to_numpy()
    file_day = D.month_end(day)
    if backfill:
        file_day = np.where(day < w.start, w.backfill_day, file_day)
    if table.name == "repair_orders":
        # a few orders come again next month with a corrected amount: the later file wins
        again = (rng.random(df.height) < DIRT["ro_resent"]["rate"]) & (D.month_end(file_day + 1) <= w.end)
        log.add("ro_resent", again.sum(), df.height)
        resent = df.filter(pl.Series(again)).with_columns(
            (pl.col("total_amount") * 1.03).round(2), (pl.col("labor_amount") * 1.03).round(2)
        )
        df = pl.concat([df, resent])
        file_day = np.concatenate([file_day, D.month_end(file_day[again] + 1)])
    df = df.with_columns(pl.Series("_file_day", file_day))

    # bad rows in the monthly files: missing key, impossible date, unknown dealer code
    monthly = file_day >= w.start
    u = rng.random(df.height)
    missing_key = monthly & (u < DIRT["bad_row_missing_key"]["rate"])
    bad_date = monthly & (u >= 0.001) & (u < 0.001 + DIRT["bad_row_impossible_date"]["rate"])
    dealer_cols = [c.name for c in table.columns if c.kind == "dealer"]
    unknown_dealer = monthly & (u >= 0.002) & (u < 0.002 + DIRT["bad_row_unknown_dealer"]["rate"])
    log.add("bad_row_missing_key", missing_key.sum(), monthly.sum())
    log.add("bad_row_impossible_date", bad_date.sum(), monthly.sum())
    df = df.with_columns(
        pl.when(pl.Series(missing_key)).then(None).otherwise(pl.col(table.key)).alias(table.key),
        pl.Series("_bad_date", bad_date),
    )
    if dealer_cols:
        unknown_dealer &= df[dealer_cols[0]].is_not_null().to_numpy()
        log.add("bad_row_unknown_dealer", unknown_dealer.sum(), monthly.sum())
        codes = pl.Series(rng.integers(90000, 99999, df.height)).cast(pl.Utf8).str.replace(r"^", "D")
        df = df.with_columns(
            pl.when(pl.Series(unknown_dealer))
            .then(codes)
            .otherwise(pl.col(dealer_cols[0]))
            .alias(dealer_cols[0])
        )

    written = []
    folder = out / "inbox" / table.system
    # one file per file day, rows in their original order: slices of a stable sort (no copies per file)
    df = df.sort("_file_day", maintain_order=True)
    if df.height == 0:  # nothing happened (tiny runs): still one file, header only, at the end month
        return [_write_part(folder, table, df, w.end, rng, log, None)]
    days = df["_file_day"].to_numpy()
    bounds = np.flatnonzero(np.diff(days)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, days.size], strict=True):
        written.append(
            _write_part(folder, table, df.slice(int(lo), int(hi - lo)), int(days[lo]), rng, log, None)
        )
    return written


def _write_part(
    folder: Path,
    table: Table,
    part: pl.DataFrame,
    file_day: int | None,
    rng,
    log: DirtLog,
    force_xlsx: bool | None,
    name: str | None = None,
) -> str:
    style = choose_style(rng, table, part.height, log, force_xlsx)
    bad = part["_bad_date"].to_numpy() if "_bad_date" in part.columns else None
    cols = [c for c in table.names if c not in style.dropped]
    if style.shuffle:
        cols = [cols[i] for i in rng.permutation(len(cols))]
    data = part.select(cols)
    cells = render_cells(data, table, style, bad)
    if style.extra_column:
        cells = add_extra_column(cells, style.extra_column, rng)
    ext = "xlsx" if style.xlsx else "csv"
    fname = name or f"{table.name}_{D.to_date(file_day).isoformat()}"
    path = folder / f"{fname}.{ext}"
    write_file(path, cells, table, style, file_day)
    return str(path.relative_to(folder.parent.parent))


def write_master(out: Path, world: World, log: DirtLog) -> list[str]:
    rng = I.stream(world.seed, "files/master")
    folder = out / "inbox" / "master"
    dealers = world.dealers.select(TABLES["dealers"].names)
    st = world.staff
    staff = pl.DataFrame(
        {
            "staff_id": st["staff_id"],
            "dealer_code": st["dealer_code"],
            "name": st["name"],
            "role": st["role"],
            "mobile": dirty_mobiles(rng, st["mobile_int"].to_numpy(), log),
            "wecom_userid": st["wecom_userid"],
        }
    )
    return [
        _write_part(folder, TABLES["dealers"], dealers, None, rng, log, True, "dealers"),
        _write_part(folder, TABLES["staff"], staff, None, rng, log, False, "staff"),
    ]


# ------------------------------------------------------------------------------------------ WeChat


def write_wechat(folder: Path, world: World, wx: WechatState, log: DirtLog, clock_start: int) -> list[str]:
    rng = I.stream(world.seed, "files/wechat")
    clock_iso = dt.datetime.fromtimestamp(clock_start, SHANGHAI).isoformat()
    oa = {
        "appid": APPID,
        "secret": I.hex_string(rng, 32),
        "templates": [{"template_id": "TPL_SERVICE_REMINDER", "title": "服务提醒"}],
        "clock_start": clock_iso,
    }
    corp = {"corpid": CORPID, "secret": I.hex_string(rng, 43), "agentid": AGENTID, "clock_start": clock_iso}
    files = {
        "oa_account.json": oa,
        "oa_tags.json": TAGS,
        "wecom_corp.json": corp,
    }
    written = []
    for name, obj in files.items():
        (folder / name).write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(f"wechat/{name}")
    rel = wx.relations
    m1 = dirty_mobiles(rng, rel["_mobile1"].to_numpy(), log)
    m2 = dirty_mobiles(rng, rel["_mobile2"].to_numpy(), log)
    log.add("consultant_mobile_wecom", rel["_consultant_mobile"].sum(), rel.height)
    relations = rel.with_columns(
        pl.concat_list([m1.alias("a"), m2.alias("b")]).list.drop_nulls().alias("remark_mobiles")
    ).select(
        "userid",
        "external_userid",
        "remark",
        "description",
        "createtime",
        "add_way",
        "state",
        "remark_mobiles",
        "tags",
    )
    frames = {
        "oa_followers": wx.followers.drop("_person"),
        "wecom_members": wx.members,
        "wecom_external_contacts": wx.contacts,
        "wecom_follow_relations": relations,
        "wecom_behavior_daily": wx.behavior,
        "wecom_groupmsg": wx.groupmsg,
        "wecom_groupmsg_results": wx.groupmsg_results,
    }
    for name, df in frames.items():
        df.write_parquet(folder / f"{name}.parquet", statistics=False)
        written.append(f"wechat/{name}.parquet")
    return written


# ------------------------------------------------------------------------------------------ truth


def person_ids(idx: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(idx) + 1).cast(pl.Utf8).str.zfill(8).str.replace(r"^", "P")


def write_truth(folder: Path, world: World, wx: WechatState, log: DirtLog) -> list[str]:
    p = world.p
    n = world.n_persons
    allp = np.arange(n)
    id18 = I.id_strings(p["id_body"], p["id_check"])
    id18 = id18.zip_with(pl.Series(p["has_id"]), pl.Series([None] * n, dtype=pl.Utf8))
    mobile = (
        pl.Series(p["mobile"])
        .cast(pl.Utf8)
        .zip_with(pl.Series(p["mobile"] > 0), pl.Series([None] * n, dtype=pl.Utf8))
    )
    province = world.dealers["province"].to_numpy()[p["home_dealer"]]
    persons = pl.DataFrame(
        {
            "person_id": person_ids(allp),
            "name": p["name"],
            "id_number": id18,
            "gender": np.where(p["male"], "M", "F"),
            "birth_date": pl.Series(p["birth"].astype(np.int32)).cast(pl.Date),
            "mobile": mobile,
            "province": province,
            "is_staff": p["kind"] == STAFF,
            "role": np.array(KIND_NAMES)[p["kind"]],
        }
    )
    persons.write_parquet(folder / "persons.parquet", statistics=False)

    parts = []

    def ident(kind_of_id: str, values: pl.Series, who: np.ndarray, kind: np.ndarray | str):
        parts.append(
            pl.DataFrame(
                {
                    "identifier_type": [kind_of_id] * who.size,
                    "value": values,
                    "person_id": person_ids(who),
                    "kind": kind if isinstance(kind, np.ndarray) else np.full(who.size, kind),
                }
            )
        )

    own = np.flatnonzero(p["own_mobile"] > 0)
    kind_own = np.where(
        p["kind"][own] == STAFF,
        "consultant",
        np.where(
            p["family_shared"][own] & (p["mobile"][own] == p["own_mobile"][own]), "family_shared", "personal"
        ),
    )
    ident("mobile", pl.Series(p["own_mobile"][own]).cast(pl.Utf8), own, kind_own)
    sharer = np.flatnonzero(p["family_shared"] & (p["mobile"] != p["own_mobile"]))
    ident("mobile", pl.Series(p["mobile"][sharer]).cast(pl.Utf8), sharer, "family_shared")
    has_id = np.flatnonzero(p["has_id"])
    ident("id_number", id18.gather(has_id), has_id, "personal")
    followers = wx.followers["_person"].to_numpy()
    ident("oa_openid", p["openid"].gather(followers), followers, "personal")
    contacts_people = wx.contact_person
    ident("wecom_external_userid", p["external_userid"].gather(contacts_people), contacts_people, "personal")
    wechat_people = np.union1d(followers, contacts_people)
    wechat_people = wechat_people[p["has_unionid"][wechat_people]]
    ident("unionid", p["unionid"].gather(wechat_people), wechat_people, "personal")
    identifiers = pl.concat(parts)
    placeholders = [m for m in (normalize_mobile(str(x)) for x in PLACEHOLDER_MOBILES) if m]
    identifiers = pl.concat(
        [
            identifiers,
            pl.DataFrame(
                {
                    "identifier_type": ["mobile"] * len(placeholders),
                    "value": placeholders,
                    "person_id": pl.Series([None] * len(placeholders), dtype=pl.Utf8),
                    "kind": ["placeholder"] * len(placeholders),
                }
            ),
        ]
    )
    identifiers.write_parquet(folder / "identifiers.parquet", statistics=False)

    v = world.v
    resold = v["resold"]
    ownership = pl.DataFrame(
        {
            "vin": pl.concat([v["vin"], v["vin"].filter(pl.Series(resold))]),
            "person_id": pl.concat([person_ids(v["owner1"]), person_ids(v["owner2"][resold])]),
            "owned_from": pl.Series(np.concatenate([v["inv"], v["resale"][resold]]).astype(np.int32)).cast(
                pl.Date
            ),
            "owned_to": pl.Series(
                np.concatenate(
                    [np.where(resold, v["resale"], 0), np.zeros(resold.sum(), dtype=np.int64)]
                ).astype(np.int32)
            )
            .cast(pl.Date)
            .zip_with(
                pl.Series(np.concatenate([resold, np.zeros(resold.sum(), dtype=bool)])),
                pl.Series([None] * (v["vin"].len() + int(resold.sum())), dtype=pl.Date),
            ),
        }
    )
    ownership.write_parquet(folder / "vehicle_ownership.parquet", statistics=False)
    spouses_owning = int((p["family_shared"] & (p["mobile"] != p["own_mobile"])).sum())
    log.add("family_shared_mobile", spouses_owning, spouses_owning)  # every sharing spouse owns a car
    (folder / "dirt_rates.json").write_text(
        json.dumps(log.as_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    # the dealer-SOP rates this world was made with (they decide how much identity evidence exists)
    (folder / "dealer_sop.json").write_text(json.dumps(asdict(wx.sop), indent=2) + "\n", encoding="utf-8")
    return [
        f"truth/{f}"
        for f in (
            "persons.parquet",
            "identifiers.parquet",
            "vehicle_ownership.parquet",
            "dirt_rates.json",
            "dealer_sop.json",
        )
    ]
