with

complaints as (

    select * from {{ ref('stg_csc__complaints') }}
    where {{ on_or_before_as_of('received_at') }}

),

-- what was known at the cut-off: a step taken after it has not happened yet
as_known as (

    select
        {{ star_except(['first_contact_at', 'escalated_at', 'closed_at', 'callback_at', 'satisfaction']) }},
        case when {{ on_or_before_as_of('first_contact_at') }} then first_contact_at end as first_contact_at,
        case when {{ on_or_before_as_of('escalated_at') }} then escalated_at end as escalated_at,
        case when {{ on_or_before_as_of('closed_at') }} then closed_at end as closed_at,
        case when {{ on_or_before_as_of('callback_at') }} then callback_at end as callback_at,
        case when {{ on_or_before_as_of('callback_at') }} then satisfaction end as satisfaction

    from complaints

),

attributed as (

    select
        ---------- ids
        as_known.complaint_no,
        {{ attributed_oneid_no_openid('as_known') }} as oneid,
        as_known.vin,
        as_known.dealer_code,
        as_known.region,

        ---------- complaint
        as_known.complaint_channel,
        as_known.complaint_category,
        as_known.complaint_level,
        as_known.close_reason,
        as_known.is_vrt_started,
        as_known.satisfaction,

        ---------- timestamps
        as_known.received_at,
        cast(date_trunc('month', as_known.received_at) as date) as received_month,
        as_known.deadline_at,
        as_known.first_contact_at,
        as_known.escalated_at,
        as_known.closed_at,
        as_known.callback_at,

        ---------- handling
        as_known.closed_at is null as is_open,
        as_known.first_contact_at is not null
        and as_known.first_contact_at <= as_known.received_at + interval 24 hour as is_first_contact_within_24h,
        as_known.closed_at is not null
        and as_known.closed_at <= as_known.deadline_at as is_closed_within_deadline,
        as_known.closed_at is null
        and cast(as_known.deadline_at as date) < {{ as_of_date() }} as is_overdue_open,
        as_known.escalated_at is not null as is_escalated,
        as_known.callback_at is not null as has_callback,
        -- double on both engines (Spark divides by 60.0 in decimal)
        cast(round({{ minutes_between('as_known.received_at', 'as_known.closed_at') }} / 60.0, 1) as double)
            as hours_to_close

    from as_known
    {{ attribution_joins('as_known', 'received_at', openid=false) }}

)

select * from attributed
