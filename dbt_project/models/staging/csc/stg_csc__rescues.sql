with

source as (

    -- the rows known at the cut-off: each key's version in force then (macro landing_as_of)
    {{ landing_as_of('rescues', ['request_no']) }}

),

renamed as (

    select
        ---------- ids
        request_no,
        vin,
        dispatched_dealer as dispatched_dealer_code,

        ---------- requester
        mobile_hmac,
        mobile_status,

        ---------- request
        city,
        cast(valid as boolean) as is_valid,

        ---------- timestamps
        cast(received_at as timestamp) as received_at,
        cast(dispatched_at as timestamp) as dispatched_at,
        cast(arrived_at as timestamp) as arrived_at,
        cast(completed_at as timestamp) as completed_at,
        cast(callback_at as timestamp) as callback_at

    from source

)

select * from renamed
