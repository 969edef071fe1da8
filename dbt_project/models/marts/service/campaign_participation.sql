with

participants as (

    select * from {{ ref('stg_csc__campaign_participants') }}
    where {{ on_or_before_as_of('registered_at') }}

),

campaigns as (

    select * from {{ ref('stg_csc__campaigns') }}

),

repair_orders as (

    select
        ro_no,
        vin,
        visit_date,
        campaign_code,
        total_amount
    from {{ ref('int_repair_orders_attributed') }}

),

-- the participant's visits between registration and the campaign's end (到店), and those of
-- them that carry the campaign code (转化) with their revenue (新增维修产值)
visits as (

    select
        participants.participant_id,
        count(*) as visits_in_window,
        count(*) filter (where repair_orders.campaign_code = participants.campaign_code) as campaign_repair_orders,
        coalesce(sum(repair_orders.total_amount) filter (
            where repair_orders.campaign_code = participants.campaign_code
        ), 0) as campaign_revenue

    from participants
    inner join campaigns on participants.campaign_code = campaigns.campaign_code
    inner join repair_orders
        on
            participants.vin = repair_orders.vin
            and repair_orders.visit_date >= cast(participants.registered_at as date)
            and repair_orders.visit_date <= coalesce(campaigns.end_date, date '9999-12-31')
    group by participants.participant_id

),

attributed as (

    select
        ---------- ids
        participants.participant_id,
        participants.campaign_code,
        {{ attributed_oneid('participants') }} as oneid,
        participants.vin,
        participants.invited_by,

        ---------- campaign
        campaigns.campaign_name,
        campaigns.campaign_scope,
        campaigns.dealer_code as campaign_dealer_code,
        campaigns.start_date as campaign_start_date,
        campaigns.end_date as campaign_end_date,

        ---------- registration and outcome
        participants.registration_channel,
        participants.registered_at,
        coalesce(visits.visits_in_window, 0) > 0 as has_visited,
        coalesce(visits.campaign_repair_orders, 0) as campaign_repair_orders,
        -- a sum of amounts as decimal(38,2) on every engine (Spark widens a sum by 10 digits only)
        cast(coalesce(visits.campaign_revenue, 0) as decimal(38, 2)) as campaign_revenue

    from participants
    left join campaigns on participants.campaign_code = campaigns.campaign_code
    left join visits on participants.participant_id = visits.participant_id
    {{ attribution_joins('participants', 'registered_at') }}

)

select * from attributed
