-- 保险 tasks that month M's list may hold (RULES.md "Reminder list for month M"): the insurance
-- renews on the anniversary of the first invoice; the task is generated the month before the
-- anniversary's month (due month = M+1) and stays valid through it. int_vehicle_due_dates gives
-- the first anniversary after the cut-off (end of M-1): the one in M+1 is the next one unless M
-- itself holds one, twelve months apart. An invoice on 29 February renews on 28 February in a
-- common year.

with

vehicles as (

    select * from {{ ref('int_vehicles_enriched') }}
    where next_insurance_due_date is not null

),

windows as (

    select
        vin,
        servicing_dealer_code as dealer_code,
        next_insurance_due_date as due_date,
        {{ month_start('next_insurance_due_date') }} as due_month,
        {{ add_months(-1, month_start('next_insurance_due_date')) }} as window_start

    from vehicles

),

candidates as (

    select
        vin,
        'insurance' as reminder_type,
        {{ month_label('due_month') }} as cycle,
        due_date,
        window_start,
        window_start as window_end,
        {{ month_end('due_month') }} as valid_until,
        dealer_code,
        false as is_sticker_only,
        false as is_usage_assumed,
        cast(null as {{ dbt.type_string() }}) as campaign_code

    from windows
    where window_start = {{ report_month() }}

)

select * from candidates
