with

rescues as (

    select * from {{ ref('stg_csc__rescues') }}
    where {{ on_or_before_as_of('received_at') }}

),

attributed as (

    select
        ---------- ids
        rescues.request_no,
        {{ attributed_oneid_no_openid('rescues') }} as oneid,
        rescues.vin,
        rescues.dispatched_dealer_code,

        ---------- request
        rescues.city,
        coalesce(rescues.is_valid, false) as is_valid,
        rescues.received_at,
        cast(date_trunc('month', rescues.received_at) as date) as received_month,
        rescues.dispatched_at,
        rescues.arrived_at,
        rescues.completed_at,
        rescues.callback_at,

        ---------- handling times
        {{ minutes_between('rescues.received_at', 'rescues.dispatched_at') }} as minutes_to_dispatch,
        {{ minutes_between('rescues.received_at', 'rescues.arrived_at') }} as minutes_to_arrival,
        rescues.callback_at is not null as has_callback

    from rescues
    {{ attribution_joins('rescues', 'received_at', openid=false) }}

)

select * from attributed
