"""A synthetic landing/wechat warehouse of any size, built in DuckDB SQL, with its truth.

For timing the identity stage at M/L scale before (or beside) the real generator, and for a
precision/recall test on a few thousand people. Keys are stand-in hex strings (md5), not real
HMACs: OneID only compares keys, it never looks inside them.

People own 1–2 cars (3% of cars resold to another person), most are on WeChat, and the usual dirt
is there: family-shared mobiles, placeholders, a consultant's mobile typed as the owner's, invalid
ID numbers, weak contacts.

    uv run python -m tests.identity.synthetic --people 900000 --out data/identity_scale/warehouse.duckdb
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

PLACEHOLDER = "md5('placeholder-13800138000')"


def build(con: duckdb.DuckDBPyConnection, people: int, seed: float = 0.42) -> None:
    con.execute(f"select setseed({seed})")
    for schema in ("landing", "wechat", "truth"):
        con.execute(f"create schema if not exists {schema}")
    con.execute(
        f"""
        create or replace table truth.people as
        select *, (follower and not bound) or books_anyway as books from (
        select p,
               md5('id' || p) as id_key,
               random() < 0.97 as id_valid,
               case when r < 0.02 then md5('m' || (p - p % 2))           -- family: shared with a partner
                    when r < 0.03 then {PLACEHOLDER}                     -- placeholder typed in
                    when r < 0.035 then md5('staff' || (p % 200))        -- consultant's own mobile
                    else md5('m' || p) end as mobile_key,
               case when r < 0.02 then 'family_shared' when r < 0.03 then 'placeholder'
                    when r < 0.035 then 'consultant' else 'personal' end as mobile_kind,
               random() < 0.6 as follower, random() < 0.8 as has_unionid, random() < 0.4 as bound,
               random() < 0.3 as wecom, random() < 0.3 as books_anyway
        from (select range + 1 as p, random() as r from range({people})))
        """
    )
    vehicles = int(people / 0.9)
    con.execute(
        f"""
        create or replace table landing.vehicle_sales as
        with cars as (select range + 1 as v from range({vehicles})),
        first_sale as (
            select 'VIN' || lpad(v::varchar, 14, '0') as vin, ((v - 1) % {people}) + 1 as p,
                   date '2018-01-01' + cast(random() * 2500 as integer) as invoice_date
            from cars),
        resale as (
            select vin, ((p + 7919) % {people}) + 1 as p, invoice_date + 900 as invoice_date
            from first_sale where random() < 0.03)
        select s.vin, s.invoice_date, 'D' || lpad((s.p % 500)::varchar, 3, '0') as dealer_code,
               case when t.id_valid then t.id_key end as owner_id_number_hmac,
               case when t.id_valid then 'valid' else 'bad_checksum' end as owner_id_number_status,
               t.mobile_key as owner_mobile_hmac,
               case when t.mobile_kind = 'placeholder' then 'placeholder' else 'valid' end
                   as owner_mobile_status
        from (select * from first_sale union all select * from resale) s join truth.people t using (p)
        """
    )
    con.execute(
        """
        create or replace table wechat.oa_followers as
        select 'o' || p as openid, case when has_unionid then 'u' || p end as unionid, true as subscribe,
               timestamp '2021-01-01' + to_days(cast(random() * 1500 as integer)) as subscribe_time,
               timestamp '2026-01-01' as fetched_at
        from truth.people where follower
        """
    )
    con.execute(
        """
        create or replace table landing.wechat_bindings as
        select 'B' || p as binding_id, 'o' || p as openid, case when has_unionid then 'u' || p end as unionid,
               case when id_valid then id_key end as id_number_hmac,
               case when id_valid then 'valid' else 'bad_checksum' end as id_number_status,
               mobile_key as mobile_hmac,
               case when mobile_kind = 'placeholder' then 'placeholder' else 'valid' end as mobile_status,
               '有效' as status,
               timestamp '2022-01-01' + to_days(cast(random() * 1000 as integer)) as bound_at
        from truth.people where follower and bound
        """
    )
    con.execute(
        """
        create or replace table wechat.wecom_external_contacts as
        select 'wm' || p as external_userid, 'cs' || (p % 300) as follow_userid,
               case when linked_by_unionid then 'u' || p end as unionid,
               timestamp '2022-01-01' + to_days(cast(random() * 1000 as integer)) as createtime,
               -- a consultant notes the mobile at least when WeChat cannot tie the contact to a follower
               case when not linked_by_unionid or random() < 0.3 then [mobile_key] else [] end
                   as remark_mobile_hmacs,
               timestamp '2026-01-01' as fetched_at
        from (select *, follower and has_unionid and random() < 0.7 as linked_by_unionid from truth.people)
        where wecom
        """
    )
    con.execute(
        """
        create or replace table landing.bookings as
        select 'BK' || p as booking_id, case when follower then 'o' || p end as openid,
               mobile_key as mobile_hmac,
               case when mobile_kind = 'placeholder' then 'placeholder' else 'valid' end as mobile_status,
               timestamp '2024-01-01' + to_days(cast(random() * 600 as integer)) as created_at
        from truth.people where books
        """
    )
    for table, key, ts in (
        ("complaints", "complaint_no", "received_at"),
        ("rescues", "request_no", "received_at"),
    ):
        con.execute(
            f"""
            create or replace table landing.{table} as
            select '{table[0].upper()}' || p as {key}, mobile_key as mobile_hmac, 'valid' as mobile_status,
                   timestamp '2024-01-01' + to_days(cast(random() * 600 as integer)) as {ts}
            from truth.people where random() < 0.05 and mobile_kind = 'personal'
            """
        )
    con.execute(
        """
        create or replace table landing.staff as
        select 'S' || range as staff_id, md5('staff' || range) as mobile_hmac, 'valid' as mobile_status
        from range(200)
        """
    )
    con.execute(
        """
        create or replace table truth.identifiers as
        select 'id_number' as identifier_type, id_key as identifier_key, p as person_id, 'personal' as kind
        from truth.people where id_valid
        union all
        select distinct 'mobile', mobile_key, case when mobile_kind = 'personal' then p end, mobile_kind
        from truth.people
        union all select 'oa_openid', 'o' || p, p, 'personal' from truth.people where follower
        union all select 'unionid', 'u' || p, p, 'personal' from truth.people where follower and has_unionid
        union all select 'wecom_external_userid', 'wm' || p, p, 'personal' from truth.people where wecom
        """
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=900_000)
    parser.add_argument("--out", default="data/identity_scale/warehouse.duckdb")
    parser.add_argument("--resolve", action="store_true", help="also run OneID and print its timings")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    con = duckdb.connect(str(out))
    started = time.perf_counter()
    build(con, args.people)
    print(f"built {args.people:,} people in {time.perf_counter() - started:.1f}s")
    if args.resolve:
        from assets.identity.resolve import OneidParams, resolve

        started = time.perf_counter()
        summary = resolve(con, OneidParams())
        print(f"resolve: {time.perf_counter() - started:.1f}s {summary}")
    con.close()


if __name__ == "__main__":
    main()
