with

source as (

    select * from {{ source('landing', 'campaign_participants') }}

),

renamed as (

    select
        ---------- ids
        participant_id,
        campaign_code,
        vin,
        openid,
        invited_by,

        ---------- contact
        mobile_hmac,
        mobile_status,

        ---------- registration
        {{ enum_to_code('channel', participant_channel_codes()) }} as registration_channel,
        cast(registered_at as timestamp) as registered_at

    from source

)

select * from renamed
