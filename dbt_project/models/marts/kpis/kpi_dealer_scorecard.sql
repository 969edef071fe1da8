-- The dealer scorecard (the platform plan's dealer performance evaluation): per period and dealer,
-- the component KPIs beside its region's and the nation's, a weighted score (weights: vars
-- kpi_weight_<component>, config [kpi]), and the dealer's rank in its region and the nation.

{%- set components = {
    'completion_rate': 'kpi_reminders_monthly',
    'return_rate': 'kpi_reminders_monthly',
    'show_rate': 'kpi_bookings_monthly',
    'feedback_rate': 'kpi_bookings_monthly',
    'closed_within_deadline_rate': 'kpi_complaints_monthly',
    'first_contact_24h_rate': 'kpi_complaints_monthly',
    'wechat_reachable_share': 'kpi_customers_monthly',
    'retention_12m_rate': 'kpi_customers_monthly',
} %}
{%- set totals = {
    'kpi_reminders_monthly': "reminder_type = 'all'",
    'kpi_bookings_monthly': "booking_channel = 'all'",
    'kpi_complaints_monthly': "complaint_channel = 'all' and complaint_category = 'all' and complaint_level = 'all'",
    'kpi_customers_monthly': "true",
} %}

with

-- each source table's total rows (no breakdown), month / quarter / year
component_values as (

    {%- for component, table in components.items() %}
        select
            period_grain,
            period_start,
            period_end,
            level,
            level_key,
            region,
            dealer_code,
            dealer_name,
            is_final,
            '{{ component }}' as component,
            {{ component }} as component_value
        from {{ ref(table) }}
        where {{ totals[table] }} and period_grain in ('month', 'quarter', 'year')
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

-- one row per period and level member with every component, and its weighted score: the
-- components it has, their weights renormalised to add up to one
scored as (

    select
        period_grain,
        period_start,
        max(period_end) as period_end,
        level,
        level_key,
        max(region) as region,
        max(dealer_code) as dealer_code,
        max(dealer_name) as dealer_name,
        min(case when is_final then 1 else 0 end) = 1 as is_final,
        {%- for component in components %}
            max(case when component = '{{ component }}' then component_value end) as {{ component }},
        {%- endfor %}
        round(100.0 * sum(
            case
                {%- for component in components %}
                    when component = '{{ component }}' then {{ var('kpi_weight_' ~ component) }} * component_value
                {%- endfor %}
            end
        ) / nullif(sum(
            case
                {%- for component in components %}
                    when component = '{{ component }}' and component_value is not null
                        then {{ var('kpi_weight_' ~ component) }}
                {%- endfor %}
            end
        ), 0), 2) as score,
        cast(count(component_value) as bigint) as components_scored

    from component_values
    group by period_grain, period_start, level, level_key

),

dealers as (

    select * from scored
    where level = 'dealer' and level_key != 'unassigned'

),

regions as (

    select * from scored
    where level = 'region'

),

nation as (

    select * from scored
    where level = 'nation'

),

compared as (

    select
        dealers.period_grain,
        dealers.period_start,
        dealers.period_end,
        case when dealers.period_grain = 'month' then dealers.period_start end as month,
        dealers.dealer_code,
        dealers.dealer_name,
        dealers.region,
        dealers.is_final,
        {%- for component in components %}
            dealers.{{ component }},
            regions.{{ component }} as region_{{ component }},
            nation.{{ component }} as nation_{{ component }},
        {%- endfor %}
        dealers.components_scored,
        dealers.score,
        regions.score as region_score,
        nation.score as nation_score,
        round(dealers.score - regions.score, 2) as score_vs_region,
        round(dealers.score - nation.score, 2) as score_vs_nation

    from dealers
    left join regions
        on
            dealers.period_grain = regions.period_grain
            and dealers.period_start = regions.period_start
            and dealers.region = regions.level_key
    left join nation
        on
            dealers.period_grain = nation.period_grain
            and dealers.period_start = nation.period_start

),

final as (

    select
        *,
        cast(rank() over (
            partition by period_grain, period_start, region order by score desc nulls last
        ) as bigint) as rank_in_region,
        cast(rank() over (
            partition by period_grain, period_start order by score desc nulls last
        ) as bigint) as rank_in_nation,
        cast(count(*) over (partition by period_grain, period_start, region) as bigint) as dealers_in_region,
        cast(count(*) over (partition by period_grain, period_start) as bigint) as dealers_in_nation

    from compared

)

select * from final
