-- Campaign KPIs (RULES.md "Campaigns") per campaign and level: participants, participating
-- dealers, arrivals, conversion, new output value. A participant belongs to the campaign's dealer
-- (a dealer campaign), else to the inviting staff member's dealer, else to the car's servicing
-- dealer; a campaign-coded repair order to the dealer that opened it.

with

campaigns as (

    select * from {{ ref('stg_csc__campaigns') }}
    where {{ on_or_before_as_of('start_date') }}

),

participation as (

    select * from {{ ref('campaign_participation') }}

),

staff as (

    select
        staff_id,
        dealer_code
    from {{ ref('stg_master__staff') }}

),

vehicles as (

    select
        vin,
        servicing_dealer_code
    from {{ ref('vehicles') }}

),

repair_orders as (

    select * from {{ ref('repair_orders') }}
    where campaign_code is not null

),

kpi_dealers as (

    select * from {{ ref('int_kpi_dealers') }}

),

participant_rows as (

    select
        participation.campaign_code,
        coalesce(
            case when participation.campaign_scope = 'dealer' then participation.campaign_dealer_code end,
            staff.dealer_code,
            vehicles.servicing_dealer_code
        ) as dealer_code,
        1 as participants,
        case when participation.has_visited then 1 else 0 end as arrivals,
        case when participation.has_visited and participation.campaign_repair_orders > 0 then 1 else 0 end as converted,
        0 as campaign_repair_orders,
        0 as new_output_value

    from participation
    left join staff on participation.invited_by = staff.staff_id
    left join vehicles on participation.vin = vehicles.vin

),

-- ROs coded to the campaign in its window (新增维修产值), participants' or not (a recall has none)
coded_repair_orders as (

    select
        campaigns.campaign_code,
        repair_orders.dealer_code,
        0 as participants,
        0 as arrivals,
        0 as converted,
        1 as campaign_repair_orders,
        coalesce(repair_orders.total_amount, 0) as new_output_value

    from repair_orders
    inner join campaigns
        on
            repair_orders.campaign_code = campaigns.campaign_code
            and repair_orders.visit_date >= campaigns.start_date
            and repair_orders.visit_date <= coalesce(campaigns.end_date, {{ as_of_date() }})

),

by_dealer as (

    select
        activity.campaign_code,
        {{ kpi_dealer_columns('activity.dealer_code') }},
        -- 参与门店数: on a dealer row, whether the dealer took part (so regions add up)
        1 as participating_dealers,
        cast(sum(activity.participants) as bigint) as participants,
        cast(sum(activity.arrivals) as bigint) as arrivals,
        cast(sum(activity.converted) as bigint) as converted,
        cast(sum(activity.campaign_repair_orders) as bigint) as campaign_repair_orders,
        cast(sum(activity.new_output_value) as decimal(18, 2)) as new_output_value

    from (
        select * from participant_rows
        union all
        select * from coded_repair_orders
    ) as activity
    left join kpi_dealers on activity.dealer_code = kpi_dealers.dealer_code
    group by activity.campaign_code, activity.dealer_code, kpi_dealers.dealer_name, kpi_dealers.region

),

levels as (

    select
        campaign_code,
        'dealer' as level,
        dealer_code as level_key,
        region,
        dealer_code,
        dealer_name,
        participating_dealers,
        participants,
        arrivals,
        converted,
        campaign_repair_orders,
        new_output_value
    from by_dealer

    union all

    select
        campaign_code,
        'region' as level,
        region as level_key,
        region,
        null as dealer_code,
        null as dealer_name,
        cast(sum(participating_dealers) as bigint) as participating_dealers,
        cast(sum(participants) as bigint) as participants,
        cast(sum(arrivals) as bigint) as arrivals,
        cast(sum(converted) as bigint) as converted,
        cast(sum(campaign_repair_orders) as bigint) as campaign_repair_orders,
        cast(sum(new_output_value) as decimal(18, 2)) as new_output_value
    from by_dealer
    group by campaign_code, region

),

-- every campaign has its nation row, even before anyone registered
nation as (

    select
        campaigns.campaign_code,
        'nation' as level,
        'nation' as level_key,
        null as region,
        null as dealer_code,
        null as dealer_name,
        cast(coalesce(sum(by_dealer.participating_dealers), 0) as bigint) as participating_dealers,
        cast(coalesce(sum(by_dealer.participants), 0) as bigint) as participants,
        cast(coalesce(sum(by_dealer.arrivals), 0) as bigint) as arrivals,
        cast(coalesce(sum(by_dealer.converted), 0) as bigint) as converted,
        cast(coalesce(sum(by_dealer.campaign_repair_orders), 0) as bigint) as campaign_repair_orders,
        cast(coalesce(sum(by_dealer.new_output_value), 0) as decimal(18, 2)) as new_output_value
    from campaigns
    left join by_dealer on campaigns.campaign_code = by_dealer.campaign_code
    group by campaigns.campaign_code

),

final as (

    select
        campaigns.campaign_code,
        campaigns.campaign_name,
        campaigns.campaign_scope,
        campaigns.dealer_code as campaign_dealer_code,
        campaigns.start_date as campaign_start_date,
        campaigns.end_date as campaign_end_date,
        coalesce({{ kpi_is_final('campaigns.end_date', var('kpi_settle_days')) }}, false) as is_final,
        all_levels.level,
        all_levels.level_key,
        all_levels.region,
        all_levels.dealer_code,
        all_levels.dealer_name,
        all_levels.participants,
        all_levels.participating_dealers,
        all_levels.arrivals,
        all_levels.converted,
        all_levels.campaign_repair_orders,
        all_levels.new_output_value,
        {{ kpi_rate('all_levels.arrivals', 'all_levels.participants') }} as arrival_rate,
        {{ kpi_rate('all_levels.converted', 'all_levels.arrivals') }} as conversion_rate

    from (
        select * from levels
        union all
        select * from nation
    ) as all_levels
    inner join campaigns on all_levels.campaign_code = campaigns.campaign_code

)

select * from final
