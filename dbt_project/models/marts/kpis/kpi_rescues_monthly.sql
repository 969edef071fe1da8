-- Rescue KPIs (RULES.md "Rescue") by received day/month and level: requests, valid ones, time to
-- dispatch and to arrival, callback rate. A request belongs to the dealer dispatched; one nobody
-- was dispatched to (mostly invalid calls) to `unassigned`.

with

rescues as (

    select * from {{ ref('rescues') }}

),

kpi_dealers as (

    select * from {{ ref('int_kpi_dealers') }}

),

rescue_rows as (

    select
        cast(rescues.received_at as date) as received_date,
        {{ kpi_dealer_columns('rescues.dispatched_dealer_code') }},
        1 as requests,
        case when rescues.is_valid then 1 else 0 end as valid_requests,
        case when rescues.is_valid and rescues.dispatched_at is not null then 1 else 0 end as dispatched,
        case when rescues.is_valid and rescues.arrived_at is not null then 1 else 0 end as arrived,
        case when rescues.is_valid and rescues.completed_at is not null then 1 else 0 end as completed,
        case when rescues.is_valid and rescues.has_callback then 1 else 0 end as callbacks,
        case when rescues.is_valid then rescues.minutes_to_dispatch end as minutes_to_dispatch,
        case when rescues.is_valid then rescues.minutes_to_arrival end as minutes_to_arrival,
        case
            when rescues.is_valid and rescues.dispatched_at is not null then rescues.minutes_to_dispatch else 0
        end as minutes_to_dispatch_sum,
        case
            when rescues.is_valid and rescues.arrived_at is not null then rescues.minutes_to_arrival else 0
        end as minutes_to_arrival_sum

    from rescues
    left join kpi_dealers on rescues.dispatched_dealer_code = kpi_dealers.dealer_code

),

{{ kpi_rollup(
    'rescue_rows',
    'received_date',
    grains=['day', 'month', 'quarter', 'year'],
    sums=[
        'requests', 'valid_requests', 'dispatched', 'arrived', 'completed', 'callbacks',
        'minutes_to_dispatch_sum', 'minutes_to_arrival_sum',
    ],
    aggregates={
        'dispatch_percentiles': kpi_percentiles('cast(minutes_to_dispatch as double)', [0.5, 0.9]),
        'arrival_percentiles': kpi_percentiles('cast(minutes_to_arrival as double)', [0.5, 0.9]),
    },
) }},

final as (

    select
        {{ kpi_grain_columns() }},
        requests,
        valid_requests,
        dispatched,
        arrived,
        completed,
        callbacks,
        minutes_to_dispatch_sum,
        minutes_to_arrival_sum,
        {{ kpi_list_item('dispatch_percentiles', 1) }} as median_minutes_to_dispatch,
        {{ kpi_list_item('dispatch_percentiles', 2) }} as p90_minutes_to_dispatch,
        {{ kpi_list_item('arrival_percentiles', 1) }} as median_minutes_to_arrival,
        {{ kpi_list_item('arrival_percentiles', 2) }} as p90_minutes_to_arrival,
        {{ kpi_rate('valid_requests', 'requests') }} as valid_share,
        {{ kpi_rate('callbacks', 'valid_requests') }} as callback_rate,
        {{ kpi_rate('minutes_to_dispatch_sum', 'dispatched') }} as avg_minutes_to_dispatch,
        {{ kpi_rate('minutes_to_arrival_sum', 'arrived') }} as avg_minutes_to_arrival

    from kpi_rows

)

select * from final
