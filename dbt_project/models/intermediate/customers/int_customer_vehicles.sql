-- One row per OneID that owns or has owned a vehicle: what it owns now, what it owned before,
-- its dealers (from its most recently bought current vehicle) and the earliest next due date of
-- each type over its current vehicles.

with

vehicles as (

    select * from {{ ref('int_vehicles_enriched') }}
    where current_owner_oneid is not null

),

sales as (

    select * from {{ ref('int_vehicle_sales_ranked') }}
    where owner_oneid is not null

),

owned_now as (

    select
        current_owner_oneid as oneid,
        count(*) as vehicles_owned_now,
        {{ string_agg_ordered('vin', "','", 'current_owner_since desc, vin asc') }} as current_vins,
        max(current_owner_since) as last_purchase_date,
        {{ arg_max(
            'selling_dealer_code', [epoch_seconds('current_owner_since'), tie_break_hash('vin')]
        ) }} as selling_dealer_code,
        {{ arg_max(
            'servicing_dealer_code', [epoch_seconds('current_owner_since'), tie_break_hash('vin')]
        ) }} as servicing_dealer_code,
        min(next_maintenance_due_date) as next_maintenance_due_date,
        min(warranty_expiry_date) filter (
            where warranty_expiry_date > {{ as_of_date() }}
        ) as next_warranty_expiry_date,
        min(next_insurance_due_date) as next_insurance_due_date,
        min(next_inspection_due_date) as next_inspection_due_date

    from vehicles
    group by current_owner_oneid

),

owned_before as (

    select
        sales.owner_oneid as oneid,
        count(distinct sales.vin) as vehicles_owned_before

    from sales
    left join vehicles
        on sales.vin = vehicles.vin and sales.owner_oneid = vehicles.current_owner_oneid
    where vehicles.vin is null
    group by sales.owner_oneid

),

owners as (

    select oneid from owned_now
    union
    select oneid from owned_before

),

final as (

    select
        owners.oneid,
        coalesce(owned_now.vehicles_owned_now, 0) as vehicles_owned_now,
        coalesce(owned_before.vehicles_owned_before, 0) as vehicles_owned_before,
        owned_now.current_vins,
        owned_now.last_purchase_date,
        owned_now.selling_dealer_code,
        owned_now.servicing_dealer_code,
        owned_now.next_maintenance_due_date,
        owned_now.next_warranty_expiry_date,
        owned_now.next_insurance_due_date,
        owned_now.next_inspection_due_date

    from owners
    left join owned_now on owners.oneid = owned_now.oneid
    left join owned_before on owners.oneid = owned_before.oneid

)

select * from final
