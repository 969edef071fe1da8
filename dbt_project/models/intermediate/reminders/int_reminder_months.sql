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

-- One row per month whose list has been built: its cut-off, whether it started a chain (no list
-- for M-1 was built before it: nothing carried over), and its task counts. The ops summary of a
-- run reports is_chain_start from here. A rerun of a month rewrites its row; whether it starts a
-- chain depends only on the months before it.

with

built_before as (

    {% if is_incremental() %}
        select month from {{ this }}
        where month = {{ add_months(-1, report_month()) }}
    {% else %}
        select cast(null as date) as month
        where 1 = 0
    {% endif %}

),

this_list as (

    select
        count(*) as listed_tasks,
        coalesce(sum(case when is_carried_over then 1 else 0 end), 0) as carried_tasks

    from {{ ref('int_reminder_lists') }}
    where month = {{ report_month() }}

),

previous_list as (

    select count(*) as built_months from built_before

),

final as (

    select
        {{ report_month() }} as month,
        {{ as_of_date() }} as list_as_of,
        {{ add_months(-1, report_month()) }} as previous_month,
        previous_list.built_months = 0 as is_chain_start,
        cast(this_list.listed_tasks as {{ dbt.type_int() }}) as listed_tasks,
        cast(this_list.listed_tasks - this_list.carried_tasks as {{ dbt.type_int() }}) as new_tasks,
        cast(this_list.carried_tasks as {{ dbt.type_int() }}) as carried_tasks

    from this_list
    cross join previous_list

)

select * from final
