-- The reminder tasks the KPIs count: one row per task and month of the lists up to M-1 (month M's
-- list, just made, has no statuses yet), with the statuses of the `reminders` contract
-- (docs/reminders.md).
--
-- TEMPORARY until the reminders mart lands on main: read from the relation named by the var
-- `kpi_reminders_relation` (the KPI test fixture's hand-made `reminders`), else an empty relation
-- of the contract's shape, so the rest of the project builds without it.

{%- set no_reminders -%}
    (
        select
            cast(null as date) as month,
            cast(null as varchar) as task_id,
            cast(null as varchar) as dealer_code,
            cast(null as varchar) as reminder_type,
            cast(null as boolean) as is_carried_over,
            cast(null as boolean) as tracked,
            cast(null as boolean) as reached,
            cast(null as boolean) as contacted,
            cast(null as boolean) as returned,
            cast(null as boolean) as returned_same_dealer,
            cast(null as varchar) as closed_reason,
            cast(null as varchar) as carry_outcome
        where 1 = 0
    )
{%- endset %}
{%- set relation = var('kpi_reminders_relation', '') or no_reminders %}

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
    from {{ relation }} as reminders_contract

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
    where month < cast('{{ var("report_month") }}' as date) and month <= {{ as_of_date() }}

)

select * from final
