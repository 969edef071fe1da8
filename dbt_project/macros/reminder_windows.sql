{#- The two reminder windows that several reminder types share (docs/reminders.md "Reminder list
    for month M"). Each renders the whole candidates query of one type over int_vehicles_enriched,
    with the columns int_reminder_candidates unions; the models keep their names, their comments
    and their unit tests, the rule lives here once. -#}


{#- Maintenance window (首保, 保养): due on next_maintenance_due_date when the vehicle's next
    maintenance is of this type; generated in the due month and up to grace_months after it, valid
    through the last month of that window. -#}
{% macro maintenance_window_candidates(reminder_type, grace_months) %}

with

vehicles as (

    select * from {{ ref('int_vehicles_enriched') }}
    where next_maintenance_type = '{{ reminder_type }}'

),

windows as (

    select
        vin,
        servicing_dealer_code as dealer_code,
        next_maintenance_due_date as due_date,
        {{ month_start('next_maintenance_due_date') }} as window_start,
        {{ add_months(grace_months, month_start('next_maintenance_due_date')) }} as window_end

    from vehicles

),

candidates as (

    select
        vin,
        '{{ reminder_type }}' as reminder_type,
        {{ month_label('window_start') }} as cycle,
        due_date,
        window_start,
        window_end,
        {{ month_end('window_end') }} as valid_until,
        {{ reminder_candidate_columns() }}

    from windows
    where {{ report_month() }} between window_start and window_end

)

select * from candidates

{% endmacro %}


{#- Month-before window (保险, 质保): due on the date in due_date_column; generated only in the month
    before the due month (due month = M+1), valid through the due month. -#}
{% macro month_before_due_candidates(reminder_type, due_date_column) %}

with

vehicles as (

    select * from {{ ref('int_vehicles_enriched') }}
    where {{ due_date_column }} is not null

),

windows as (

    select
        vin,
        servicing_dealer_code as dealer_code,
        {{ due_date_column }} as due_date,
        {{ month_start(due_date_column) }} as due_month,
        {{ add_months(-1, month_start(due_date_column)) }} as window_start

    from vehicles

),

candidates as (

    select
        vin,
        '{{ reminder_type }}' as reminder_type,
        {{ month_label('due_month') }} as cycle,
        due_date,
        window_start,
        window_start as window_end,
        {{ month_end('due_month') }} as valid_until,
        {{ reminder_candidate_columns() }}

    from windows
    where window_start = {{ report_month() }}

)

select * from candidates

{% endmacro %}


{#- The columns every reminder candidates model ends its select with, in the order
    int_reminder_candidates unions them: the dealer that gets the task, the two inspection flags
    (false for every other type) and the campaign (null but for campaigns). An argument is the
    expression of that column; a column named by its own name is selected without an alias. -#}
{% macro reminder_candidate_columns(
    dealer_code='dealer_code',
    is_sticker_only='false',
    is_usage_assumed='false',
    campaign_code=none
) -%}
    {%- set columns = [
        ('dealer_code', dealer_code),
        ('is_sticker_only', is_sticker_only),
        ('is_usage_assumed', is_usage_assumed),
        ('campaign_code', campaign_code or 'cast(null as ' ~ dbt.type_string() ~ ')'),
    ] -%}
    {%- for name, expression in columns %}
        {{ expression }}{% if expression != name %} as {{ name }}{% endif %}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
