{#- Staging maps the Chinese enumerations of the exports (SOURCES.md) to English codes.
    The one list of them is the seed `enumerations` (enumeration, code, source_value, labels), which
    Python reads too (sources/enumerations.py): marts, tests, the dealer files and the dashboard
    share the same codes. A value that is already the English code passes through (a source may
    send either); any other value becomes 'unknown', which the accepted_values tests (severity warn)
    report; null stays null. -#}

{% macro enum_to_code(column, enumeration) -%}
    {%- set codes = enum_codes(enumeration) -%}
    case
        {%- for chinese, code in codes.items() %}
        when trim({{ column }}) = '{{ chinese }}' then '{{ code }}'
        {%- endfor %}
        when trim({{ column }}) in ({% for code in codes.values() | unique %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor %}) then trim({{ column }})
        when {{ column }} is null or trim({{ column }}) = '' then null
        else 'unknown'
    end
{%- endmacro %}

{% macro enum_codes(enumeration) -%}
    {#- source_value -> code of one enumeration, read from the seed when the model runs (the ref
        makes every model that maps an enumeration depend on the seed). -#}
    {%- set seed = ref('enumerations') -%}
    {%- if not execute -%}
        {{ return({'': ''}) }}
    {%- endif -%}
    {%- set rows = run_query(
        "select source_value, code from " ~ seed ~ " where enumeration = '" ~ enumeration
        ~ "' and source_value is not null and source_value <> '' order by code"
    ) -%}
    {%- if rows | length == 0 -%}
        {{ exceptions.raise_compiler_error("no enumeration '" ~ enumeration ~ "' in the seed enumerations") }}
    {%- endif -%}
    {%- set codes = {} -%}
    {%- for row in rows -%}
        {%- do codes.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {{ return(codes) }}
{%- endmacro %}
