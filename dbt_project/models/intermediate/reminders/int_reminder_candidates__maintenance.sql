-- 保养 tasks that month M's list may hold (RULES.md "Reminder list for month M"): once the VIN has
-- had a maintenance repair order (首保/定期保养), due on the latest one's next_maintenance_date,
-- else its date + maintenance_interval_months (int_vehicle_due_dates); generated in the due month
-- and up to maintenance_grace_months after it, valid through the last month of that window. A
-- candidate of a later window month has a past due date (generated late, on a chain's first run).

with

vehicles as (

    select * from {{ ref('int_vehicles_enriched') }}
    where next_maintenance_type = 'maintenance'

),

windows as (

    select
        vin,
        servicing_dealer_code as dealer_code,
        next_maintenance_due_date as due_date,
        {{ month_start('next_maintenance_due_date') }} as window_start,
        {{ add_months(var('maintenance_grace_months'), month_start('next_maintenance_due_date')) }} as window_end

    from vehicles

),

candidates as (

    select
        vin,
        'maintenance' as reminder_type,
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
