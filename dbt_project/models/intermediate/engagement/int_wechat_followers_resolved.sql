-- One row per Official Account openid that followed on or before the cut-off, resolved to its
-- OneID, with its current subscription and whether a bound (有效) binding names it. The
-- wechat_followers mart publishes it; the reminder list takes its channel from it (RULES.md
-- "Channel": wechat when the owner's OneID has a bound, currently subscribed openid).

with

followers as (

    select * from {{ ref('stg_wechat__oa_followers') }}
    where subscribed_at is null or {{ on_or_before_as_of('subscribed_at') }}

),

-- one CTE per identifier type, each read once (see int_vehicle_sales_ranked)
oneids_by_openid as (

    select
        identifier_key,
        oneid
    from {{ ref('stg_identity__oneid_map') }}
    where identifier_type = 'oa_openid'

),

oneids_by_unionid as (

    select
        identifier_key,
        oneid
    from {{ ref('stg_identity__oneid_map') }}
    where identifier_type = 'unionid'

),

bound_openids as (

    select
        openid,
        min(bound_at) as bound_at

    from {{ ref('stg_dms__wechat_bindings') }}
    where binding_status = 'bound' and {{ on_or_before_as_of('bound_at') }}
    group by openid

),

final as (

    select
        ---------- ids
        followers.openid,
        followers.unionid,
        coalesce(by_openid.oneid, by_unionid.oneid) as oneid,

        ---------- subscription (the latest user info WeChat returned)
        coalesce(followers.is_subscribed, false) as is_subscribed,
        followers.subscribed_at,
        followers.subscribe_scene,
        followers.qr_dealer_code,
        followers.fetched_at,

        ---------- binding (公众号注册绑定)
        bound_openids.openid is not null as is_bound,
        bound_openids.bound_at

    from followers
    left join oneids_by_openid as by_openid on followers.openid = by_openid.identifier_key
    left join oneids_by_unionid as by_unionid on followers.unionid = by_unionid.identifier_key
    left join bound_openids on followers.openid = bound_openids.openid

)

select * from final
