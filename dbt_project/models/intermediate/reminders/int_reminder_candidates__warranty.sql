-- 质保 tasks that month M's list may hold (RULES.md "Reminder list for month M"): the warranty
-- ends on the latest repair order's warranty_expiry_date where one gives it, else warranty_years
-- after the first invoice (int_vehicle_due_dates); the task is generated the month before the
-- end month (due month = M+1) and stays valid through the end month.

with

vehicles as (

    select * from {{ ref('int_vehicles_enriched') }}
    where warranty_expiry_date is not null

),

windows as (

    select
        vin,
        servicing_dealer_code as dealer_code,
        warranty_expiry_date as due_date,
        {{ month_start('warranty_expiry_date') }} as due_month,
        {{ add_months(-1, month_start('warranty_expiry_date')) }} as window_start

    from vehicles

),

candidates as (

    select
        vin,
        'warranty' as reminder_type,
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
