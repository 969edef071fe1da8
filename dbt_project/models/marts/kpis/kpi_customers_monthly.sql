-- Customer-base KPIs (RULES.md "Customers") at each month end, by level: followers, owners bound
-- and reachable on WeChat, vehicles active / at risk / lapsed, first-service rate, 12-month
-- retention. States (stocks) take a quarter's or year's last month; flows add up.

with

customer_months as (

    select * from {{ ref('int_kpi_customer_months') }}

),

kpi_dealers as (

    select * from {{ ref('int_kpi_dealers') }}

),

customer_rows as (

    select
        customer_months.month_start,
        {{ kpi_dealer_columns('customer_months.dealer_code') }},
        customer_months.followers,
        customer_months.followers_new,
        customer_months.owners,
        customer_months.bound_owners,
        customer_months.reachable_owners,
        customer_months.vehicles_active + customer_months.vehicles_at_risk + customer_months.vehicles_lapsed
            as vehicles,
        customer_months.vehicles_active,
        customer_months.vehicles_at_risk,
        customer_months.vehicles_lapsed,
        customer_months.vehicles_turned_lapsed,
        customer_months.first_service_due,
        customer_months.first_service_done,
        customer_months.retention_base,
        customer_months.retained

    from customer_months
    left join kpi_dealers on customer_months.dealer_code = kpi_dealers.dealer_code

),

{{ kpi_rollup(
    'customer_rows',
    'month_start',
    sums=['followers_new', 'vehicles_turned_lapsed', 'first_service_due', 'first_service_done'],
    stocks=[
        'followers', 'owners', 'bound_owners', 'reachable_owners', 'vehicles', 'vehicles_active',
        'vehicles_at_risk', 'vehicles_lapsed', 'retention_base', 'retained',
    ],
) }},

final as (

    select
        *,
        {{ kpi_rate('bound_owners', 'owners') }} as bound_owner_share,
        {{ kpi_rate('reachable_owners', 'owners') }} as wechat_reachable_share,
        {{ kpi_rate('vehicles_active + vehicles_at_risk', 'vehicles') }} as active_12m_share,
        {{ kpi_rate('vehicles_lapsed', 'vehicles') }} as lapsed_share,
        {{ kpi_rate('first_service_done', 'first_service_due') }} as first_service_rate,
        {{ kpi_rate('retained', 'retention_base') }} as retention_12m_rate

    from kpi_rows

)

select * from final
