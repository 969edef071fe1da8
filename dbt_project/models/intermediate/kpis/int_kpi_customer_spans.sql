-- The base's states as month ranges: how many entities (vehicles, followers, owners) of a dealer
-- are in a state for the run of month ends [start_month, end_month) (end_month null: still in it
-- at the last KPI month). Summing their count at the start and subtracting it at the end over
-- the months gives each month end's count without a row per entity and month
-- (int_kpi_customer_months). Every entity counts at today's dealer (docs/kpis.md).
--
--   vehicles_active / _at_risk / _lapsed   lapse status of a vehicle at each month end, from its
--                                          reference date (the last visit, else the latest purchase),
--                                          the rule of macro lapse_status evaluated at every month end
--   retention_base / retained              a visit 24..13 months before / and one in the last 12
--   followers                              subscribed Official Account followers
--   owners / bound_owners / reachable_owners   OneIDs owning a car; with a bound openid; subscribed too
--
-- Months are integer indices (macro month_index) until the end: a visit is a row here.

{%- set first_month = kpi_month_index(var('kpi_history_months') | int - 1) | int %}
{%- set last_month = kpi_month_index(0) | int %}
{%- set retention = var('kpi_retention_months') | int %}

with

vehicles as (

    select
        vin,
        servicing_dealer_code
    from {{ ref('vehicles') }}

),

visits as (

    select distinct
        repair_orders.vin,
        repair_orders.visit_date,
        vehicles.servicing_dealer_code as dealer_code
    from {{ ref('int_repair_orders_attributed') }} as repair_orders
    inner join vehicles on repair_orders.vin = vehicles.vin

),

first_visits as (

    select
        vin,
        min(visit_date) as first_visit_date
    from visits
    group by vin

),

-- a purchase is the reference only until the first visit (last visit, else latest purchase)
purchases as (

    select
        sales.vin,
        sales.invoice_date as reference_date,
        vehicles.servicing_dealer_code as dealer_code
    from {{ ref('int_vehicle_sales_ranked') }} as sales
    inner join vehicles on sales.vin = vehicles.vin
    left join first_visits on sales.vin = first_visits.vin
    where first_visits.first_visit_date is null or sales.invoice_date < first_visits.first_visit_date

),

