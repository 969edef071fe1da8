{#- dbt's dateadd and datediff on Spark, as the project runs it (docs/spark.md "What differs").

    dbt-spark 1.11's dateadd returns to_timestamp(<seconds since 1970>), which is null in a session
    whose default timestamp type is TIMESTAMP_NTZ (profiles.yml: naive Beijing time everywhere), so
    every dbt.dateadd, and dbt.last_day built on it, was null on Spark. timestampadd is Spark's own
    date arithmetic: a month or year past the end of the target month gives its last day
    (2024-02-29 + 1 year = 2025-02-28), as DuckDB's interval arithmetic does.

    dbt-spark's datediff counts started hours/minutes/seconds (a ceiling of the seconds between);
    DuckDB, like dbt's other adapters, counts the boundaries crossed: 10:11:50 to 10:12:10 is one
    minute. The sub-day parts here count boundaries; the others are dbt-spark's.

    Found first in this project's search order for the `dbt` namespace (dbt_project.yml
    `dispatch`), so dbt's own macros (last_day, ...) use them too; DuckDB keeps dbt-duckdb's. -#}

{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart | upper }}, cast({{ interval }} as int), {{ from_date_or_timestamp }})
{%- endmacro %}

{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set seconds = {'hour': 3600, 'minute': 60, 'second': 1} -%}
    {%- if datepart in seconds -%}
    cast((
        unix_timestamp(date_trunc('{{ datepart }}', {{ second_date }}))
        - unix_timestamp(date_trunc('{{ datepart }}', {{ first_date }}))
    ) div {{ seconds[datepart] }} as bigint)
    {%- else -%}
    {{ dbt.spark__datediff(first_date, second_date, datepart) }}
    {%- endif -%}
{%- endmacro %}
