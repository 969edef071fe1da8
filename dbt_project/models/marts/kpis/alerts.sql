-- Warnings (the platform plan's risk warnings), one row per warning and month: complaints open
-- past their deadline, a reminder return or completion rate falling more than a margin below the
-- level member's own recent months, a spike of vehicles turning lapsed, a dealer whose export did
-- not arrive. Thresholds are vars kpi_alert_* (config [kpi]); docs/kpis.md explains each.

{%- set baseline_months = var('kpi_alert_baseline_months') | int %}

with

reminders as (

    select * from {{ ref('kpi_reminders_monthly') }}
    where period_grain = 'month' and reminder_type = 'all'

),

customers as (

    select * from {{ ref('kpi_customers_monthly') }}
    where period_grain = 'month'

),

complaints as (

    select * from {{ ref('kpi_complaints_monthly') }}
    where
        period_grain = 'month' and level = 'dealer'
        and complaint_channel = 'all' and complaint_category = 'all' and complaint_level = 'all'

),

workshop as (

    select * from {{ ref('kpi_workshop_flow') }}
    where period_grain = 'month' and level = 'dealer' and service_type = 'all'

),

kpi_dealers as (

    select * from {{ ref('int_kpi_dealers') }}

),

-- a rate against the same rate over the member's previous months, pooled from their counts
reminder_baselines as (

    select
        *,
        {%- for rate, numerator in [('return_rate', 'returned'), ('completion_rate', 'tracked')] %}
            sum({{ numerator }}) over recent as {{ numerator }}_before,
        {%- endfor %}
        sum(due) over recent as due_before,
        count(*) over recent as months_before

    from reminders
    window recent as (
        partition by level, level_key order by month rows between {{ baseline_months }} preceding and 1 preceding
    )

),

rate_drops as (

    {%- for rate, numerator in [('return_rate', 'returned'), ('completion_rate', 'tracked')] %}
        select
            month,
            '{{ rate }}_drop' as alert_code,
            level,
            level_key,
            region,
            dealer_code,
            dealer_name,
            '{{ rate }}' as metric,
            {{ rate }} as metric_value,
            {{ kpi_rate(numerator ~ '_before', 'due_before') }} - {{ var('kpi_alert_rate_drop') }} as threshold,
            {{ kpi_rate(numerator ~ '_before', 'due_before') }} as baseline,
            is_final
        from reminder_baselines
        where
            months_before = {{ baseline_months }}
            and due >= {{ var('kpi_alert_min_due') }}
            and {{ rate }} < {{ kpi_rate(numerator ~ '_before', 'due_before') }} - {{ var('kpi_alert_rate_drop') }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

lapse_baselines as (

    select
        *,
        avg(cast(vehicles_turned_lapsed as double)) over recent as turned_lapsed_mean,
        count(*) over recent as months_before

    from customers
    window recent as (
        partition by level, level_key order by month rows between {{ baseline_months }} preceding and 1 preceding
    )

),

lapse_spikes as (

    select
        month,
        'lapse_spike' as alert_code,
        level,
        level_key,
        region,
        dealer_code,
        dealer_name,
        'vehicles_turned_lapsed' as metric,
        cast(vehicles_turned_lapsed as double) as metric_value,
        case
            when (1 + {{ var('kpi_alert_lapse_spike_ratio') }}) * turned_lapsed_mean
                > {{ var('kpi_alert_lapse_spike_min') }}
                then (1 + {{ var('kpi_alert_lapse_spike_ratio') }}) * turned_lapsed_mean
            else cast({{ var('kpi_alert_lapse_spike_min') }} as double)
        end as threshold,
        turned_lapsed_mean as baseline,
        is_final
    from lapse_baselines
    where
        months_before = {{ baseline_months }}
        and vehicles_turned_lapsed >= {{ var('kpi_alert_lapse_spike_min') }}
        and vehicles_turned_lapsed > (1 + {{ var('kpi_alert_lapse_spike_ratio') }}) * turned_lapsed_mean

),

overdue_complaints as (

    select
        month,
        'complaint_overdue' as alert_code,
        level,
        level_key,
        region,
        dealer_code,
        dealer_name,
        'overdue_open_at_period_end' as metric,
        cast(overdue_open_at_period_end as double) as metric_value,
        0.0 as threshold,
        cast(null as double) as baseline,
        is_final
    from complaints
    where overdue_open_at_period_end > 0

),

-- an open dealer that had repair orders in each of its previous months has none this month: its
-- DMS/CSC export did not arrive (the exports carry every dealer's orders of the month)
export_gaps as (

    select
        workshop.*,
        sum(workshop.repair_orders) over recent as repair_orders_before,
        min(workshop.repair_orders) over recent as fewest_repair_orders_before,
        count(*) over recent as months_before

    from workshop
    window recent as (
        partition by workshop.dealer_code order by workshop.month
        rows between {{ baseline_months }} preceding and 1 preceding
    )

),

missing_exports as (

    select
        export_gaps.month,
        'no_export' as alert_code,
        export_gaps.level,
        export_gaps.level_key,
        export_gaps.region,
        export_gaps.dealer_code,
        export_gaps.dealer_name,
        'repair_orders' as metric,
        0.0 as metric_value,
        1.0 as threshold,
        cast(export_gaps.repair_orders_before as double) as baseline,
        export_gaps.is_final
    from export_gaps
    left join kpi_dealers on export_gaps.dealer_code = kpi_dealers.dealer_code
    where
        export_gaps.repair_orders = 0
        and export_gaps.months_before = {{ baseline_months }}
        and export_gaps.fewest_repair_orders_before > 0
        and export_gaps.dealer_code != 'unassigned'
        -- 停业: the master's status of a closed dealer, which sends nothing any more
        and coalesce(kpi_dealers.dealer_status, '') != '停业'

),

warnings as (

    select * from rate_drops
    union all
    select * from lapse_spikes
    union all
    select * from overdue_complaints
    union all
    select * from missing_exports

),

-- the member the message names: the dealer, the region or the nation
named as (

    select
        *,
        case level
            when 'dealer' then {{ dbt.concat(["coalesce(dealer_name, dealer_code)", "'（'", "dealer_code", "'）'"]) }}
            when 'region' then region
            else '全国'
        end as member_zh,
        case level
            when 'dealer' then {{ dbt.concat(["'dealer '", "dealer_code"]) }}
            when 'region' then {{ dbt.concat(["'region '", "region"]) }}
            else 'the nation'
        end as member_en,
        cast(round(100 * metric_value, 1) as {{ dbt.type_string() }}) as value_pct,
        cast(round(100 * baseline, 1) as {{ dbt.type_string() }}) as baseline_pct,
        cast(cast(metric_value as bigint) as {{ dbt.type_string() }}) as value_count,
        cast(cast(round(baseline, 0) as bigint) as {{ dbt.type_string() }}) as baseline_count
    from warnings

),

final as (

    select
        month,
        alert_code,
        level,
        level_key,
        region,
        dealer_code,
        dealer_name,
        metric,
        round(metric_value, 6) as value,
        round(threshold, 6) as threshold,
        round(baseline, 6) as baseline,
        case alert_code
            when 'complaint_overdue' then {{ dbt.concat(["member_zh", "'：'", "value_count", "' 件投诉超时未关闭'"]) }}
            when 'return_rate_drop' then {{ dbt.concat([
                "member_zh", "'：提醒回厂率 '", "value_pct", "'%，低于近 " ~ baseline_months ~ " 个月的 '", "baseline_pct", "'%'",
            ]) }}
            when 'completion_rate_drop' then {{ dbt.concat([
                "member_zh", "'：提醒完成率 '", "value_pct", "'%，低于近 " ~ baseline_months ~ " 个月的 '", "baseline_pct", "'%'",
            ]) }}
            when 'lapse_spike' then {{ dbt.concat([
                "member_zh", "'：本月 '", "value_count", "' 辆车转为流失，近 " ~ baseline_months ~ " 个月平均 '", "baseline_count", "' 辆'",
            ]) }}
            when 'no_export' then {{ dbt.concat(["member_zh", "'：本月未收到维修工单导出'"]) }}
        end as message_zh,
        case alert_code
            when
                'complaint_overdue'
                then {{ dbt.concat(["member_en", "': '", "value_count", "' complaints open past their deadline'"]) }}
            when 'return_rate_drop' then {{ dbt.concat([
                "member_en", "': reminder return rate '", "value_pct", "'%, below its last " ~ baseline_months ~ " months'' '", "baseline_pct", "'%'",
            ]) }}
            when 'completion_rate_drop' then {{ dbt.concat([
                "member_en", "': reminder completion rate '", "value_pct", "'%, below its last " ~ baseline_months ~ " months'' '", "baseline_pct", "'%'",
            ]) }}
            when 'lapse_spike' then {{ dbt.concat([
                "member_en", "': '", "value_count", "' vehicles turned lapsed this month, against '", "baseline_count", "' a month over the last " ~ baseline_months ~ " months'",
            ]) }}
            when 'no_export' then {{ dbt.concat(["member_en", "': no repair-order export this month'"]) }}
        end as message_en,
        is_final

    from named

)

select * from final
