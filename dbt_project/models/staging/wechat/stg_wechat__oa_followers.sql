with

source as (

    select * from {{ source('wechat', 'oa_followers') }}

),

renamed as (

    select
        ---------- ids
        openid,
        nullif(trim(unionid), '') as unionid,

        ---------- subscription
        cast(subscribe as boolean) as is_subscribed,
        subscribe_scene,
        qr_scene_str,
        -- a dealer's QR code carries dealer_<code> in its scene string
        case
            when substr(qr_scene_str, 1, 7) = 'dealer_' then substr(qr_scene_str, 8)
        end as qr_dealer_code,
        tagid_list,

        ---------- timestamps
        cast(subscribe_time as timestamp) as subscribed_at,
        cast(fetched_at as timestamp) as fetched_at

    from source

)

select * from renamed
