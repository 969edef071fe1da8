"""A synthetic warehouse of any size in the contract's shape, for timing the dbt stage at scale.

Not realistic data (the generator is for that): uniform random values with the same row counts and
key shapes as RULES.md's scales, written by DuckDB itself so a million vehicles take seconds.

    uv run python -m tests.dbt.synthetic_warehouse /tmp/m.duckdb --vehicles 1000000
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from tests.dbt.fixture_warehouse import create_tables

# rows per vehicle, after RULES.md's scales (M: 1 M vehicles, 6 M repair orders, 600 k followers);
# WeCom consultants as the sample OEM has them (~12,000 at M), each with a statistics row a day
PER_VEHICLE = {
    "repair_orders": 6, "bookings": 1.0, "followers": 0.6, "bindings": 0.4, "contacts": 0.3,
    # DCRC reminder calls over the 24 months, and the WeChat sends of the last months' lists
    "reminder_calls": 1.5, "template_sends": 0.3,
    "consultants": 0.0125, "rescues": 0.016, "group_messages": 0.3,
}  # fmt: skip
BEHAVIOUR_DAYS = 730


def build_synthetic_warehouse(path: Path, vehicles: int, seed: float = 0.42) -> Path:
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        create_tables(con)
        con.execute(f"select setseed({seed})")
        v = vehicles
        people = int(v * 0.9)
        con.execute("""
            insert into landing.dealers (dealer_code, name, region, province, city, status)
            select 'D' || lpad(i::varchar, 4, '0'), '店' || i, '大区' || (i % 6), '省' || (i % 30),
                '市' || i, '营业'
            from (select cast(range as integer) as i from range(1, 201))
        """)
        con.execute(f"""
            insert into identity.oneid_map (identifier_type, identifier_key, oneid)
            select 'id_number', 'idh' || i, 'OID' || lpad(i::varchar, 12, '0')
            from (select cast(range as integer) as i from range({people})) union all
            select 'mobile', 'mh' || i, 'OID' || lpad(i::varchar, 12, '0')
            from (select cast(range as integer) as i from range({people})) union all
            select 'oa_openid', 'oa' || i, 'OID' || lpad(i::varchar, 12, '0')
            from (select cast(range as integer) as i from range({int(v * PER_VEHICLE["followers"])}))
            union all
            select 'wecom_external_userid', 'wm' || i, 'OID' || lpad(i::varchar, 12, '0')
            from (select cast(range as integer) as i from range({int(v * PER_VEHICLE["contacts"])}))
        """)
        # one first sale per vehicle, a resale for 5 %
        con.execute(f"""
            insert into landing.vehicle_sales
            select
                'LSV' || lpad(i::varchar, 14, '0') as vin, true, 'D' || lpad((1 + i % 200)::varchar, 4, '0'),
                'M' || (i % 12), '车型' || (i % 12),
                date '2016-01-01' + cast(floor(random() * 3700) as integer) as invoice_date,
                null, case when i % 10 = 0 then null when i % 29 = 0 then '营运' else '非营运' end,
                case when i % 10 = 0 then null else 5 end,
                '某*', null, 'idh' || (i % {people}), 'valid', date '1980-01-01' + (i % 12000),
                'M', '44', null, 'mh' || (i % {people}), 'valid', '138****0000', null, 'S1',
                'vehicle_sales_x.csv', i + 2, date '2026-10-31', now(), null
            from (select cast(range as integer) as i from range({v}))
        """)
        con.execute("""
            update landing.vehicle_sales set registration_date = invoice_date + 7 where random() < 0.8
        """)
        con.execute(f"""
            insert into landing.vehicle_sales
            select
                vin, true, 'D' || lpad((1 + (hash(vin) % 200))::varchar, 4, '0'), model_code, model_name,
                invoice_date + 700, registration_date, usage, seats, '某*', null,
                'idh' || ((_source_row * 7) % {people}), 'valid', null, 'F', '31', null,
                'mh' || ((_source_row * 7) % {people}), 'valid', '139****0000', null, 'S2',
                'vehicle_sales_y.csv', _source_row, date '2026-10-31', now(), null
            from landing.vehicle_sales
            where _source_row % 20 = 0 and invoice_date + 700 < date '2026-10-01'
        """)
        con.execute(f"""
            insert into landing.repair_orders (
                ro_no, dealer_code, vin, vin_check_ok, opened_at, closed_at, mileage_km, service_type,
                labor_amount, parts_amount, total_amount, next_maintenance_date, advisor, campaign_code,
                _source_file, _source_row
            )
            select
                'RO' || i, 'D' || lpad((1 + (i * 13) % 200)::varchar, 4, '0'),
                'LSV' || lpad((i % {v})::varchar, 14, '0'), true,
                timestamp '2024-11-01' + to_days(cast(floor(random() * 730) as integer)),
                null, cast(random() * 100000 as integer),
                ['首保', '定期保养', '定期保养', '一般维修', '索赔', '服务活动', '事故车'][1 + i % 7],
                100, 200, round(random() * 3000, 2),
                case when i % 3 = 0 then date '2027-01-01' end, 'S1',
                case when i % 50 = 0 then 'CAMP' || (i % 20) end, 'repair_orders_x.csv', i + 2
            from (select cast(range as integer) as i from range({v * PER_VEHICLE["repair_orders"]}))
        """)
        # closed within minutes to a few days (the workshop flow's cycle time)
        con.execute(
            "update landing.repair_orders "
            "set closed_at = opened_at + to_minutes(cast(random() * 3000 as integer))"
        )
        con.execute(f"""
            insert into landing.bookings (booking_id, channel, mobile_hmac, mobile_status, vin, dealer_code,
                created_at, scheduled_date, service_item, status, feedback_required)
            select 'BK' || i, '微信', 'mh' || (i % {people}), 'valid',
                'LSV' || lpad((i % {v})::varchar, 14, '0'),
                'D0001', timestamp '2025-01-01' + to_days(i % 600), date '2025-01-05' + (i % 600), '保养',
                '已确认', i % 2 = 0
            from (select cast(range as integer) as i from range({int(v * PER_VEHICLE["bookings"])}))
        """)
        con.execute(f"""
            insert into landing.complaints (complaint_no, channel, category, level, dealer_code, vin,
                received_at, deadline_at)
            select 'CP' || i, '热线', '服务', '一般', 'D0001',
                'LSV' || lpad((i * 97 % {v})::varchar, 14, '0'),
                timestamp '2025-01-01' + to_days(i % 600), timestamp '2025-01-08' + to_days(i % 600)
            from (select cast(range as integer) as i from range({v // 100}))
        """)
        con.execute(f"""
            insert into landing.campaigns (campaign_code, scope, name, start_date, end_date)
            select 'CAMP' || i, '全国', '活动' || i, date '2025-01-01' + i * 30, date '2025-02-01' + i * 30
            from (select cast(range as integer) as i from range(20));
            insert into landing.campaign_participants (participant_id, campaign_code, vin, registered_at,
                channel)
            select 'P' || i, 'CAMP' || (i % 20), 'LSV' || lpad((i * 31 % {v})::varchar, 14, '0'),
                timestamp '2025-01-02' + to_days((i % 20) * 30), '群发'
            from (select cast(range as integer) as i from range({v // 10}))
        """)
        # the reminder list's own inputs: DCRC calls, a national campaign running in 2026-11 for every
        # model (the widest candidate join), a dealer campaign per dealer, managers' decisions, sends
        con.execute(f"""
            insert into landing.reminder_calls (call_id, dealer_code, vin, reminder_type, reminder_month,
                called_at, result, duration_s, agent, _source_file, _source_row)
            select 'CL' || i, 'D' || lpad((1 + (i * 13) % 200)::varchar, 4, '0'),
                'LSV' || lpad((i * 7 % {v})::varchar, 14, '0'),
                ['首保', '保养', '保养', '质保', '保险', '年审', '生日', '活动'][1 + i % 8],
                date_trunc('month', timestamp '2024-11-01' + to_days(i % 730))::date,
                timestamp '2024-11-01 09:00' + to_days(i % 730) + to_minutes(i % 540),
                ['接通', '接通', '无人接听', '拒接', '占线'][1 + i % 5], (i * 17) % 300, 'S1',
                'reminder_calls_x.csv', i + 2
            from (select cast(range as integer) as i from range({int(v * PER_VEHICLE["reminder_calls"])}));
            insert into landing.campaigns (campaign_code, scope, dealer_code, name, start_date, end_date,
                target_models, target_purchase_from, target_purchase_to)
            select 'NAT2611', '全国', null, '冬季关爱', date '2026-11-01', date '2026-11-30', null, null, null
            union all
            select 'DLR' || i, '店端', 'D' || lpad(i::varchar, 4, '0'), '店端活动' || i, date '2026-10-15',
                null, 'M1;M2;M3', date '2018-01-01', date '2024-12-31'
            from (select cast(range as integer) as i from range(1, 201));
            create schema if not exists decisions;
            insert into decisions.task_decisions
            select i,
                substring(md5('LSV' || lpad((i * 11 % {v})::varchar, 14, '0') || '|maintenance|2026-10'),
                    1, 16),
                case when i % 5 = 0 then 'reopen' else 'close' end,
                case
                    when i % 5 = 0 then null
                    else ['sold', 'moved', 'wrong_number', 'refuses_contact'][1 + i % 4]
                end,
                'manager' || (i % 200), timestamp '2026-10-02 10:00' + to_hours(i % 600), null,
                '2026-10', null
            from (select cast(range as integer) as i from range(1, {v // 200}));
            insert into wechat.template_send_results
            select
                substring(md5('LSV' || lpad((i * 3 % {v})::varchar, 14, '0') || '|maintenance|2026-10'),
                    1, 16),
                '2026-10', 'oa' || i, 'msg' || i, timestamp '2026-09-30 20:00',
                ['success', 'success', 'success', 'sent', 'failed_user_block', 'unsettled'][1 + i % 6]
            from (select cast(range as integer) as i from range({int(v * PER_VEHICLE["template_sends"])}))
        """)
        con.execute(f"""
            insert into wechat.oa_followers (openid, unionid, subscribe, subscribe_time, qr_scene_str)
            select 'oa' || i, 'un' || i, i % 9 != 0, timestamp '2020-01-01' + to_days(i % 2000),
                'dealer_D' || lpad((1 + i % 200)::varchar, 4, '0')
            from (select cast(range as integer) as i from range({int(v * PER_VEHICLE["followers"])}));
            insert into landing.wechat_bindings (binding_id, openid, vin_last8, id_number_hmac,
                id_number_status, mobile_hmac, mobile_status, bound_at, status)
            select 'BD' || i, 'oa' || i, right(lpad((i % {v})::varchar, 14, '0'), 8), 'idh' || i, 'valid',
                'mh' || i, 'valid', timestamp '2021-01-01' + to_days(i % 1500), '有效'
            from (select cast(range as integer) as i from range({int(v * PER_VEHICLE["bindings"])}));
            insert into wechat.wecom_external_contacts (external_userid, follow_userid, unionid, createtime)
            select 'wm' || i, 'wc' || (i % 2000), 'un' || i, timestamp '2022-01-01' + to_days(i % 1000)
            from (select cast(range as integer) as i from range({int(v * PER_VEHICLE["contacts"])}))
        """)
        # WeCom consultants (staff with a WeCom account), their daily statistics, their group messages
        consultants = max(1, int(v * PER_VEHICLE["consultants"]))
        con.execute(f"""
            insert into landing.staff (staff_id, dealer_code, name_masked, role, wecom_userid)
            select 'ST' || i, 'D' || lpad((1 + i % 200)::varchar, 4, '0'), '某*', '服务顾问', 'wc' || i
            from (select cast(range as integer) as i from range({consultants}));
            insert into wechat.wecom_behavior_daily (userid, stat_date, new_apply_cnt, new_contact_cnt,
                chat_cnt, message_cnt, reply_percentage, avg_reply_time, negative_feedback_cnt)
            select 'wc' || c, date '2024-11-01' + d, (c + d) % 3, (c + d) % 2, (c * 7 + d) % 12,
                (c * 7 + d) % 40, ((c + d) % 101)::double, ((c + d) % 30)::double, 0
            from (select cast(range as integer) as c from range({consultants}))
            cross join (select cast(range as integer) as d from range({BEHAVIOUR_DAYS}));
            insert into wechat.wecom_groupmsg_results (msgid, userid, external_userid, status, send_time)
            select 'msg' || (i // 50), 'wc' || ((i // 50) % {consultants}), 'wm' || i,
                case when i % 9 = 0 then 0 else 1 end, timestamp '2024-11-01' + to_days(i % 720)
            from (select cast(range as integer) as i from range({int(v * PER_VEHICLE["group_messages"])}));
            insert into landing.rescues (request_no, received_at, vin, valid, dispatched_dealer,
                dispatched_at, arrived_at, _source_file, _source_row)
            select 'JY' || i, timestamp '2024-11-01' + to_minutes(i * 97 % 1000000),
                'LSV' || lpad((i * 13 % {v})::varchar, 14, '0'), i % 7 != 0,
                case when i % 7 != 0 then 'D' || lpad((1 + i % 200)::varchar, 4, '0') end,
                case when i % 7 != 0 then timestamp '2024-11-01' + to_minutes(i * 97 % 1000000 + 20) end,
                case when i % 7 != 0 then timestamp '2024-11-01' + to_minutes(i * 97 % 1000000 + 70) end,
                'rescues_x.csv', i + 2
            from (select cast(range as integer) as i from range({int(v * PER_VEHICLE["rescues"])}))
        """)
        con.execute("checkpoint")
    finally:
        con.close()
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--vehicles", type=int, default=20_000)
    args = parser.parse_args()
    build_synthetic_warehouse(args.path, args.vehicles)
    print(f"wrote {args.path}")
