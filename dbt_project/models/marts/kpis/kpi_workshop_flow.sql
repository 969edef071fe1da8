-- Workshop flow: repair-order cycle time (进厂 opened → 结算 closed) by opened month, level and
-- service type. An order not closed by the cut-off counts as opened, not in the cycle times.

with

repair_orders as (

    select * from {{ ref('repair_orders') }}

),

kpi_dealers as (

    select * from {{ ref('int_kpi_dealers') }}

),

order_rows as (

    select
        repair_orders.visit_date,
        {{ kpi_dealer_columns('repair_orders.dealer_code') }},
        coalesce(repair_orders.service_type, 'unknown') as service_type,
        1 as repair_orders,
        case when repair_orders.is_closed then 1 else 0 end as closed_orders,
        case
            when repair_orders.is_closed and cast(repair_orders.closed_at as date) = repair_orders.visit_date
                then 1
            else 0
        end as closed_same_day,
        case
            when repair_orders.is_closed
                -- a double on both engines: Spark would divide by 60.0 in decimal, 6 places
                then cast(
                        {{ dbt.datediff('repair_orders.opened_at', 'repair_orders.closed_at', 'minute') }} as double
                    ) / 60
        end as cycle_hours,
        coalesce(repair_orders.total_amount, 0) as revenue

    from (
        select
            *,
            -- closed by the cut-off (a closing dated before the opening is a typing error: left out)
            coalesce(
                closed_at >= opened_at and {{ on_or_before_as_of('closed_at') }}, false
            ) as is_closed
        from repair_orders
    ) as repair_orders
    left join kpi_dealers on repair_orders.dealer_code = kpi_dealers.dealer_code

),

{{ kpi_rollup(
    'order_rows',
    'visit_date',
    sums=['repair_orders', 'closed_orders', 'closed_same_day'],
    decimal_sums=['cycle_hours', 'revenue'],
    aggregates={'cycle_hours_percentiles': kpi_percentiles('cast(cycle_hours as double)', [0.5, 0.9])},
    dims=['service_type'],
) }},

final as (

    select
        {{ kpi_grain_columns() }},
        service_type,
        repair_orders,
        closed_orders,
        closed_same_day,
        cycle_hours as cycle_hours_sum,
        revenue,
        {{ kpi_rate('cycle_hours', 'closed_orders') }} as avg_cycle_hours,
        {{ kpi_list_item('cycle_hours_percentiles', 1) }} as median_cycle_hours,
        {{ kpi_list_item('cycle_hours_percentiles', 2) }} as p90_cycle_hours,
        {{ kpi_rate('closed_same_day', 'closed_orders') }} as same_day_share

    from kpi_rows

)

select * from final
