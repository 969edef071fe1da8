-- 首保 tasks that month M's list may hold (RULES.md "Reminder list for month M"): due
-- first_service_months after the first invoice while the VIN has had no maintenance repair order
-- (int_vehicle_due_dates), generated in the due month and up to first_service_grace_months
-- after it, valid through the last month of that window. A candidate of a later window month has
-- a past due date: it is generated late only when no earlier list held it (a chain's first run).

with

vehicles as (

    select * from {{ ref('int_vehicles_enriched') }}
    where next_maintenance_type = 'first_maintenance'

),

windows as (

    select
        vin,
        servicing_dealer_code as dealer_code,
        next_maintenance_due_date as due_date,
        {{ month_start('next_maintenance_due_date') }} as window_start,
        {{ add_months(var('first_service_grace_months'), month_start('next_maintenance_due_date')) }} as window_end

    from vehicles

),

candidates as (

    select
        vin,
        'first_maintenance' as reminder_type,
        {{ month_label('window_start') }} as cycle,
        due_date,
        window_start,
        window_end,
        {{ month_end('window_end') }} as valid_until,
        dealer_code,
        false as is_sticker_only,
        false as is_usage_assumed,
        cast(null as {{ dbt.type_string() }}) as campaign_code

    from windows
    where {{ report_month() }} between window_start and window_end

)

select * from candidates
