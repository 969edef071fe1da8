{#- The month-grain reminder list (docs/reminders.md). Dates here are DATEs: the cross-database
    macros return timestamps on some engines (DuckDB's date_trunc and dateadd do), so every helper
    casts back to date. -#}


{#- Month M, the month whose list a run prepares: the run parameter report_month (YYYY-MM-01; macro
    run_parameter), which must be the day after the cut-off as_of_date; empty means exactly that
    day. A run whose two parameters disagree would build month M from the wrong month's data: it
    stops at compile time.
    (The *_iso macros print their date rather than `return` it, so that sqlfluff's templater,
    which lints the models, renders them like dbt does.) -#}
{% macro report_month_iso() -%}
    {%- set as_of = modules.datetime.date.fromisoformat(as_of_date_iso() | string | trim) -%}
    {%- set following = as_of + modules.datetime.timedelta(days=1) -%}
    {%- set given = run_parameter('report_month', '') | string | trim -%}
    {%- if given == '' -%}
        {%- if following.day != 1 -%}
            {%- set following = (following.replace(day=28) + modules.datetime.timedelta(days=4)).replace(day=1) -%}
        {%- endif -%}
        {{- following.isoformat() -}}
    {%- elif given != following.isoformat() -%}
        {{- exceptions.raise_compiler_error(
            "report_month " ~ given ~ " is not the day after as_of_date " ~ as_of.isoformat()
            ~ ": a run for month M sees the world as of the last day of M-1") -}}
    {%- else -%}
        {{- given -}}
    {%- endif -%}
{%- endmacro %}

{% macro report_month() -%}
    cast('{{ report_month_iso() | trim }}' as date)
{%- endmacro %}


{#- The first month whose statuses a run recomputes: the month that becomes final at this
    cut-off (its return grace ends by it) is the month before the one holding as_of - grace days;
    every later month up to M is still provisional. -#}
{% macro reminder_status_from_iso() -%}
    {%- set as_of = modules.datetime.date.fromisoformat(as_of_date_iso() | string | trim) -%}
    {%- set grace_start = (as_of - modules.datetime.timedelta(days=var('return_grace_days') | int)).replace(day=1) -%}
    {{- (grace_start - modules.datetime.timedelta(days=1)).replace(day=1).isoformat() -}}
{%- endmacro %}

{% macro reminder_status_from() -%}
    cast('{{ reminder_status_from_iso() | trim }}' as date)
{%- endmacro %}


{#- One row per month from the first status month to M (a handful of rows), for range joins. -#}
{% macro reminder_status_months() -%}
    {%- set first = modules.datetime.date.fromisoformat(reminder_status_from_iso() | trim) -%}
    {%- set last = modules.datetime.date.fromisoformat(report_month_iso() | trim) -%}
    {%- set count = (last.year - first.year) * 12 + last.month - first.month + 1 -%}
    {%- for i in range(count) %}
        {%- set month = modules.datetime.date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1) %}
    select cast('{{ month.isoformat() }}' as date) as month{% if not loop.last %} union all{% endif %}
    {%- endfor %}
{%- endmacro %}


{#- Date helpers over dbt's cross-database macros, always returning a DATE. -#}
{% macro month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{% macro month_end(date_expr) -%}
    cast({{ dbt.last_day(date_expr, 'month') }} as date)
{%- endmacro %}

{% macro add_months(months, date_expr) -%}
    cast({{ dbt.dateadd('month', months, date_expr) }} as date)
{%- endmacro %}

{% macro add_days(days, date_expr) -%}
    cast({{ dbt.dateadd('day', days, date_expr) }} as date)
{%- endmacro %}

{#- 'YYYY-MM' of a date: a task's cycle, and the month key of the WeChat send tables. -#}
{% macro month_label(date_expr) -%}
    substring(cast({{ date_expr }} as {{ dbt.type_string() }}), 1, 7)
{%- endmacro %}


{#- The seven reminder types of RULES.md, in the order the docs list them. -#}
{% macro reminder_types() -%}
    {{ return(['first_maintenance', 'maintenance', 'warranty', 'insurance', 'inspection', 'birthday', 'campaign']) }}
{%- endmacro %}


{#- task_id: the first 16 hex characters of md5(vin|reminder_type|cycle), so a task keeps its id
    while it carries over and a rerun gives the same id. -#}
{% macro reminder_task_id(vin, reminder_type, cycle) -%}
    substring({{ dbt.hash(dbt.concat([vin, "'|'", reminder_type, "'|'", cycle])) }}, 1, 16)
{%- endmacro %}


{#- The statuses of the tasks in the CTE `tasks` (month, task_id, vin, reminder_type, dealer_code,
    channel, carry_months, valid_until, ...) as known at this run's cut-off, for months from
    reminder_status_from() to M (RULES.md "Statuses at month end", docs/reminders.md). Used by the
    list (carry-over from M-1) and by int_reminder_statuses, so both apply one rule.

    stop_reason is what the carry-over rule says at this cut-off: 'carried', or why not
    ('done', 'closed', 'window_passed', 'max_carry'), first match in that order. -#}
{% macro reminder_statuses(tasks) -%}
    with

    observed as (

        select
            {{ tasks }}.*,
            coalesce(sends.wechat_status, 'not_sent') as wechat_status,
            coalesce(calls.calls, 0) as calls,
            coalesce(calls.has_reaching_call, false) as has_reaching_call,
            case
                when {{ tasks }}.reminder_type in ('first_maintenance', 'maintenance')
                    then returns.first_maintenance_return_at
                else returns.first_return_at
            end as returned_at,
            case
                when {{ tasks }}.reminder_type in ('first_maintenance', 'maintenance')
                    then returns.first_maintenance_return_dealer_code
                else returns.first_return_dealer_code
            end as returned_dealer_code,
            case when decisions.action = 'close' then decisions.reason end as closed_reason,
            case when decisions.action = 'close' then decisions.decided_by end as closed_by,
            case when decisions.action = 'close' then decisions.decided_at end as closed_at

        from {{ tasks }}
        left join {{ ref('int_reminder_call_facts') }} as calls
            on
                {{ tasks }}.vin = calls.vin
                and {{ tasks }}.reminder_type = calls.reminder_type
                and {{ tasks }}.month = calls.month
        -- a month's sends are made after its list is built, i.e. after its run's cut-off: a run
        -- knows the sends of the months before its own (never M's, even when rerun after them)
        left join {{ ref('stg_wechat__template_send_results') }} as sends
            on
                {{ tasks }}.task_id = sends.task_id
                and {{ tasks }}.month = sends.month
                and sends.month < {{ report_month() }}
        left join {{ ref('int_reminder_return_facts') }} as returns
            on
                {{ tasks }}.vin = returns.vin
                and {{ tasks }}.month = returns.month
        left join {{ ref('int_reminder_decisions') }} as decisions
            on
                {{ tasks }}.task_id = decisions.task_id
                and {{ tasks }}.month = decisions.month

    ),

    statuses as (

        select
            *,
            calls > 0 as tracked,
            has_reaching_call or wechat_status = 'success' as reached,
            calls > 0 or wechat_status in ('sent', 'success') as contacted,
            returned_at is not null as returned,
            case when returned_at is not null then returned_dealer_code = dealer_code end as returned_same_dealer,
            closed_reason is not null as is_closed,
            {{ add_days(var('return_grace_days'), month_end('month')) }} <= {{ as_of_date() }} as is_final,
            {{ as_of_date() }} as status_as_of

        from observed

    ),

    outcomes as (

        select
            *,
            -- RULES.md "Carry-over": a phone task is done once reached and returned, a wechat
            -- (bound) task once tracked and returned
            case
                when channel = 'wechat' then tracked and returned
                else reached and returned
            end as is_done

        from statuses

    )

    select
        *,
        case
            when is_done then 'done'
            when is_closed then 'closed'
            when valid_until < {{ add_months(1, 'month') }} then 'window_passed'
            when carry_months >= {{ var('max_carry_months') }} then 'max_carry'
            else 'carried'
        end as stop_reason

    from outcomes
{%- endmacro %}


{#- Incremental strategy `replace_report_month`: the list of month M replaces whatever the table
    held for M, even when the new list is empty (delete+insert keyed on the rows' month would keep
    an old month's rows when the rerun yields none). Other months are never touched. -#}
{% macro get_incremental_replace_report_month_sql(arg_dict) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }} where month = {{ report_month() }};
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}


{#- Incremental strategy `replace_status_months`: the rows of the months a run recomputes
    (reminder_status_from() to M) are replaced whole; older months are never touched. -#}
{% macro get_incremental_replace_status_months_sql(arg_dict) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }}
    where month >= {{ reminder_status_from() }} and month <= {{ report_month() }};
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
