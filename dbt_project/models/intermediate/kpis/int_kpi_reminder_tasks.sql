-- The reminder tasks the KPIs count: one row per task and month of the lists up to M-1 (month M's
-- list, just made, has no statuses yet), with the statuses of the `reminders` contract
-- (docs/reminders.md).
--
-- The var `kpi_reminders_relation` names another relation of the contract's shape to read instead
-- (the KPI test fixture's hand-made lists, whose every figure is worked out by hand); the mart
-- stays this model's parent either way.

{%- set mart = ref('reminders') %}
{%- set relation = var('kpi_reminders_relation', '') or mart %}

with

reminders as (

    select
        cast(month as date) as month,
        task_id,
        dealer_code,
        reminder_type,
        is_carried_over,
        tracked,
        reached,
        contacted,
        returned,
        returned_same_dealer,
        closed_reason,
        carry_outcome
    from {{ relation }}

),

final as (

    select
        month,
        task_id,
        dealer_code,
        reminder_type,
        coalesce(is_carried_over, false) as is_carried_over,
        coalesce(tracked, false) as is_tracked,
        coalesce(reached, false) as is_reached,
        coalesce(contacted, false) as is_contacted,
        coalesce(returned, false) as is_returned,
        coalesce(returned, false) and coalesce(returned_same_dealer, false) as is_returned_same_dealer,
        closed_reason is not null as is_closed_by_manager,
        carry_outcome = 'carried' as is_carried_to_next_month

    from reminders
    where month < {{ report_month() }}

)

select * from final
