-- The base's counts per dealer and KPI month (docs/kpis.md, kpi_customers_monthly): the states of
-- int_kpi_customer_spans counted at each month end (a running sum of +1 at a range's start and -1
-- at its end; ranges that began before the first KPI month start there), and the month's flows:
-- followers subscribing, vehicles turning lapsed, first services due and done.

with

calendar as (

    select month_start from {{ ref('int_kpi_calendar') }}

),

spans as (

    select * from {{ ref('int_kpi_customer_spans') }}

),

changes as (

    select
        measure,
        dealer_code,
        case when start_month < {{ kpi_first_month() }} then {{ kpi_first_month() }} else start_month end
            as change_month,
        entities as month_change
    from spans

    union all

    select
        measure,
        dealer_code,
        end_month as change_month,
        -entities as month_change
    from spans
    where end_month is not null

),

changes_per_month as (

    select
        measure,
        dealer_code,
        change_month,
        sum(month_change) as month_change
    from changes
    group by measure, dealer_code, change_month

),

grid as (

    select
        members.measure,
        members.dealer_code,
        calendar.month_start
    from (
        select distinct
            measure,
            dealer_code
        from changes_per_month
    ) as members
    cross join calendar

),

stocks as (

    select
        grid.measure,
        grid.dealer_code,
        grid.month_start,
        sum(coalesce(changes_per_month.month_change, 0)) over (
            partition by grid.measure, grid.dealer_code order by grid.month_start rows unbounded preceding
        ) as entities
    from grid
    left join changes_per_month
        on
            grid.measure = changes_per_month.measure
            and grid.dealer_code = changes_per_month.dealer_code
            and grid.month_start = changes_per_month.change_month

),

-- the month's flows
turned_lapsed as (

    select
        'vehicles_turned_lapsed' as measure,
        dealer_code,
        start_month as month_start,
        sum(entities) as entities
    from spans
    where measure = 'vehicles_lapsed'
        and start_month >= {{ kpi_first_month() }}
        and start_month <= {{ kpi_last_month() }}
    group by dealer_code, start_month

),

new_followers as (

    select
        'followers_new' as measure,
        dealer_code,
        start_month as month_start,
        sum(entities) as entities
    from spans
    where measure = 'followers' and start_month >= {{ kpi_first_month() }} and start_month <= {{ kpi_last_month() }}
    group by dealer_code, start_month

),

-- 首保率: the vehicles whose first-maintenance window (first invoice + first_service_months +
-- first_service_grace_months) ends in the month, and those that had a maintenance RO by then
first_services as (

    select
        vehicles.vin,
        vehicles.servicing_dealer_code as dealer_code,
        {{ add_months(
            var('first_service_months') + var('first_service_grace_months'),
            month_start('vehicles.first_invoice_date'),
        ) }} as window_end_month,
        min(repair_orders.visit_date) as first_maintenance_date
    from {{ ref('vehicles') }} as vehicles
    left join {{ ref('int_repair_orders_attributed') }} as repair_orders
        on vehicles.vin = repair_orders.vin and repair_orders.is_maintenance
    group by vehicles.vin, vehicles.servicing_dealer_code, vehicles.first_invoice_date

),

first_service_flows as (

    select
        'first_service_due' as measure,
        dealer_code,
        window_end_month as month_start,
        count(*) as entities
    from first_services
    where window_end_month >= {{ kpi_first_month() }} and window_end_month <= {{ kpi_last_month() }}
    group by dealer_code, window_end_month

    union all

    select
        'first_service_done' as measure,
        dealer_code,
        window_end_month as month_start,
        count(*) as entities
    from first_services
    where
        window_end_month >= {{ kpi_first_month() }} and window_end_month <= {{ kpi_last_month() }}
        and first_maintenance_date <= {{ dbt.last_day('window_end_month', 'month') }}
    group by dealer_code, window_end_month

),

measures as (

    select
        measure,
        dealer_code,
        month_start,
        entities
    from stocks
    union all
    select * from turned_lapsed
    union all
    select * from new_followers
    union all
    select * from first_service_flows

),

final as (

    select
        dealer_code,
        month_start,
        {%- for measure in [
            'followers', 'followers_new', 'owners', 'bound_owners', 'reachable_owners',
            'vehicles_active', 'vehicles_at_risk', 'vehicles_lapsed', 'vehicles_turned_lapsed',
            'first_service_due', 'first_service_done', 'retention_base', 'retained',
        ] %}
            coalesce(sum(case when measure = '{{ measure }}' then entities end), 0) as {{ measure }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from measures
    group by dealer_code, month_start

)

select * from final
