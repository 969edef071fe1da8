{{
    config(
        materialized='incremental',
        incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'delete+insert'),
        unique_key='month',
        partition_by=(['month'] if target.type == 'spark' else none),
        full_refresh=false,
        on_schema_change='fail',
    )
}}

-- One row per (month, task) of the lists: the task's statuses as known at the latest cut-off
-- that computed them (RULES.md "Statuses at month end", macro reminder_statuses). A run for M
-- recomputes the months from reminder_status_from() to M (the month becoming final at its
-- cut-off, the provisional ones, and M itself) and replaces them whole, except a month whose
-- stored statuses come from a later cut-off: a rerun of an older month never replaces a more
-- final status with a less final one.

with

tasks as (

    select * from {{ ref('int_reminder_lists') }}
    where
        month >= {{ reminder_status_from() }}
        and month <= {{ report_month() }}
        {% if is_incremental() %}
            and month not in (
                select later_run.month from {{ this }} as later_run
                where later_run.status_as_of > {{ as_of_date() }}
            )
        {% endif %}

),

statuses as (

    {{ reminder_statuses('tasks') }}

),

final as (

    select
        month,
        task_id,
        status_as_of,
        is_final,
        wechat_status,
        calls,
        tracked,
        reached,
        contacted,
        returned,
        returned_dealer_code,
        returned_same_dealer,
        returned_at,
        closed_reason,
        closed_by,
        closed_at,
        is_done,
        stop_reason

    from statuses

)

select * from final
