-- Complaint KPIs (RULES.md "Complaints") by received day/month, level, and channel / category /
-- complaint level one at a time; plus the backlog (open, and open past the deadline) at each
-- month end.

with

complaints as (

    select * from {{ ref('complaints') }}

),

calendar as (

    select * from {{ ref('int_kpi_calendar') }}

),

kpi_dealers as (

    select * from {{ ref('int_kpi_dealers') }}

),

attributed as (

    select
        complaints.received_at,
        complaints.deadline_at,
        complaints.closed_at,
        complaints.is_first_contact_within_24h,
        complaints.is_closed_within_deadline,
        complaints.is_escalated,
        complaints.is_vrt_started,
        complaints.has_callback,
        complaints.satisfaction,
        complaints.hours_to_close,
        {{ kpi_dealer_columns('complaints.dealer_code') }},
        coalesce(complaints.complaint_channel, 'unknown') as channel_code,
        coalesce(complaints.complaint_category, 'unknown') as category_code,
        coalesce(complaints.complaint_level, 'unknown') as level_code

    from complaints
    left join kpi_dealers on complaints.dealer_code = kpi_dealers.dealer_code

),

-- what happened to the complaints received in the period
received as (

    select
        cast(received_at as date) as kpi_date,
        false as is_stock_row,
        dealer_code,
        dealer_name,
        region,
        channel_code as complaint_channel,
        category_code as complaint_category,
        level_code as complaint_level,
        1 as complaints,
        case when is_first_contact_within_24h then 1 else 0 end as first_contact_within_24h,
        case when closed_at is not null then 1 else 0 end as closed,
        case when is_closed_within_deadline then 1 else 0 end as closed_within_deadline,
        case when is_escalated then 1 else 0 end as escalated,
        case when is_vrt_started then 1 else 0 end as vrt_started,
        case when has_callback and closed_at is not null then 1 else 0 end as callbacks,
        case when satisfaction is not null then 1 else 0 end as satisfaction_responses,
        case when satisfaction >= 4 then 1 else 0 end as satisfied,
        coalesce(satisfaction, 0) as satisfaction_sum,
        0 as open_at_period_end,
        0 as overdue_open_at_period_end,
        cast(hours_to_close as double) as hours_to_close

    from attributed

),

-- the backlog at each month end: received by then and not closed by then
backlog as (

    select
        calendar.month_start as kpi_date,
        true as is_stock_row,
        attributed.dealer_code,
        attributed.dealer_name,
        attributed.region,
        attributed.channel_code as complaint_channel,
        attributed.category_code as complaint_category,
        attributed.level_code as complaint_level,
        0 as complaints,
        0 as first_contact_within_24h,
        0 as closed,
        0 as closed_within_deadline,
        0 as escalated,
        0 as vrt_started,
        0 as callbacks,
        0 as satisfaction_responses,
        0 as satisfied,
        0 as satisfaction_sum,
        1 as open_at_period_end,
        case when cast(attributed.deadline_at as date) < calendar.month_end then 1 else 0 end
            as overdue_open_at_period_end,
        cast(null as double) as hours_to_close

    from attributed
    inner join calendar
        on
            cast(attributed.received_at as date) <= calendar.month_end
            and (attributed.closed_at is null or cast(attributed.closed_at as date) > calendar.month_end)

),

complaint_rows as (

    select * from received
    union all
    select * from backlog

),

{{ kpi_rollup(
    'complaint_rows',
    'kpi_date',
    grains=['day', 'month', 'quarter', 'year'],
    sums=[
        'complaints', 'first_contact_within_24h', 'closed', 'closed_within_deadline', 'escalated',
        'vrt_started', 'callbacks', 'satisfaction_responses', 'satisfied', 'satisfaction_sum',
    ],
    stocks=['open_at_period_end', 'overdue_open_at_period_end'],
    aggregates={'hours_to_close_percentiles': kpi_percentiles('hours_to_close', [0.5, 0.9])},
    dims=['complaint_channel', 'complaint_category', 'complaint_level'],
) }},

final as (

    select
        {{ kpi_grain_columns() }},
        complaint_channel,
        complaint_category,
        complaint_level,
        complaints,
        first_contact_within_24h,
        closed,
        closed_within_deadline,
        escalated,
        vrt_started,
        callbacks,
        satisfaction_responses,
        satisfied,
        satisfaction_sum,
        open_at_period_end,
        overdue_open_at_period_end,
        {{ kpi_list_item('hours_to_close_percentiles', 1) }} as median_hours_to_close,
        {{ kpi_list_item('hours_to_close_percentiles', 2) }} as p90_hours_to_close,
        {{ kpi_rate('first_contact_within_24h', 'complaints') }} as first_contact_24h_rate,
        {{ kpi_rate('closed_within_deadline', 'complaints') }} as closed_within_deadline_rate,
        {{ kpi_rate('escalated', 'complaints') }} as escalation_rate,
        {{ kpi_rate('callbacks', 'closed') }} as callback_rate,
        {{ kpi_rate('satisfied', 'satisfaction_responses') }} as satisfied_share,
        {{ kpi_rate('satisfaction_sum', 'satisfaction_responses') }} as avg_satisfaction

    from kpi_rows

)

select * from final
