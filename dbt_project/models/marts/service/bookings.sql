with

bookings as (

    select * from {{ ref('stg_dms__bookings') }}
    where {{ on_or_before_as_of('created_at') }}

),

repair_orders as (

    select
        vin,
        visit_date
    from {{ ref('int_repair_orders_attributed') }}

),

-- 预约到店: a repair order for the booked VIN within one day of the scheduled date
shows as (

    select distinct bookings.booking_id

    from bookings
    inner join repair_orders
        on
            bookings.vin = repair_orders.vin
            and repair_orders.visit_date between bookings.scheduled_date - 1 and bookings.scheduled_date + 1

),

attributed as (

    select
        ---------- ids
        bookings.booking_id,
        {{ attributed_oneid('bookings') }} as oneid,
        bookings.vin,
        bookings.dealer_code,

        ---------- booking
        bookings.booking_channel,
        bookings.service_item,
        bookings.booking_status,
        bookings.booking_status = 'cancelled' as is_cancelled,
        bookings.created_at,
        bookings.scheduled_date,
        cast(date_trunc('month', bookings.scheduled_date) as date) as scheduled_month,

        ---------- phone feedback (电话反馈), as known at the cut-off
        coalesce(bookings.is_feedback_required, false) as is_feedback_required,
        case when {{ on_or_before_as_of('bookings.feedback_at') }} then bookings.feedback_at end as feedback_at,
        coalesce({{ on_or_before_as_of('bookings.feedback_at') }}, false) as is_feedback_done,

        ---------- show
        shows.booking_id is not null as has_shown

    from bookings
    {{ attribution_joins('bookings', 'created_at') }}
    left join shows on bookings.booking_id = shows.booking_id

)

select * from attributed
