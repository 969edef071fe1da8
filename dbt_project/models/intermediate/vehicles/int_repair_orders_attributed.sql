-- One row per repair order opened on or before the cut-off, with the OneID that owned the
-- vehicle on that day: a visit counts for the person who owned the car then, so a resale moves
-- the car's later visits, not its earlier ones, to the new owner.

with

repair_orders as (

    select * from {{ ref('stg_csc__repair_orders') }}
    where {{ on_or_before_as_of('opened_at') }}

),

ownerships as (

    select
        vin,
        owner_oneid,
        owned_from,
        owned_until
    from {{ ref('int_vehicle_sales_ranked') }}

),

attributed as (

    select
        repair_orders.*,
        cast(repair_orders.opened_at as date) as visit_date,
        repair_orders.service_type in ('first_maintenance', 'maintenance') as is_maintenance,
        ownerships.owner_oneid as oneid

    from repair_orders
    -- the sale record in force that day: the latest one starting on or before it (spans do not overlap)
    {{ ownership_join('ownerships', 'ownerships', 'repair_orders.vin', 'cast(repair_orders.opened_at as date)') }}

)

select * from attributed
