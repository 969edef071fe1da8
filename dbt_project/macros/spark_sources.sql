{#- engine.kind = "spark" (docs/spark.md): before a build, declare every dbt source as a Spark table
    over the Parquet folder assets/transform/spark.py wrote for it from the DuckDB warehouse, and
    put the project's schemas under the Spark folder, so the marts land where the run reads them
    back. On DuckDB the sources are the warehouse's own tables: nothing to do. -#}
{% macro register_spark_sources() -%}
    {{ return(adapter.dispatch('register_spark_sources', 'aftercare')()) }}
{%- endmacro %}

{% macro default__register_spark_sources() -%}
{%- endmacro %}

{% macro spark__register_spark_sources() -%}
    {%- if execute -%}
        {%- set spark_dir = var('spark_dir', '../data/spark') -%}
        {%- for schema in ['staging', 'intermediate', 'marts'] -%}
            {%- do run_query(
                "create database if not exists " ~ schema
                ~ " location '" ~ spark_dir ~ "/warehouse/" ~ schema ~ ".db'"
            ) -%}
        {%- endfor -%}
        {%- set declared = [] -%}
        {#- one statement per schema, not per table: each costs a metastore round trip -#}
        {%- for schema in graph.sources.values() | map(attribute='schema') | unique -%}
            {%- do run_query('create database if not exists ' ~ schema) -%}
        {%- endfor -%}
        {%- for source in graph.sources.values() -%}
            {%- set relation = source.schema ~ '.' ~ source.identifier -%}
            {%- if relation not in declared -%}
                {%- do declared.append(relation) -%}
                {#- dropping a table over a location leaves its files: they are the export -#}
                {%- do run_query('drop table if exists ' ~ relation) -%}
                {%- do run_query(
                    'create table ' ~ relation ~ " using parquet location '"
                    ~ spark_dir ~ '/sources/' ~ source.schema ~ '/' ~ source.identifier ~ "'"
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
