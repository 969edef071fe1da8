-- One row per OneID with at least one attributed repair order: visits and revenue over 12 and 24
-- months and over the whole history (lifetime value), and the last visit. A visit counts for the
-- person who owned the car on its day (int_repair_orders_attributed).

with

repair_orders as (

    select * from {{ ref('int_repair_orders_attributed') }}
    where oneid is not null

),

summary as (

    select
        oneid,
        count(*) filter (where visit_date > {{ as_of_date() }} - interval 12 month) as visits_12m,
        count(*) filter (where visit_date > {{ as_of_date() }} - interval 24 month) as visits_24m,
        count(*) as visits_lifetime,
        -- sums of amounts as decimal(38,2) on every engine (Spark widens a sum by 10 digits only)
        cast(coalesce(sum(total_amount) filter (
            where visit_date > {{ as_of_date() }} - interval 12 month
        ), 0) as decimal(38, 2)) as revenue_12m,
        cast(coalesce(sum(total_amount) filter (
            where visit_date > {{ as_of_date() }} - interval 24 month
        ), 0) as decimal(38, 2)) as revenue_24m,
        cast(coalesce(sum(total_amount), 0) as decimal(38, 2)) as lifetime_value,
        min(visit_date) as first_visit_date,
        max(visit_date) as last_visit_date,
        {{ arg_max('dealer_code', ['opened_at']) }} as last_visit_dealer_code,
        {{ distinct_list_agg('campaign_code') }} filter (where campaign_code is not null) as campaign_codes_from_visits

    from repair_orders
    group by oneid

)

select * from summary
