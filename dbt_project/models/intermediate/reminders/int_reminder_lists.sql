{{
    config(
        materialized='incremental',
        incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'replace_report_month'),
        partition_by=(['month'] if target.type == 'spark' else none),
        full_refresh=false,
        on_schema_change='fail',
    )
}}

-- One row per (month, task): the reminder list of every month built so far. A run for month M
-- replaces the rows of M only (incremental strategy replace_report_month; on Spark the same by
-- overwriting M's partition, insert_overwrite), so the table keeps
-- each month's list as its run made it; `--full-refresh` cannot wipe that history.
--
-- The list for M = new tasks (candidates of M whose task_id was in no list before M) + the
-- tasks of M-1's list that the carry-over rules keep, judged on M-1's statuses as known at this
-- run's cut-off (macro reminder_statuses). It reads only this table's months before M, so it is
-- a pure function of the inputs as of the cut-off and the list for M-1: a rerun of any month on
-- the same inputs writes the same rows, and a month rerun after later months were built does not
-- see them. With no list for M-1 the chain starts here (int_reminder_months says so): nothing
-- carries, and every candidate of M not listed earlier is new.
--
-- Who, which channel and the masks are taken as of the cut-off, for carried tasks too (after a
-- resale the new owner gets the task); the task's dealer, due date and validity are those of its
-- first month.

with

candidates as (

    select * from {{ ref('int_reminder_candidates') }}

),

earlier_lists as (

    {% if is_incremental() %}
        select * from {{ this }}
        where month < {{ report_month() }}
    {% else %}
        -- the first build: no earlier list (an empty relation of the columns read below)
        select
            cast(null as date) as month,
            task_id,
            vin,
            reminder_type,
            cycle,
            due_date,
            valid_until,
            cast(null as date) as first_month,
            0 as carry_months,
            dealer_code,
            cast(null as {{ dbt.type_string() }}) as channel,
            is_sticker_only,
            is_usage_assumed,
            campaign_code
        from candidates
        where 1 = 0
    {% endif %}

),

previously_listed as (

    select distinct task_id from earlier_lists

),

previous_month as (

    select * from earlier_lists
    where month = {{ add_months(-1, report_month()) }}

),

previous_statuses as (

    {{ reminder_statuses('previous_month') }}

),

carried as (

    select
        task_id,
        vin,
        reminder_type,
        cycle,
        due_date,
        valid_until,
        first_month,
        true as is_carried_over,
        carry_months + 1 as carry_months,
        dealer_code,
        is_sticker_only,
        is_usage_assumed,
        campaign_code

    from previous_statuses
    where stop_reason = 'carried'

),

new_tasks as (

    select
        candidates.task_id,
        candidates.vin,
        candidates.reminder_type,
        candidates.cycle,
        candidates.due_date,
        candidates.valid_until,
        {{ report_month() }} as first_month,
        false as is_carried_over,
        0 as carry_months,
        candidates.dealer_code,
        candidates.is_sticker_only,
        candidates.is_usage_assumed,
        candidates.campaign_code

    from candidates
    left join previously_listed on candidates.task_id = previously_listed.task_id
    where previously_listed.task_id is null

),

tasks as (

    select * from new_tasks
    union all
    select * from carried

),

vehicles as (

    select
        vin,
        current_owner_oneid,
        model_name
    from {{ ref('int_vehicles_enriched') }}

),

owner_contacts as (

    select
        vin,
        owner_name_masked,
        owner_mobile_masked,
        owner_mobile_enc
    from {{ ref('int_vehicle_sales_ranked') }}
    where is_latest_sale

),

-- RULES.md "Channel": wechat when the owner's OneID has a bound, currently subscribed openid
wechat_reachable as (

    select distinct oneid
    from {{ ref('int_wechat_followers_resolved') }}
    where oneid is not null and is_subscribed and is_bound

),

dealers as (

    select
        dealer_code,
        dealer_name,
        region
    from {{ ref('stg_master__dealers') }}

),

final as (

    select
        {{ report_month() }} as month,
        tasks.task_id,
        tasks.vin,
        tasks.reminder_type,
        tasks.cycle,
        tasks.due_date,
        tasks.valid_until,
        tasks.first_month,
        tasks.is_carried_over,
        tasks.carry_months,
        tasks.dealer_code,
        dealers.region,
        dealers.dealer_name,
        vehicles.current_owner_oneid as oneid,
        case when wechat_reachable.oneid is not null then 'wechat' else 'phone' end as channel,
        tasks.is_sticker_only,
        tasks.is_usage_assumed,
        tasks.campaign_code,
        vehicles.model_name,
        owner_contacts.owner_name_masked,
        owner_contacts.owner_mobile_masked,
        owner_contacts.owner_mobile_enc,
        {{ as_of_date() }} as list_as_of

    from tasks
    left join vehicles on tasks.vin = vehicles.vin
    left join owner_contacts on tasks.vin = owner_contacts.vin
    left join wechat_reachable on vehicles.current_owner_oneid = wechat_reachable.oneid
    left join dealers on tasks.dealer_code = dealers.dealer_code

)

select * from final