-- (a purchase is before the first visit, so never on a visit's day)
reference_dates as (

    select
        vin,
        dealer_code,
        visit_date as reference_date
    from visits
    union all
    select
        vin,
        dealer_code,
        reference_date
    from purchases

),

references_in_force as (

    select
        dealer_code,
        {{ month_index('reference_date') }} as reference_month,
        {{ month_index('lead(reference_date) over (partition by vin order by reference_date)') }}
            as next_reference_month,
        {{ month_status_ends('reference_date', var('at_risk_months')) }} as at_risk_from_month,
        {{ month_status_ends('reference_date', var('lapsed_months')) }} as lapsed_from_month

    from reference_dates

),

-- a reference decides the status for the months up to the next reference's month
status_spans as (

    select
        dealer_code,
        'vehicles_active' as measure,
        reference_month as start_month,
        case
            when next_reference_month < at_risk_from_month then next_reference_month else at_risk_from_month
        end as end_month
    from references_in_force

    union all

    select
        dealer_code,
        'vehicles_at_risk' as measure,
        at_risk_from_month as start_month,
        case
            when next_reference_month is null or next_reference_month > lapsed_from_month then lapsed_from_month
            else next_reference_month
        end as end_month
    from references_in_force

    union all

    select
        dealer_code,
        'vehicles_lapsed' as measure,
        lapsed_from_month as start_month,
        next_reference_month as end_month
    from references_in_force

),

visit_months as (

    select distinct
        vin,
        dealer_code,
        {{ month_index('visit_date') }} as visit_month
    from visits

),

visit_months_sequenced as (

    select
        dealer_code,
        visit_month,
        lead(visit_month) over (partition by vin order by visit_month) as next_visit_month
    from visit_months

),

-- at month M the base holds a vehicle whose latest visit up to M-12 is no older than M-23, and
-- retains it when its next visit came by M: month ranges per visit month v with next visit n
retention_spans as (

    select
        dealer_code,
        'retention_base' as measure,
        visit_month + {{ retention }} as start_month,
        case
            when next_visit_month is not null and next_visit_month < visit_month + {{ retention }}
                then next_visit_month + {{ retention }}
            else visit_month + {{ 2 * retention }}
        end as end_month
    from visit_months_sequenced

    union all

    select
        dealer_code,
        'retained' as measure,
        case
            when next_visit_month > visit_month + {{ retention }} then next_visit_month
            else visit_month + {{ retention }}
        end as start_month,
        case
            when next_visit_month < visit_month + {{ retention }} then next_visit_month + {{ retention }}
            else visit_month + {{ 2 * retention }}
        end as end_month
    from visit_months_sequenced
    where next_visit_month is not null

),

customers as (

    select
        oneid,
        servicing_dealer_code
    from {{ ref('customer_360') }}

),

-- subscribed followers (WeChat keeps no unsubscribe history: a follower who left is gone from
-- every month), at their QR code's dealer, else their servicing dealer
follower_spans as (

    select
        coalesce(followers.qr_dealer_code, customers.servicing_dealer_code) as dealer_code,
        'followers' as measure,
        coalesce({{ month_index('followers.subscribed_at') }}, {{ first_month }}) as start_month,
        cast(null as integer) as end_month
    from {{ ref('wechat_followers') }} as followers
    left join customers on followers.oneid = customers.oneid
    where followers.is_subscribed

),

-- a OneID owns a car from an invoice date until the next sale of that car; its overlapping
-- ownerships (two cars) are merged into islands so the person counts once
ownerships as (

    select
        owner_oneid as oneid,
        invoice_date as owned_from,
        coalesce(next_invoice_date, cast('9999-12-31' as date)) as owned_until
    from {{ ref('int_vehicle_sales_ranked') }}
    where owner_oneid is not null

),

ownerships_ordered as (

    select
        oneid,
        owned_from,
        owned_until,
        max(owned_until) over (
            partition by oneid order by owned_from, owned_until rows between unbounded preceding and 1 preceding
        ) as owned_until_before
    from ownerships

),

ownership_islands_numbered as (

    select
        oneid,
        owned_from,
        owned_until,
        sum(case when owned_until_before >= owned_from then 0 else 1 end) over (
            partition by oneid order by owned_from, owned_until rows unbounded preceding
        ) as island
    from ownerships_ordered

),

ownership_islands as (

    select
        oneid,
        min(owned_from) as owned_from,
        max(owned_until) as owned_until
    from ownership_islands_numbered
    group by oneid, island

),

bound_since as (

    select
        oneid,
        min(bound_at) as bound_at
    from {{ ref('wechat_bindings') }}
    where is_bound and oneid is not null and {{ on_or_before_as_of('bound_at') }}
    group by oneid

),

reachable_since as (

    select
        oneid,
        min(case when bound_at > subscribed_at or subscribed_at is null then bound_at else subscribed_at end)
            as reachable_at
    from {{ ref('wechat_followers') }}
    where is_subscribed and is_bound and oneid is not null
    group by oneid

),

owner_states as (

    select
        customers.servicing_dealer_code as dealer_code,
        {{ month_index('ownership_islands.owned_from') }} as owned_from_month,
        case
            when ownership_islands.owned_until < cast('9999-01-01' as date)
                then {{ month_index('ownership_islands.owned_until') }}
        end as owned_until_month,
        {{ month_index('bound_since.bound_at') }} as bound_month,
        {{ month_index('reachable_since.reachable_at') }} as reachable_month
    from ownership_islands
    left join customers on ownership_islands.oneid = customers.oneid
    left join bound_since on ownership_islands.oneid = bound_since.oneid
    left join reachable_since on ownership_islands.oneid = reachable_since.oneid

),

owner_spans as (

    select
        dealer_code,
        'owners' as measure,
        owned_from_month as start_month,
        owned_until_month as end_month
    from owner_states

    union all

    select
        dealer_code,
        'bound_owners' as measure,
        case when bound_month > owned_from_month then bound_month else owned_from_month end as start_month,
        owned_until_month as end_month
    from owner_states
    where bound_month is not null

    union all

    select
        dealer_code,
        'reachable_owners' as measure,
        case when reachable_month > owned_from_month then reachable_month else owned_from_month end as start_month,
        owned_until_month as end_month
    from owner_states
    where reachable_month is not null

),

all_spans as (

    select * from status_spans
    union all
    select * from retention_spans
    union all
    select * from follower_spans
    union all
    select * from owner_spans

),

-- counted per dealer and month range, the range cut to the KPI months: a start before them is
-- the month before the first (it only matters that it is not inside), an end after them none
in_range as (

    select
        measure,
        coalesce(dealer_code, 'unassigned') as dealer_code,
        case when start_month < {{ first_month }} then {{ first_month - 1 }} else start_month end as start_month,
        case when end_month <= {{ last_month }} then end_month end as end_month
    from all_spans
    where
        (end_month is null or end_month > start_month)
        and (end_month is null or end_month > {{ first_month }})
        and start_month <= {{ last_month }}

),

counted as (

    select
        measure,
        dealer_code,
        start_month,
        end_month,
        count(*) as entities
    from in_range
    group by measure, dealer_code, start_month, end_month

),

final as (

    select
        measure,
        dealer_code,
        {{ month_from_index('start_month') }} as start_month,
        {{ month_from_index('end_month') }} as end_month,
        entities
    from counted

)

select * from final
