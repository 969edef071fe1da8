{#- Models land in the schema named in dbt_project.yml (staging, intermediate, marts),
    not dbt's default <target>_<custom> concatenation, so the warehouse reads like the docs. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
