{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='replace_status_months',
        on_schema_change='fail',
    )
}}

-- One row per reminder task and month (docs/reminders.md "The reminders table"): each month's
-- list as its run built it, with the statuses as known at the latest cut-off that computed them,
-- the manager's close in force, and what the carry-over rule made of the task.
--
-- Incremental: a run rewrites only the months whose rows it can change (reminder_status_from()
-- to M: their statuses, and the carry-over outcome of M-1), so its cost does not grow with the
-- months kept. Every row derives from int_reminder_lists, int_reminder_statuses and
-- int_reminder_months alone, so a full refresh rebuilds the same table. On Spark it is that full
-- rebuild every run: without a Delta/Iceberg jar dbt-spark offers no custom strategy, and a
-- partitioned mart would put `month` last and in folders the run reads back (docs/spark.md).

with

lists as (

    select * from {{ ref('int_reminder_lists') }}
    {% if is_incremental() %}
        where month >= {{ reminder_status_from() }} and month <= {{ report_month() }}
    {% endif %}

),

-- the next month's list, for the carry-over outcome of the last month above
next_lists as (

    select * from {{ ref('int_reminder_lists') }}
    {% if is_incremental() %}
        where month > {{ reminder_status_from() }} and month <= {{ add_months(1, report_month()) }}
    {% endif %}

),

statuses as (

    select * from {{ ref('int_reminder_statuses') }}
    {% if is_incremental() %}
        where month >= {{ reminder_status_from() }} and month <= {{ report_month() }}
    {% endif %}

),

built_months as (

    select month from {{ ref('int_reminder_months') }}

),

-- the same task in the next month's list: it was carried over
carried_into as (

    select
        month,
        task_id
    from next_lists
    where is_carried_over

),

joined as (

    select
        lists.*,
        statuses.status_as_of,
        statuses.is_final,
        statuses.wechat_status,
        statuses.calls,
        statuses.tracked,
        statuses.reached,
        statuses.contacted,
        statuses.returned,
        statuses.returned_dealer_code,
        statuses.returned_same_dealer,
        statuses.returned_at,
        statuses.closed_reason,
        statuses.closed_by,
        statuses.closed_at,
        -- decided by the next month's run: null until that list is built
        case
            when next_month.month is null then null
            when carried_into.task_id is not null then 'carried'
            when statuses.stop_reason != 'carried' then statuses.stop_reason
        end as carry_outcome

    from lists
    left join statuses
        on
            lists.month = statuses.month
            and lists.task_id = statuses.task_id
    left join built_months as next_month
        on next_month.month = {{ add_months(1, 'lists.month') }}
    left join carried_into
        on
            carried_into.month = {{ add_months(1, 'lists.month') }}
            and lists.task_id = carried_into.task_id

),

final as (

    select
        ---------- PRODUCT.md's columns
        cast(month as date) as month,
        cast(task_id as {{ dbt.type_string() }}) as task_id,
        cast(oneid as {{ dbt.type_string() }}) as oneid,
        cast(vin as {{ dbt.type_string() }}) as vin,
        cast(dealer_code as {{ dbt.type_string() }}) as dealer_code,
        cast(reminder_type as {{ dbt.type_string() }}) as reminder_type,
        cast(due_date as date) as due_date,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(is_carried_over as {{ dbt.type_boolean() }}) as is_carried_over,
        cast(carry_months as {{ dbt.type_int() }}) as carry_months,
        cast(coalesce(wechat_status, 'not_sent') as {{ dbt.type_string() }}) as wechat_status,
        cast(coalesce(tracked, false) as {{ dbt.type_boolean() }}) as tracked,
        cast(coalesce(reached, false) as {{ dbt.type_boolean() }}) as reached,
        cast(coalesce(returned, false) as {{ dbt.type_boolean() }}) as returned,
        cast(closed_reason as {{ dbt.type_string() }}) as closed_reason,

        ---------- the task
        cast(cycle as {{ dbt.type_string() }}) as cycle,
        cast(first_month as date) as first_month,
        cast(valid_until as date) as valid_until,
        cast(is_sticker_only as {{ dbt.type_boolean() }}) as is_sticker_only,
        cast(is_usage_assumed as {{ dbt.type_boolean() }}) as is_usage_assumed,
        cast(campaign_code as {{ dbt.type_string() }}) as campaign_code,

        ---------- dealer, vehicle, owner (masked; the ciphertext only for the audited download)
        cast(region as {{ dbt.type_string() }}) as region,
        cast(dealer_name as {{ dbt.type_string() }}) as dealer_name,
        cast(model_name as {{ dbt.type_string() }}) as model_name,
        cast(owner_name_masked as {{ dbt.type_string() }}) as owner_name_masked,
        cast(owner_mobile_masked as {{ dbt.type_string() }}) as owner_mobile_masked,
        cast(owner_mobile_enc as {{ dbt.type_string() }}) as owner_mobile_enc,

        ---------- statuses
        cast(coalesce(contacted, false) as {{ dbt.type_boolean() }}) as contacted,
        cast(coalesce(calls, 0) as {{ dbt.type_int() }}) as calls,
        cast(returned_dealer_code as {{ dbt.type_string() }}) as returned_dealer_code,
        cast(returned_same_dealer as {{ dbt.type_boolean() }}) as returned_same_dealer,
        cast(returned_at as {{ dbt.type_timestamp() }}) as returned_at,
        cast(closed_by as {{ dbt.type_string() }}) as closed_by,
        cast(closed_at as {{ dbt.type_timestamp() }}) as closed_at,
        cast(carry_outcome as {{ dbt.type_string() }}) as carry_outcome,
        cast(status_as_of as date) as status_as_of,
        cast(coalesce(is_final, false) as {{ dbt.type_boolean() }}) as is_final,
        cast(list_as_of as date) as list_as_of

    from joined

)

select * from final
