{#- The cut-off of a run: the last day of the month before the month being prepared.
    `aftercare run --month M` passes it (run_parameter below); every event model filters on it
    so a rerun for an old month sees the world as it was then. -#}
{% macro as_of_date() -%}
    cast('{{ as_of_date_iso() }}' as date)
{%- endmacro %}

{#- The cut-off as 'YYYY-MM-DD' (ad-hoc `dbt build` without a month: 2099-12-31, everything). -#}
{% macro as_of_date_iso() -%}
    {{- run_parameter('as_of_date', '2099-12-31') | trim -}}
{%- endmacro %}


{#- A run's own month, as_of_date and report_month, reaches dbt through the environment of the dbt
    process (AFTERCARE_DBT_AS_OF_DATE, AFTERCARE_DBT_REPORT_MONTH: assets/transform/dbt.py), not
    through --vars: dbt parses the whole project again (~7 s of CPU) whenever --vars differ from its
    last parse, and these two differ every month, where the rule parameters in --vars do not. A var
    of the same name still wins (a dbt unit test's `overrides: vars:`, an ad-hoc
    `dbt build --vars '{"as_of_date": ...}'`). The environment is read only while executing: read
    while parsing, dbt would tie every model using it to the variable and parse those again each
    month. Printed rather than returned, so that sqlfluff's templater renders it as dbt does. -#}
{% macro run_parameter(name, default) -%}
    {%- set given = var(name, none) -%}
    {%- if given is not none -%}
        {{- given -}}
    {%- elif execute -%}
        {{- env_var('AFTERCARE_DBT_' ~ (name | upper), default) -}}
    {%- else -%}
        {{- default -}}
    {%- endif -%}
{%- endmacro %}


{#- True when the event at `column` (a DATE or TIMESTAMP) happened on or before the cut-off day. -#}
{% macro on_or_before_as_of(column) -%}
    cast({{ column }} as date) <= {{ as_of_date() }}
{%- endmacro %}
