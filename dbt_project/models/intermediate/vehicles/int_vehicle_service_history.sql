-- One row per VIN with at least one repair order up to the cut-off: visit counts, the last
-- visit, the servicing dealer of the last 24 months, the advisor-entered next dates, and the
-- mileage slope (km per day) fitted through the odometer readings of its repair orders.

with

repair_orders as (

    select * from {{ ref('int_repair_orders_attributed') }}

),

ordered as (

    select
        vin,
        dealer_code,
        visit_date,
        opened_at,
        total_amount,
        mileage_km,
        is_maintenance,
        next_maintenance_date,
        warranty_expiry_date,
        next_inspection_date,
        row_number() over (partition by vin order by opened_at desc, ro_no desc) as recency_rank

    from repair_orders

),

per_vehicle as (

    select
        vin,
        count(*) as visits_lifetime,
        count(*) filter (
            where visit_date > {{ as_of_date() }} - interval 12 month
        ) as visits_12m,
        count(*) filter (
            where visit_date > {{ as_of_date() }} - interval 24 month
        ) as visits_24m,
        cast(coalesce(sum(total_amount), 0) as decimal(38, 2)) as revenue_lifetime,
        min(visit_date) as first_visit_date,
        max(visit_date) as last_visit_date,
        max(visit_date) filter (where is_maintenance) as last_maintenance_date,

        -- dealer of the latest repair order, and of the latest one inside the servicing window
        {{ arg_max('dealer_code', ['opened_at']) }} as last_visit_dealer_code,
        {{ arg_max('dealer_code', ['opened_at']) }} filter (
            where visit_date > {{ as_of_date() }} - interval {{ var('servicing_dealer_months') }} month
        ) as recent_visit_dealer_code,

        -- the latest repair order that gives each date wins (advisors do not fill them every time)
        {{ arg_max('next_maintenance_date', ['opened_at']) }} filter (
            where is_maintenance and next_maintenance_date is not null
        ) as advised_next_maintenance_date,
        -- arg_max_null: the latest maintenance RO decides even when it gives no date (then: + interval)
        {{ arg_max_null('next_maintenance_date', ['opened_at']) }} filter (
            where is_maintenance
        ) as latest_maintenance_next_date,
        {{ arg_max('warranty_expiry_date', ['opened_at']) }} filter (
            where warranty_expiry_date is not null
        ) as advised_warranty_expiry_date,
        {{ arg_max('next_inspection_date', ['opened_at']) }} filter (
            where next_inspection_date is not null
        ) as advised_next_inspection_date,

        -- odometer: the last reading and the km/day slope through every positive reading
        {{ arg_max('mileage_km', ['opened_at']) }} filter (where mileage_km > 0) as last_mileage_km,
        {{ arg_max('visit_date', ['opened_at']) }} filter (where mileage_km > 0) as last_mileage_date,
        -- readings on distinct days: two repair orders of one day (or a re-sent batch) fit no line
        count(distinct visit_date) filter (where mileage_km > 0) as mileage_readings,
        regr_slope(
            mileage_km, {{ epoch_seconds('opened_at') }} / 86400.0
        ) filter (where mileage_km > 0) as raw_mileage_slope

    from ordered
    group by vin

),

final as (

    select
        {{ star_except(['raw_mileage_slope']) }},
        case
            when mileage_readings >= 2 and {{ is_finite('raw_mileage_slope') }} then raw_mileage_slope
        end as mileage_slope_km_per_day

    from per_vehicle

)

select * from final
