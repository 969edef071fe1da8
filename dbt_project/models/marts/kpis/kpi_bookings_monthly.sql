-- Booking KPIs (RULES.md "Bookings") by scheduled month, level and booking channel: bookings
-- scheduled (cancelled reported apart), phone feedback, show rate.

with

bookings as (

    select * from {{ ref('bookings') }}

),

kpi_dealers as (

    select * from {{ ref('int_kpi_dealers') }}

),

booking_rows as (

    select
        bookings.scheduled_date,
        {{ kpi_dealer_columns('bookings.dealer_code') }},
        coalesce(bookings.booking_channel, 'unknown') as booking_channel,
        case when not bookings.is_cancelled then 1 else 0 end as scheduled,
        case when bookings.is_cancelled then 1 else 0 end as cancelled,
        case when not bookings.is_cancelled and bookings.is_feedback_required then 1 else 0 end as feedback_required,
        case
            when not bookings.is_cancelled and bookings.is_feedback_required and bookings.is_feedback_done then 1
            else 0
        end as feedback_done,
        case when not bookings.is_cancelled and bookings.has_shown then 1 else 0 end as shown

    from bookings
    left join kpi_dealers on bookings.dealer_code = kpi_dealers.dealer_code
    where bookings.scheduled_date is not null

),

{{ kpi_rollup(
    'booking_rows',
    'scheduled_date',
    sums=['scheduled', 'cancelled', 'feedback_required', 'feedback_done', 'shown'],
    dims=['booking_channel'],
) }},

final as (

    select
        *,
        {{ safe_rate('feedback_done', 'feedback_required') }} as feedback_rate,
        {{ safe_rate('shown', 'scheduled') }} as show_rate,
        {{ safe_rate('cancelled', 'scheduled + cancelled') }} as cancel_share

    from kpi_rows

)

select * from final
