-- One row per VIN sold on or before the cut-off: the vehicle facts joined with its service
-- history and due dates, the servicing dealer and the mileage estimate. The vehicles mart publishes it.

with

facts as (

    select * from {{ ref('int_vehicle_facts') }}

),

history as (

    select * from {{ ref('int_vehicle_service_history') }}

),

due_dates as (

    select * from {{ ref('int_vehicle_due_dates') }}

),

joined as (

    select
        facts.*,

        ---------- servicing dealer: the last repair order's within the window, else the latest sale's
        coalesce(history.recent_visit_dealer_code, facts.selling_dealer_code) as servicing_dealer_code,
        case
            when history.recent_visit_dealer_code is not null then 'repair_order' else 'sale'
        end as servicing_dealer_source,

        ---------- service history
        history.last_visit_date,
        history.last_visit_dealer_code,
        coalesce(history.visits_12m, 0) as visits_12m,
        coalesce(history.visits_24m, 0) as visits_24m,
        coalesce(history.visits_lifetime, 0) as visits_lifetime,
        coalesce(history.revenue_lifetime, 0) as revenue_lifetime,
        {{ lapse_status('coalesce(history.last_visit_date, facts.current_owner_since)') }} as lapse_status,

        ---------- mileage: a slope through two or more readings, else km since purchase per day
        history.last_mileage_km,
        history.last_mileage_date,
        case
            when history.mileage_readings >= 2 and history.mileage_slope_km_per_day > 0
                then history.mileage_slope_km_per_day
            when history.last_mileage_date > facts.first_invoice_date
                then history.last_mileage_km
                    / {{ dbt.datediff('facts.first_invoice_date', 'history.last_mileage_date', 'day') }}
        end as km_per_day,
        case
            when history.mileage_readings >= 2 and history.mileage_slope_km_per_day > 0 then 'ro_slope'
            when history.last_mileage_date > facts.first_invoice_date then 'since_purchase'
        end as mileage_estimate_method,

        ---------- next due dates (RULES.md reminder types)
        due_dates.next_maintenance_due_date,
        due_dates.next_maintenance_type,
        due_dates.warranty_expiry_date,
        due_dates.next_insurance_due_date,
        due_dates.next_inspection_due_date,
        due_dates.next_inspection_due_source,
        due_dates.is_inspection_sticker_only

    from facts
    inner join due_dates on facts.vin = due_dates.vin
    left join history on facts.vin = history.vin

),

final as (

    select
        {{ star_except(['km_per_day']) }},
        round(km_per_day, 2) as mileage_km_per_day,
        cast(round(
            last_mileage_km + km_per_day * {{ dbt.datediff('last_mileage_date', as_of_date(), 'day') }}
        ) as integer) as estimated_mileage_km

    from joined

)

select * from final
