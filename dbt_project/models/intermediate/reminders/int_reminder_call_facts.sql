-- One row per (vin, reminder_type, month) with a DCRC call made in that month, for the months
-- whose statuses this run computes (reminder_status_from() to M), calls up to the cut-off. A
-- call counts for the month it was made in (called_at; reminder_month is optional in the export),
-- for the vehicle's task of its type: it tracks the task; a connected call of at least
-- reached_min_call_seconds reaches the customer (RULES.md "Statuses at month end").

with

calls as (

    select
        vin,
        reminder_type,
        {{ month_start('called_at') }} as month,
        call_result,
        duration_s

    from {{ ref('stg_csc__reminder_calls') }}
    where
        {{ on_or_before_as_of('called_at') }}
        and cast(called_at as date) >= {{ reminder_status_from() }}
        and vin is not null
        and reminder_type is not null

),

per_task_month as (

    select
        vin,
        reminder_type,
        month,
        count(*) as calls,
        {{ dbt.bool_or(
            "call_result = 'connected' and coalesce(duration_s, 0) >= " ~ var('reached_min_call_seconds')
        ) }} as has_reaching_call

    from calls
    group by vin, reminder_type, month

)

select * from per_task_month
