with

dealers as (

    select * from {{ ref('stg_master__dealers') }}

),

repair_orders as (

    select * from {{ ref('stg_csc__repair_orders') }}
    where cast(opened_at as date) <= cast('{{ var("as_of_date") }}' as date)

),

service_last_12_months as (

    select
        dealer_code,
        count(*) as repair_orders_12m,
        count(distinct vin) as vehicles_serviced_12m,
        sum(total_amount) as revenue_12m

    from repair_orders
    where cast(opened_at as date) > cast('{{ var("as_of_date") }}' as date) - interval 12 month
    group by dealer_code

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
        coalesce(service_last_12_months.revenue_12m, 0) as revenue_12m

    from dealers
    left join service_last_12_months
        on dealers.dealer_code = service_last_12_months.dealer_code

)

select * from final
