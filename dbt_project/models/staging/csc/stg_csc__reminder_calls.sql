with

source as (

    -- the rows known at the cut-off: each key's version in force then (macro landing_as_of)
    {{ landing_as_of('reminder_calls', ['call_id']) }}

),

renamed as (

    select
        ---------- ids
        call_id,
        dealer_code,
        vin,
        agent as agent_staff_id,

        ---------- call
        {{ enum_to_code('reminder_type', 'reminder_type') }} as reminder_type,
        cast(reminder_month as date) as reminder_month,
        {{ enum_to_code('result', 'call_result') }} as call_result,
        cast(duration_s as integer) as duration_s,
        cast(called_at as timestamp) as called_at

    from source

)

select * from renamed
