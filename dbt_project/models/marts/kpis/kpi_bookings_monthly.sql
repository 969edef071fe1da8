-- Booking KPIs (RULES.md "Bookings") by scheduled month, level and booking channel: bookings
-- scheduled (cancelled reported apart), phone feedback, show rate.

with

bookings as (

    select * from {{ ref('bookings') }}

),

kpi_dealers as (

    select * from {{ ref('int_kpi_dealers') }}

),

-- counted per scheduled month, dealer and channel first: the roll-up then reads a few rows per
-- dealer, not every booking
booking_rows as (

    select
        {{ month_start('bookings.scheduled_date') }} as scheduled_month,
        {{ kpi_dealer_columns('bookings.dealer_code') }},
        coalesce(bookings.booking_channel, 'unknown') as booking_channel,
        sum(case when not bookings.is_cancelled then 1 else 0 end) as scheduled,
        sum(case when bookings.is_cancelled then 1 else 0 end) as cancelled,
        sum(case when not bookings.is_cancelled and bookings.is_feedback_required then 1 else 0 end)
            as feedback_required,
        sum(case
            when not bookings.is_cancelled and bookings.is_feedback_required and bookings.is_feedback_done then 1
            else 0
        end) as feedback_done,
        sum(case when not bookings.is_cancelled and bookings.has_shown then 1 else 0 end) as shown

    from bookings
    left join kpi_dealers on bookings.dealer_code = kpi_dealers.dealer_code
    where bookings.scheduled_date is not null
    group by
        {{ month_start('bookings.scheduled_date') }},
        coalesce(bookings.dealer_code, 'unassigned'),
        kpi_dealers.dealer_name,
        coalesce(kpi_dealers.region, 'unknown'),
        coalesce(bookings.booking_channel, 'unknown')

),

{{ kpi_rollup(
    'booking_rows',
    'scheduled_month',
    sums=['scheduled', 'cancelled', 'feedback_required', 'feedback_done', 'shown'],
    dims=['booking_channel'],
) }},

final as (

    select
        *,
        {{ kpi_rate('feedback_done', 'feedback_required') }} as feedback_rate,
        {{ kpi_rate('shown', 'scheduled') }} as show_rate,
        {{ kpi_rate('cancelled', 'scheduled + cancelled') }} as cancel_share

    from kpi_rows

)

select * from final
