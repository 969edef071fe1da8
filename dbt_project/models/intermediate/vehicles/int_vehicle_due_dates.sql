-- One row per VIN sold on or before the cut-off: its next due date for each reminder type of
-- RULES.md (first maintenance or maintenance, warranty, insurance, inspection), computed from the
-- sale records and the repair-order history. A maintenance or warranty date may lie before the
-- cut-off (overdue, or expired); insurance and inspection are the next ones after it. The
-- reminder candidates (intermediate/reminders) take their due dates from here.

with

vehicle_base as (

    select * from {{ ref('int_vehicle_facts') }}

),

history as (

    select * from {{ ref('int_vehicle_service_history') }}

),

inspection_base as (

    select
        vin,
        coalesce(registration_date, first_invoice_date) as inspection_base_date,
        -- not given: assumed non-operating with at most 9 seats (int_vehicle_facts flags it)
        usage,
        seats,
        {{ months_elapsed('coalesce(registration_date, first_invoice_date)', as_of_date()) }} as months_elapsed

    from vehicle_base

),

-- the next inspection is at most 24 months away on every schedule: look at five points of the
-- 6-month grid starting at the current one, keep the ones the schedule makes due
grid_steps as (

    select 0 as step
    union all
    select 1 as step
    union all
    select 2 as step
    union all
    select 3 as step
    union all
    select 4 as step

),

inspection_candidates as (

    select
        inspection_base.vin,
        inspection_base.usage,
        inspection_base.seats,
        last_day(
            {{ date_plus_months(
                'inspection_base.inspection_base_date',
                'cast((' ~ int_div('inspection_base.months_elapsed', 6) ~ ' + steps.step) * 6 as integer)'
            ) }}
        ) as due_date,
        ({{ int_div('inspection_base.months_elapsed', 6) }} + steps.step) * 6 as months_after

    from inspection_base
    cross join grid_steps as steps

),

inspection_schedule as (

    select
        vin,
        due_date,
        months_after,
        usage = 'non_operating' and seats <= 9 and months_after in (24, 48, 96) as is_sticker_only

    from inspection_candidates
    where
        months_after > 0
        and due_date > {{ as_of_date() }}
        and case
            when usage = 'operating'
                then (months_after % 12 = 0 and months_after <= 60) or months_after > 60
            when seats > 9
                then (months_after % 12 = 0 and months_after <= 120) or months_after > 120
            else months_after % 12 = 0 and (months_after in (24, 48, 72, 96, 120) or months_after > 120)
        end

),

next_scheduled_inspection as (

    select
        vin,
        min(due_date) as scheduled_inspection_date,
        {{ arg_min('is_sticker_only', ['due_date']) }} as is_sticker_only

    from inspection_schedule
    group by vin

),

due_dates as (

    select
        vehicle_base.vin,

        -- maintenance: the advisor's date on the latest maintenance RO, else its date + interval;
        -- before any maintenance RO, the first maintenance after the first invoice
        case
            when history.last_maintenance_date is null
                then cast(vehicle_base.first_invoice_date + interval {{ var('first_service_months') }} month as date)
            when history.latest_maintenance_next_date is not null
                then history.latest_maintenance_next_date
            else cast(history.last_maintenance_date + interval {{ var('maintenance_interval_months') }} month as date)
        end as next_maintenance_due_date,
        case
            when history.last_maintenance_date is null then 'first_maintenance' else 'maintenance'
        end as next_maintenance_type,

        coalesce(
            history.advised_warranty_expiry_date,
            cast(vehicle_base.first_invoice_date + interval {{ var('warranty_years') }} year as date)
        ) as warranty_expiry_date,

        -- insurance renews on the first invoice's anniversary
        cast(
            {{ date_plus_years(
                'vehicle_base.first_invoice_date',
                'cast(' ~ years_elapsed('vehicle_base.first_invoice_date', as_of_date()) ~ ' + 1 as integer)'
            ) }}
            as date
        ) as next_insurance_due_date,

        -- the advisor's next inspection date while it lies ahead; once it has passed (the car was
        -- inspected, or not, without a later RO saying so) the schedule gives the next one
        case
            when history.advised_next_inspection_date > {{ as_of_date() }}
                then history.advised_next_inspection_date
            else next_scheduled_inspection.scheduled_inspection_date
        end as next_inspection_due_date,
        case
            when history.advised_next_inspection_date > {{ as_of_date() }} then 'repair_order'
            when next_scheduled_inspection.scheduled_inspection_date is not null then 'schedule'
        end as next_inspection_due_source,
        case
            when history.advised_next_inspection_date > {{ as_of_date() }} then false
            else next_scheduled_inspection.is_sticker_only
        end as is_inspection_sticker_only

    from vehicle_base
    left join history on vehicle_base.vin = history.vin
    left join next_scheduled_inspection on vehicle_base.vin = next_scheduled_inspection.vin

)

select * from due_dates
