with

dealers as (

    select * from {{ ref('stg_master__dealers') }}

),

repair_orders as (

    select * from {{ ref('int_repair_orders_attributed') }}

),

vehicles as (

    select * from {{ ref('int_vehicles_enriched') }}

),

service_last_12_months as (

    select
        dealer_code,
        count(*) as repair_orders_12m,
        count(distinct vin) as vehicles_serviced_12m,
        cast(sum(total_amount) as decimal(38, 2)) as revenue_12m

    from repair_orders
    where visit_date > {{ as_of_date() }} - interval 12 month
    group by dealer_code

),

vehicle_base as (

    select
        servicing_dealer_code as dealer_code,
        count(*) as servicing_vehicles,
        count(*) filter (where lapse_status = 'active') as servicing_vehicles_active,
        count(*) filter (where lapse_status = 'at_risk') as servicing_vehicles_at_risk,
        count(*) filter (where lapse_status = 'lapsed') as servicing_vehicles_lapsed

    from vehicles
    group by servicing_dealer_code

),

sold as (

    select
        selling_dealer_code as dealer_code,
        count(*) as vehicles_sold_current_owner

    from vehicles
    group by selling_dealer_code

),

final as (

    select
        dealers.dealer_code,
        dealers.dealer_name,
        dealers.region,
        dealers.province,
        dealers.city,
        dealers.dealer_status,
        coalesce(service_last_12_months.repair_orders_12m, 0) as repair_orders_12m,
        coalesce(service_last_12_months.vehicles_serviced_12m, 0) as vehicles_serviced_12m,
        coalesce(service_last_12_months.revenue_12m, 0) as revenue_12m,
        coalesce(vehicle_base.servicing_vehicles, 0) as servicing_vehicles,
        coalesce(vehicle_base.servicing_vehicles_active, 0) as servicing_vehicles_active,
        coalesce(vehicle_base.servicing_vehicles_at_risk, 0) as servicing_vehicles_at_risk,
        coalesce(vehicle_base.servicing_vehicles_lapsed, 0) as servicing_vehicles_lapsed,
        coalesce(sold.vehicles_sold_current_owner, 0) as vehicles_sold_current_owner,
        {{ safe_rate(
            'vehicle_base.servicing_vehicles_active + vehicle_base.servicing_vehicles_at_risk',
            'vehicle_base.servicing_vehicles',
        ) }} as active_12m_share

    from dealers
    left join service_last_12_months on dealers.dealer_code = service_last_12_months.dealer_code
    left join vehicle_base on dealers.dealer_code = vehicle_base.dealer_code
    left join sold on dealers.dealer_code = sold.dealer_code

)

select * from final
