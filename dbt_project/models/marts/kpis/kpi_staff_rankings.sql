-- Service advisors (服务顾问, the RO's advisor) and WeCom consultants ranked within their dealer,
-- their region and the nation, per month, quarter and year and per metric (the 4S CRM's
-- consultant rankings). Long: one row per period, staff member and metric.

with

calendar as (

    select * from {{ ref('int_kpi_calendar') }}

),

repair_orders as (

    select * from {{ ref('repair_orders') }}
    where advisor_staff_id is not null

),

staff as (

    select * from {{ ref('stg_master__staff') }}

),

kpi_dealers as (

    select * from {{ ref('int_kpi_dealers') }}

),

consultants as (

    select * from {{ ref('kpi_communication_monthly') }}
    where level = 'consultant'

),

-- orders and revenue per advisor, dealer and month first, then per quarter and year
advisor_months as (

    select
        {{ month_start('repair_orders.visit_date') }} as month_start,
        repair_orders.advisor_staff_id,
        repair_orders.dealer_code,
        count(*) as repair_orders,
        coalesce(sum(repair_orders.total_amount), 0) as revenue
    from repair_orders
    inner join calendar on {{ month_start('repair_orders.visit_date') }} = calendar.month_start
    group by {{ month_start('repair_orders.visit_date') }}, repair_orders.advisor_staff_id, repair_orders.dealer_code

),

advisor_periods as (

    {%- for grain in ['month', 'quarter', 'year'] %}
        select
            '{{ grain }}' as period_grain,
            cast({{ dbt.date_trunc(grain, 'month_start') }} as date) as period_start,
            advisor_staff_id,
            dealer_code,
            repair_orders,
            revenue
        from advisor_months
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

-- an advisor counts at the dealer of the staff master, else at the (first) dealer of their orders
advisors as (

    select
        advisor_periods.period_grain,
        advisor_periods.period_start,
        'service_advisor' as staff_type,
        advisor_periods.advisor_staff_id as staff_key,
        coalesce(max(staff.dealer_code), min(advisor_periods.dealer_code)) as dealer_code,
        cast(sum(advisor_periods.repair_orders) as double) as repair_orders,
        cast(sum(advisor_periods.revenue) as double) as revenue

    from advisor_periods
    left join staff on advisor_periods.advisor_staff_id = staff.staff_id
    group by advisor_periods.period_grain, advisor_periods.period_start, advisor_periods.advisor_staff_id

),

staff_metrics as (

    {%- for metric, value in [
        ('repair_orders', 'repair_orders'),
        ('revenue', 'revenue'),
        ('revenue_per_order', kpi_rate('revenue', 'repair_orders')),
    ] %}

        {% if not loop.first %}union all{% endif %}

        select
            period_grain,
            period_start,
            staff_type,
            staff_key,
            dealer_code,
            '{{ metric }}' as metric,
            {{ value }} as metric_value
        from advisors
    {%- endfor %}

    {%- for metric in ['new_contacts', 'chats', 'reply_rate', 'customers_contacted'] %}

        union all

        select
            period_grain,
            period_start,
            'wecom_consultant' as staff_type,
            consultant_userid as staff_key,
            dealer_code,
            '{{ metric }}' as metric,
            cast({{ metric }} as double) as metric_value
        from consultants
    {%- endfor %}

),

placed as (

    select
        staff_metrics.*,
        kpi_dealers.dealer_name,
        coalesce(kpi_dealers.region, 'unknown') as region
    from staff_metrics
    left join kpi_dealers on staff_metrics.dealer_code = kpi_dealers.dealer_code

),

staff_names as (

    select
        staff_id,
        wecom_userid,
        staff_name_masked,
        row_number() over (partition by wecom_userid order by staff_id) as account_rank
    from staff

),

ranked as (

    select
        placed.period_grain,
        placed.period_start,
        placed.staff_type,
        placed.staff_key,
        placed.dealer_code,
        placed.dealer_name,
        placed.region,
        placed.metric,
        placed.metric_value,
        {%- for scope, partition in [
            ('dealer', 'placed.dealer_code'), ('region', 'placed.region'), ('nation', none),
        ] %}
            rank() over (
                partition by
                    placed.period_grain, placed.period_start, placed.staff_type, placed.metric
                    {%- if partition %}, {{ partition }}{% endif %}
                order by placed.metric_value desc nulls last
            ) as rank_in_{{ scope }},
            count(*) over (
                partition by
                    placed.period_grain, placed.period_start, placed.staff_type, placed.metric
                    {%- if partition %}, {{ partition }}{% endif %}
            ) as staff_in_{{ scope }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}

    from placed

),

final as (

    select
        ranked.period_grain,
        ranked.period_start,
        case ranked.period_grain
            {%- for grain in ['month', 'quarter', 'year'] %}
                when '{{ grain }}' then {{ dbt.last_day('ranked.period_start', grain) }}
            {%- endfor %}
        end as period_end,
        case when ranked.period_grain = 'month' then ranked.period_start end as month,
        ranked.staff_type,
        ranked.staff_key,
        coalesce(by_staff_id.staff_id, by_wecom_userid.staff_id) as staff_id,
        coalesce(by_staff_id.staff_name_masked, by_wecom_userid.staff_name_masked) as staff_name_masked,
        ranked.dealer_code,
        ranked.dealer_name,
        ranked.region,
        ranked.metric,
        round(ranked.metric_value, 6) as value,
        cast(ranked.rank_in_dealer as bigint) as rank_in_dealer,
        cast(ranked.rank_in_region as bigint) as rank_in_region,
        cast(ranked.rank_in_nation as bigint) as rank_in_nation,
        cast(ranked.staff_in_dealer as bigint) as staff_in_dealer,
        cast(ranked.staff_in_region as bigint) as staff_in_region,
        cast(ranked.staff_in_nation as bigint) as staff_in_nation

    from ranked
    left join staff_names as by_staff_id
        on ranked.staff_type = 'service_advisor' and ranked.staff_key = by_staff_id.staff_id
    left join staff_names as by_wecom_userid
        on
            ranked.staff_type = 'wecom_consultant'
            and ranked.staff_key = by_wecom_userid.wecom_userid
            and by_wecom_userid.account_rank = 1

)

select
    final.*,
    {{ kpi_is_final('final.period_end', var('kpi_settle_days')) }} as is_final
from final
