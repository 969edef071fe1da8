{#- The cut-off of a run: the last day of the month before the month being prepared.
    `aftercare run --month M` passes it as the var as_of_date; every event model filters on it
    so a rerun for an old month sees the world as it was then. -#}
{% macro as_of_date() -%}
    cast('{{ var("as_of_date") }}' as date)
{%- endmacro %}


{#- True when the event at `column` (a DATE or TIMESTAMP) happened on or before the cut-off day. -#}
{% macro on_or_before_as_of(column) -%}
    cast({{ column }} as date) <= {{ as_of_date() }}
{%- endmacro %}
