with

source as (

    -- the rows known at the cut-off: each key's version in force then (macro landing_as_of)
    {{ landing_as_of('campaign_participants', ['participant_id']) }}

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
        {{ enum_to_code('channel', 'participant_channel') }} as registration_channel,
        cast(registered_at as timestamp) as registered_at

    from source

)

select * from renamed
