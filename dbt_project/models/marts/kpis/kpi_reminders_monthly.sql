-- Reminder KPIs (RULES.md "Reminders") by list month, level and reminder type: tasks due (new /
-- carried over), tracked, reached, returned (same / other dealer), completion and return rates,
-- natural return, closed by manager; and the natural-return baseline beside the contacted return
-- rate (the uplift the reminders bring).

with

tasks as (

    select * from {{ ref('int_kpi_reminder_tasks') }}

),

kpi_dealers as (

    select * from {{ ref('int_kpi_dealers') }}

),

-- counted per month, dealer and type first: the roll-up then reads a few rows per dealer, not
-- every task
task_counts as (

    select
        tasks.month,
        {{ kpi_dealer_columns('tasks.dealer_code') }},
        coalesce(tasks.reminder_type, 'unknown') as reminder_type,
        count(*) as due,
        sum(case when not tasks.is_carried_over then 1 else 0 end) as due_new,
        sum(case when tasks.is_carried_over then 1 else 0 end) as due_carried,
        sum(case when tasks.is_tracked then 1 else 0 end) as tracked,
        sum(case when tasks.is_reached then 1 else 0 end) as reached,
        sum(case when tasks.is_contacted then 1 else 0 end) as contacted,
        sum(case when not tasks.is_contacted then 1 else 0 end) as not_contacted,
        sum(case when tasks.is_returned then 1 else 0 end) as returned,
        sum(case when tasks.is_returned_same_dealer then 1 else 0 end) as returned_same_dealer,
        sum(case when tasks.is_returned and not tasks.is_returned_same_dealer then 1 else 0 end)
            as returned_other_dealer,
        sum(case when tasks.is_reached and tasks.is_returned then 1 else 0 end) as reached_returned,
        sum(case when tasks.is_contacted and tasks.is_returned then 1 else 0 end) as contacted_returned,
        sum(case when not tasks.is_contacted and tasks.is_returned then 1 else 0 end) as natural_returned,
        sum(case when tasks.is_closed_by_manager then 1 else 0 end) as closed_by_manager,
        sum(case when tasks.is_carried_to_next_month then 1 else 0 end) as carried_to_next_month

    from tasks
    left join kpi_dealers on tasks.dealer_code = kpi_dealers.dealer_code
    group by
        tasks.month,
        coalesce(tasks.dealer_code, 'unassigned'),
        kpi_dealers.dealer_name,
        coalesce(kpi_dealers.region, 'unknown'),
        coalesce(tasks.reminder_type, 'unknown')

),

{{ kpi_rollup(
    'task_counts',
    'month',
    sums=[
        'due', 'due_new', 'due_carried', 'tracked', 'reached', 'contacted', 'not_contacted', 'returned',
        'returned_same_dealer', 'returned_other_dealer', 'reached_returned', 'contacted_returned',
        'natural_returned', 'closed_by_manager', 'carried_to_next_month',
    ],
    dims=['reminder_type'],
    settle_days=var('return_grace_days'),
) }},

rates as (

    select
        *,
        {{ kpi_rate('tracked', 'due') }} as completion_rate,
        {{ kpi_rate('reached', 'due') }} as reach_rate,
        {{ kpi_rate('returned', 'due') }} as return_rate,
        {{ kpi_rate('returned_same_dealer', 'returned') }} as same_dealer_return_share,
        {{ kpi_rate('reached_returned', 'reached') }} as reached_return_rate,
        {{ kpi_rate('contacted_returned', 'contacted') }} as contacted_return_rate,
        {{ kpi_rate('natural_returned', 'not_contacted') }} as natural_return_rate

    from kpi_rows

),

final as (

    select
        *,
        round(contacted_return_rate - natural_return_rate, 6) as return_uplift

    from rates

)

select * from final
