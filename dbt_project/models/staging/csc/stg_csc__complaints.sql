with

source as (

    -- the rows known at the cut-off: each key's version in force then (macro landing_as_of)
    {{ landing_as_of('complaints', ['complaint_no']) }}

),

renamed as (

    select
        ---------- ids
        complaint_no,
        dealer_code,
        vin,

        ---------- complainant
        mobile_hmac,
        mobile_status,

        ---------- complaint
        {{ enum_to_code('channel', 'complaint_channel') }} as complaint_channel,
        {{ enum_to_code('category', 'complaint_category') }} as complaint_category,
        {{ enum_to_code('level', 'complaint_level') }} as complaint_level,
        region,
        close_reason,
        cast(vrt as boolean) as is_vrt_started,
        cast(satisfaction as integer) as satisfaction,

        ---------- timestamps
        cast(received_at as timestamp) as received_at,
        cast(deadline_at as timestamp) as deadline_at,
        cast(first_contact_at as timestamp) as first_contact_at,
        cast(escalated_at as timestamp) as escalated_at,
        cast(closed_at as timestamp) as closed_at,
        cast(callback_at as timestamp) as callback_at

    from source

)

select * from renamed
