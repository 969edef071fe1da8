-- One row per (task_id, month) that has a manager's decision in force for that month's row, for
-- the months whose statuses this run computes: the task's latest decision made on or before the
-- end of the month's last day and on or before the run's cut-off day (docs/reminders.md
-- "Managers' decisions"). A decision made during a month thus applies to that month's row and
-- stops (or, reopened, restores) its carry-over into the next; it never rewrites an earlier
-- month's row.

with

status_months as (

    {{ reminder_status_months() }}

),

decisions as (

    select * from {{ ref('stg_decisions__task_decisions') }}

),

applicable as (

    select
        status_months.month,
        decisions.*

    from decisions
    inner join status_months
        on
            cast(decisions.decided_at as date) <= {{ month_end('status_months.month') }}
            and cast(decisions.decided_at as date) <= {{ as_of_date() }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by task_id, month order by decided_at desc, decision_id desc
        ) as recency

    from applicable

),

in_force as (

    select
        month,
        task_id,
        decision_id,
        action,
        reason,
        decided_by,
        decided_at

    from ranked
    where recency = 1

)

select * from in_force
