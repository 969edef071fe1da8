with

source as (

    -- the rows known at the cut-off: each key's version in force then (macro landing_as_of)
    {{ landing_as_of('bookings', ['booking_id']) }}

),

renamed as (

    select
        ---------- ids
        booking_id,
        openid,
        vin,
        dealer_code,

        ---------- contact
        mobile_hmac,
        mobile_status,
        mobile_masked,

        ---------- booking
        {{ enum_to_code('channel', 'booking_channel') }} as booking_channel,
        {{ enum_to_code('service_item', 'booking_item') }} as service_item,
        {{ enum_to_code('status', 'booking_status') }} as booking_status,
        cast(feedback_required as boolean) as is_feedback_required,
        feedback_result,

        ---------- dates
        cast(created_at as timestamp) as created_at,
        cast(scheduled_date as date) as scheduled_date,
        cast(feedback_at as timestamp) as feedback_at

    from source

)

select * from renamed
