-- 年审 tasks that month M's list may hold (RULES.md "Reminder list for month M"): the next
-- inspection after the cut-off (int_vehicle_due_dates: the advisor's date while it lies ahead,
-- else the RULES.md schedule from the registration, else first invoice, date, due at the end of
-- its month), generated from two months before its month (due month = M+2) and valid through its
-- month. Schedule points are at least six months apart, so at most one falls in [M, M+2]. The
-- task says when the schedule needs the sticker only (years 2, 4, 8 of a small private car) and
-- when it rested on an assumed usage or seat count.

with

vehicles as (

    select * from {{ ref('int_vehicles_enriched') }}
    where next_inspection_due_date is not null

),

windows as (

    select
        vin,
        servicing_dealer_code as dealer_code,
        next_inspection_due_date as due_date,
        {{ month_start('next_inspection_due_date') }} as due_month,
        {{ add_months(-2, month_start('next_inspection_due_date')) }} as window_start,
        coalesce(is_inspection_sticker_only, false) as is_sticker_only,
        next_inspection_due_source = 'schedule' and (is_usage_assumed or is_seats_assumed) as is_usage_assumed

    from vehicles

),

candidates as (

    select
        vin,
        'inspection' as reminder_type,
        {{ month_label('due_month') }} as cycle,
        due_date,
        window_start,
        due_month as window_end,
        {{ month_end('due_month') }} as valid_until,
        {{ reminder_candidate_columns(
            is_sticker_only='is_sticker_only',
            is_usage_assumed='is_usage_assumed',
        ) }}

    from windows
    where {{ report_month() }} between window_start and due_month

)

select * from candidates
