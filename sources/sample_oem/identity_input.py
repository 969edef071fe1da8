"""The identity stage's input built straight from the generator's frames, without files or APIs.

For benchmarking OneID at scales where the full chain (render export files, ingest them, pull the
WeChat/WeCom state through the simulator's HTTP API) does not fit the machine or the time: the
tables and columns OneID reads (``docs/architecture.md``: landing and wechat) are written to a
DuckDB warehouse from the same world the generator would render, keyed the same way (HMAC-SHA256 of
the normalized mobile / ID number with the PII key, ``sources.identifiers.keyed_hash``), and the
generator's ``truth/`` is written beside them for the quality report.

What differs from the full chain, on purpose and only here:

* value dirt that ingestion normalizes away is not rendered (``+86`` and full-width mobiles,
  15-digit and lower-case-x ID numbers): the HMACs are what ingestion would produce;
* dirt that ingestion rejects is absent: the 0.4 % ID numbers with a wrong check character (invalid,
  so never an identity), bad rows (0.1 % each, quarantined) — OneID sees slightly more valid records;
* only the identity columns of each table are written (no amounts, names, masked/encrypted copies);
* the WeChat tables are the state a first full pull would give: subscribed followers (user/get serves
  no others), WeCom relations of members with customer contact enabled.

Everything identity depends on (who follows, binds, books, which mobile is typed where, placeholders,
consultants' and family mobiles, resales) comes from the same code and random streams as the files.

    uv run python -m sources.sample_oem.identity_input --out data/bench/L-direct --vehicles 10000000
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from sources.identifiers import classify_mobile, keyed_hash
from sources.process_memory import resident_mb
from sources.sample_oem import dates as D
from sources.sample_oem import identity as I
from sources.sample_oem.activity import PLACEHOLDER_MOBILES, Activity
from sources.sample_oem.generate import default_end, write_truth
from sources.sample_oem.render import DirtLog
from sources.sample_oem.spec import SOP_FOLLOWED, DealerSop
from sources.sample_oem.wechat_state import build_wechat
from sources.sample_oem.world import build_window, build_world


class MobileKeys:
    """HMAC and landing status of every mobile the world can type: each HMAC computed once.

    Built from every person's and staff member's number and the placeholder list (sorted integers);
    a table's mobiles are then looked up with ``searchsorted``, not hashed row by row.
    """

    def __init__(self, mobiles: np.ndarray, key: bytes, tag: str = ""):
        values = np.unique(np.concatenate([np.asarray(mobiles, dtype=np.int64), PLACEHOLDER_MOBILES]))
        self.values = values[values > 0]
        hmacs, statuses = [], []
        for m in self.values.tolist():
            normalized, status = classify_mobile(str(m))
            # a placeholder is the same number in every shard; a person's or staff member's is their own
            own = tag if status.value == "valid" else ""
            hmacs.append(keyed_hash(normalized + own, key) if normalized else None)
            statuses.append(status.value)
        self.hmac = pl.Series(hmacs, dtype=pl.Utf8)
        self.status = pl.Series(statuses, dtype=pl.Utf8)

    def __call__(self, mobiles: np.ndarray) -> tuple[pl.Series, pl.Series]:
        """(HMAC, status) per mobile given as an integer (0: none), as ingestion would land them."""
        mobiles = np.asarray(mobiles, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.values, mobiles), self.values.size - 1)
        known = self.values[at] == mobiles
        if not known[mobiles > 0].all():
            raise ValueError(f"{int((~known & (mobiles > 0)).sum())} mobiles not in the world's numbers")
        missing = pl.Series(~known)
        none = pl.Series([None] * mobiles.size, dtype=pl.Utf8)
        return (
            none.zip_with(missing, self.hmac.gather(at)),
            pl.Series(["missing"] * mobiles.size, dtype=pl.Utf8).zip_with(missing, self.status.gather(at)),
        )


def id_number_keys(world_p: dict, key: bytes, tag: str = "") -> pl.Series:
    """The HMAC of every person's (valid, normalized) ID number, null for people without one."""
    id18 = I.id_strings(world_p["id_body"], world_p["id_check"]).to_list()
    has = world_p["has_id"].tolist()
    return pl.Series(
        [keyed_hash(v + tag, key) if h else None for v, h in zip(id18, has, strict=True)], dtype=pl.Utf8
    )


def _id_of(person: np.ndarray, keys: pl.Series) -> pl.Series:
    """The ID-number HMAC on each record (``person < 0``: the record has none)."""
    person = np.asarray(person, dtype=np.int64)
    return keys.gather(np.maximum(person, 0)).zip_with(
        pl.Series(person >= 0), pl.Series([None] * person.size, dtype=pl.Utf8)
    )


def _rss_gb() -> float:
    """Resident memory of this process now (GB), for the progress log."""
    return (resident_mb() or 0) * 2**20 / 1e9


