with

customers as (

    -- a OneID is live while any identifier maps to it
    select distinct oneid from {{ ref('stg_identity__oneid_map') }}

),

profiles as (

    select * from {{ ref('int_customer_profiles') }}

),

provinces as (

    select * from {{ ref('gb2260_provinces') }}

),

owned as (

    select * from {{ ref('int_customer_vehicles') }}

),

service as (

    select * from {{ ref('int_customer_service_summary') }}

),

wechat as (

    select
        oneid,
        true as is_wechat_follower,
        bool_or(is_subscribed) as is_wechat_subscribed,
        bool_or(is_bound) as is_wechat_bound_follower

    from {{ ref('wechat_followers') }}
    where oneid is not null
    group by oneid

),

bindings as (

    select
        oneid,
        bool_or(is_bound) as is_wechat_bound

    from {{ ref('wechat_bindings') }}
    where oneid is not null
    group by oneid

),

consultants as (

    select
        oneid,
        {{ arg_max('consultant_userid', [epoch_seconds('added_at')]) }} as wecom_consultant_userid,
        {{ arg_max('dealer_code', [epoch_seconds('added_at')]) }} as wecom_consultant_dealer_code,
        count(distinct consultant_userid) as wecom_consultants

    from {{ ref('consultant_relationships') }}
    where oneid is not null
    group by oneid

),

complaints as (

    select
        oneid,
        count(*) filter (where is_open) as open_complaints,
        count(*) as complaints_lifetime

    from {{ ref('complaints') }}
    where oneid is not null
    group by oneid

),

campaigns_joined as (

    select
        oneid,
        campaign_code
    from {{ ref('campaign_participation') }}
    where oneid is not null
    union
    select
        oneid,
        {{ unnest_list('campaign_codes_from_visits') }} as campaign_code
    from service

),

campaigns as (

    select
        oneid,
        count(distinct campaign_code) as campaigns_joined,
        {{ string_agg_ordered('campaign_code', "','", 'campaign_code', distinct=true) }} as campaign_codes

    from campaigns_joined
    group by oneid

),

joined as (

    select
        ---------- identity (masked; ID-number derived attributes only)
        customers.oneid,
        profiles.name_masked,
        profiles.mobile_masked,
        profiles.mobile_hmac,
        profiles.id_number_hmac,
        cast(month(profiles.birth_date) as bigint) as birth_month,
        profiles.gender,
        {{ age_band('profiles.birth_date') }} as age_band,
        profiles.province_code,
        provinces.province_name,

        ---------- vehicles and dealers
        coalesce(owned.vehicles_owned_now, 0) as vehicles_owned_now,
        coalesce(owned.vehicles_owned_before, 0) as vehicles_owned_before,
        owned.current_vins,
        owned.last_purchase_date,
        owned.selling_dealer_code,
        owned.servicing_dealer_code,

        ---------- WeChat / WeCom
        coalesce(wechat.is_wechat_follower, false) as is_wechat_follower,
        coalesce(wechat.is_wechat_subscribed, false) as is_wechat_subscribed,
        coalesce(bindings.is_wechat_bound, false)
        or coalesce(wechat.is_wechat_bound_follower, false) as is_wechat_bound,
        consultants.wecom_consultant_userid,
        consultants.wecom_consultant_dealer_code,
        coalesce(consultants.wecom_consultants, 0) as wecom_consultants,

        ---------- service history
        coalesce(service.visits_12m, 0) as visits_12m,
        coalesce(service.visits_24m, 0) as visits_24m,
        coalesce(service.visits_lifetime, 0) as visits_lifetime,
        coalesce(service.revenue_12m, 0) as revenue_12m,
        coalesce(service.revenue_24m, 0) as revenue_24m,
        coalesce(service.lifetime_value, 0) as lifetime_value,
        service.first_visit_date,
        service.last_visit_date,
        service.last_visit_dealer_code,

        ---------- next due dates over the vehicles owned now
        owned.next_maintenance_due_date,
        owned.next_warranty_expiry_date,
        owned.next_insurance_due_date,
        owned.next_inspection_due_date,

        ---------- complaints and campaigns
        coalesce(complaints.open_complaints, 0) as open_complaints,
        coalesce(complaints.complaints_lifetime, 0) as complaints_lifetime,
        coalesce(campaigns.campaigns_joined, 0) as campaigns_joined,
        campaigns.campaign_codes,

        ---------- lapse: from the last visit, else from the latest purchase (RULES.md; macro lapse_status)
        {{ lapse_status('coalesce(service.last_visit_date, owned.last_purchase_date)') }} as lapse_status,
        coalesce(service.visits_12m, 0) > 0 as is_active_12m

    from customers
    left join profiles on customers.oneid = profiles.oneid
    left join provinces on profiles.province_code = provinces.province_code
    left join owned on customers.oneid = owned.oneid
    left join service on customers.oneid = service.oneid
    left join wechat on customers.oneid = wechat.oneid
    left join bindings on customers.oneid = bindings.oneid
    left join consultants on customers.oneid = consultants.oneid
    left join complaints on customers.oneid = complaints.oneid
    left join campaigns on customers.oneid = campaigns.oneid

),

-- 客户分级, RFM-style: recency on the calendar, frequency (visits in 24 months) and monetary
-- (revenue in 24 months) relative to the other customers who came in those 24 months (classic
-- RFM ranks, here tertiles by percent_rank so ties share a score and reruns agree); each 0-3, the
-- sum 0-9 gives the tier (docs/customer-360.md)
ranked as (

    select
        *,
        case
            when visits_24m > 0
                then percent_rank() over (partition by visits_24m > 0 order by visits_24m)
        end as frequency_rank,
        case
            when visits_24m > 0
                then percent_rank() over (partition by visits_24m > 0 order by revenue_24m)
        end as monetary_rank

    from joined

),

scored as (

    select
        {{ star_except(['frequency_rank', 'monetary_rank']) }},
        case
            when last_visit_date > {{ as_of_date() }} - interval 6 month then 3
            when last_visit_date > {{ as_of_date() }} - interval 12 month then 2
            when last_visit_date > {{ as_of_date() }} - interval 24 month then 1
            else 0
        end as recency_score,
        {{ tertile_score('frequency_rank') }} as frequency_score,
        {{ tertile_score('monetary_rank') }} as monetary_score

    from ranked

),

final as (

    select
        *,
        recency_score + frequency_score + monetary_score as rfm_score,
        {{ value_segment('recency_score + frequency_score + monetary_score') }} as value_segment

    from scored

)

select * from final
