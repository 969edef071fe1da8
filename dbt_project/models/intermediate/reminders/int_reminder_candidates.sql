-- One row per task month M's list may hold as new: the seven types' candidates (a task whose
-- generation window contains M, from the data as of the cut-off), with the task_id derived from
-- (vin, reminder_type, cycle). Whether it is new is int_reminder_lists' business: a task already
-- listed in an earlier month is kept only by the carry-over rules.

with

candidates as (

    {%- for reminder_type in reminder_types() %}
        select * from {{ ref('int_reminder_candidates__' ~ reminder_type) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

identified as (

    select
        {{ reminder_task_id('vin', 'reminder_type', 'cycle') }} as task_id,
        *

    from candidates

)

select * from identified
