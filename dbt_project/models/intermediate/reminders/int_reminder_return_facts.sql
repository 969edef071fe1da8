-- One row per (vin, month) with a return to the workshop that counts for a task of that month:
-- a repair order opened from the first day of the month to return_grace_days after its last day,
-- up to the cut-off (RULES.md "Statuses at month end"), for the months whose statuses this run
-- computes. The first such repair order of any service type (warranty, inspection, campaign,
-- insurance and birthday tasks: any visit counts) and the first maintenance one (首保/定期保养,
-- for first_maintenance and maintenance tasks), each with its dealer.

with

status_months as (

    {{ reminder_status_months() }}

),

repair_orders as (

    select
        ro_no,
        vin,
        dealer_code,
        opened_at,
        visit_date,
        is_maintenance

    from {{ ref('int_repair_orders_attributed') }}
    where visit_date >= {{ reminder_status_from() }}

),

-- a repair order may count for two months: its own, and the month before while in its grace
returns as (

    select
        status_months.month,
        repair_orders.*

    from repair_orders
    inner join status_months
        on
            repair_orders.visit_date >= status_months.month
            and repair_orders.visit_date <= {{ add_days(var('return_grace_days'), month_end('status_months.month')) }}

),

ranked as (

    select
        *,
        row_number() over (partition by vin, month order by opened_at, ro_no) as any_rank,
        row_number() over (
            partition by vin, month, is_maintenance order by opened_at, ro_no
        ) as same_kind_rank

    from returns

),

first_returns as (

    select
        vin,
        month,
        max(case when any_rank = 1 then opened_at end) as first_return_at,
        max(case when any_rank = 1 then dealer_code end) as first_return_dealer_code,
        max(case when is_maintenance and same_kind_rank = 1 then opened_at end) as first_maintenance_return_at,
        max(
            case when is_maintenance and same_kind_rank = 1 then dealer_code end
        ) as first_maintenance_return_dealer_code

    from ranked
    where any_rank = 1 or (is_maintenance and same_kind_rank = 1)
    group by vin, month

)

select * from first_returns