def _bj(unix_s: pl.Series | np.ndarray) -> pl.Series:
    """Naive Beijing local time from unix seconds (the wechat tables' convention)."""
    return pl.Series((np.asarray(unix_s, dtype=np.int64) + 8 * 3600) * 1000).cast(pl.Datetime("ms"))


def build(
    warehouse: Path,
    out: Path,
    vehicles: int,
    key: bytes,
    seed: int = 7,
    end: str | None = None,
    months: int = 24,
    sop: DealerSop = SOP_FOLLOWED,
    log=print,
    shard: int | None = None,
) -> dict[str, int]:
    """Write the identity stage's input tables to ``warehouse`` and the generator's truth to ``out/truth``.

    ``shard=k``: this world is one of several disjoint populations appended into one warehouse
    (``build_sharded``): its tables are appended, its record keys and VINs carry ``k-``, and its
    people's mobiles and ID numbers are keyed as ``HMAC(normalized + "#k")`` (so two shards' people never
    share a number by chance, as two real people do not); its truth goes to ``out/truth/shard_k``.
    """
    started = time.perf_counter()
    tag = "" if shard is None else f"#{shard}"
    prefix = "" if shard is None else f"{shard}-"
    window = build_window(end or default_end(), months)
    world = build_world(seed, vehicles, window)
    clock_start = (window.end * D.DAY_S + 20 * 3600) - 8 * 3600
    wx = build_wechat(world, clock_start, sop, with_activity=False)
    act = Activity(world, wx)
    log(f"world and WeChat state: {time.perf_counter() - started:.0f}s, {_rss_gb():.1f} GB")
    p = world.p
    mobile_keys = MobileKeys(
        np.concatenate([p["own_mobile"], world.staff["mobile_int"].to_numpy()]), key, tag
    )
    id_keys = id_number_keys(p, key, tag)
    log(f"HMACs of every mobile and ID number: {time.perf_counter() - started:.0f}s, {_rss_gb():.1f} GB")

    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse))
    for schema in ("landing", "wechat"):
        con.execute(f"create schema if not exists {schema}")
    rows: dict[str, int] = {}

    record_keys = {
        "vin",
        "binding_id",
        "booking_id",
        "participant_id",
        "complaint_no",
        "request_no",
        "staff_id",
    }

    def put(name: str, df: pl.DataFrame) -> None:
        if prefix:
            df = df.with_columns((pl.lit(prefix) + pl.col(c)).alias(c) for c in record_keys & set(df.columns))
        con.register("frame", df.to_arrow())
        if shard:
            con.execute(f"insert into {name} by name select * from frame")
        else:
            con.execute(f"create or replace table {name} as select * from frame")
        con.unregister("frame")
        rows[name] = df.height
        log(f"{name}: {df.height:,} rows ({time.perf_counter() - started:.0f}s, {_rss_gb():.1f} GB)")

    sales = act.vehicle_sales()
    h, s = mobile_keys(sales["owner_mobile"].to_numpy())
    ids = sales["owner_id_number"].to_numpy()
    put(
        "landing.vehicle_sales",
        pl.DataFrame(
            {
                "vin": sales["vin"],
                "dealer_code": sales["dealer_code"],
                "invoice_date": sales["invoice_date"],
                "owner_id_number_hmac": _id_of(ids, id_keys),
                "owner_id_number_status": np.where(ids >= 0, "valid", "missing"),
                "owner_mobile_hmac": h,
                "owner_mobile_status": s,
            }
        ),
    )
    del sales

    # the later file wins: an unbinding comes again under the same binding_id
    bind = act.wechat_bindings().unique("binding_id", keep="last", maintain_order=True)
    h, s = mobile_keys(bind["mobile"].to_numpy())
    put(
        "landing.wechat_bindings",
        pl.DataFrame(
            {
                "binding_id": bind["binding_id"],
                "openid": bind["openid"],
                "unionid": bind["unionid"],
                "id_number_hmac": _id_of(bind["id_number"].to_numpy(), id_keys),
                "id_number_status": np.full(bind.height, "valid"),
                "mobile_hmac": h,
                "mobile_status": s,
                "bound_at": bind["bound_at"],
                "status": bind["status"],
            }
        ),
    )
    del bind

    campaigns = act.campaigns()
    participants, visits = act.participants(campaigns)
    h, s = mobile_keys(participants["mobile"].to_numpy())
    put(
        "landing.campaign_participants",
        participants.select("participant_id", "openid", "registered_at").with_columns(
            mobile_hmac=h, mobile_status=s
        ),
    )
    # bookings are made from the repair orders' visits: only their vehicle, day, type and dealer
    ros = act.repair_orders(visits, visits_only=True)
    del visits
    gc.collect()
    bookings = act.bookings(ros)
    del ros
    gc.collect()
    h, s = mobile_keys(bookings["mobile"].to_numpy())
    put(
        "landing.bookings",
        bookings.select("booking_id", "openid", "created_at").with_columns(mobile_hmac=h, mobile_status=s),
    )
    del bookings
    for name, key_col in (("complaints", "complaint_no"), ("rescues", "request_no")):
        df = act.complaints() if name == "complaints" else act.rescues()
        h, s = mobile_keys(df["mobile"].to_numpy())
        put(f"landing.{name}", df.select(key_col, "received_at").with_columns(mobile_hmac=h, mobile_status=s))
    h, s = mobile_keys(world.staff["mobile_int"].to_numpy())
    put(
        "landing.staff",
        world.staff.select("staff_id", "dealer_code").with_columns(mobile_hmac=h, mobile_status=s),
    )

    f = wx.followers.filter(pl.col("subscribe") == 1)
    put(
        "wechat.oa_followers",
        pl.DataFrame(
            {
                "openid": f["openid"],
                "unionid": f["unionid"],
                "subscribe": np.ones(f.height, dtype=bool),
                "subscribe_time": _bj(f["subscribe_time"].to_numpy()),
                "fetched_at": _bj(np.full(f.height, clock_start)),
            }
        ),
    )
    enabled = set(wx.members.filter(pl.col("enabled"))["userid"].to_list())
    rel = wx.relations.filter(pl.col("userid").is_in(list(enabled)))
    # remark mobiles: HMACs of the normalized numbers, placeholders dropped (as the WeCom sync lands them)
    mobs = np.concatenate([rel["_mobile1"].to_numpy(), rel["_mobile2"].to_numpy()])
    h, s = mobile_keys(mobs)
    h = h.zip_with(s == "valid", pl.Series([None] * h.len(), dtype=pl.Utf8))
    n = rel.height
    contacts = pl.DataFrame(
        {
            "external_userid": rel["external_userid"],
            "follow_userid": rel["userid"],
            "createtime": _bj(rel["createtime"].to_numpy()),
            "remark_mobile_hmacs": pl.DataFrame({"a": h[:n], "b": h[n:]})
            .select(pl.concat_list("a", "b").list.drop_nulls())
            .to_series(),
            "fetched_at": _bj(np.full(n, clock_start)),
        }
    ).join(wx.contacts.select("external_userid", "unionid"), on="external_userid", how="left")
    put("wechat.wecom_external_contacts", contacts)
    con.close()

    truth = out / "truth" if shard is None else out / "truth" / f"shard_{shard}"
    truth.mkdir(parents=True, exist_ok=True)
    write_truth(truth, world, wx, DirtLog())
    rows["seconds"] = round(time.perf_counter() - started)
    log(f"truth written ({rows['seconds']}s)")
    return rows


def build_sharded(
    warehouse: Path, out: Path, vehicles: int, key: bytes, shards: int, seed: int = 7, log=print, **kw
) -> dict[str, int]:
    """``shards`` disjoint worlds of ``vehicles / shards`` each (seeds ``seed``, ``seed + 1``, ...) in one
    warehouse: a population too large to hold in memory at once, built one part at a time.

    Each part is a whole sample OEM (its own dealers, people, WeChat state); together they have the
    size of one large OEM. ``out/truth/identifiers.parquet`` is the union of the parts' truth, with the
    same tags as the keys (``value + "#k"`` for personal mobiles and ID numbers, ``k-`` person ids).
    """
    rows: dict[str, int] = {}
    parts = []
    for k in range(shards):
        log(f"shard {k + 1}/{shards}")
        got = build(warehouse, out, vehicles // shards, key, seed + k, log=log, shard=k, **kw)
        for name, n in got.items():
            rows[name] = rows.get(name, 0) + n
        t = pl.read_parquet(out / "truth" / f"shard_{k}" / "identifiers.parquet")
        tagged = pl.col("identifier_type").is_in(["mobile", "id_number"]) & (pl.col("kind") != "placeholder")
        parts.append(
            t.with_columns(
                pl.when(tagged).then(pl.col("value") + f"#{k}").otherwise(pl.col("value")).alias("value"),
                (pl.lit(f"{k}-") + pl.col("person_id")).alias("person_id"),
            )
        )
        gc.collect()
    # a placeholder number is nobody's in every shard: listed once
    truth = pl.concat(parts).unique(maintain_order=True)
    truth.write_parquet(out / "truth" / "identifiers.parquet")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True, help="folder: warehouse.duckdb and truth/ go here")
    parser.add_argument("--vehicles", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", default=None)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument(
        "--key", default="bench-only-key-0123456789abcdefghijkl", help="PII HMAC key (as AFTERCARE_PII_KEY)"
    )
    parser.add_argument(
        "--shards", type=int, default=1, help="build the population as this many disjoint worlds (memory)"
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    warehouse = out / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    if args.shards > 1:
        build_sharded(warehouse, out, args.vehicles, args.key.encode(), args.shards, args.seed,
                      end=args.end, months=args.months)  # fmt: skip
    else:
        build(warehouse, out, args.vehicles, args.key.encode(), args.seed, args.end, args.months)
    return 0


if __name__ == "__main__":
    sys.exit(main())
