{#- Constructs DuckDB and Spark spell differently (docs/spark.md "What differs"). Each has a
    duckdb__ version (what the models always said on DuckDB) and a default__ version in the
    standard SQL Spark 4 accepts. -#}

{#- `select * exclude (...)` (DuckDB) / `select * except (...)` (Spark) -#}
{% macro star_except(columns) -%}
    {{ return(adapter.dispatch('star_except', 'aftercare')(columns)) }}
{%- endmacro %}
{% macro duckdb__star_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}
{% macro default__star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}

{#- The value of `value` on the row with the greatest `keys` (a list of expressions compared in
    order), over the rows where `value` is not null: DuckDB's arg_max. Spark's max_by keeps a null
    value, so the default version orders only the rows that have one. -#}
{% macro arg_max(value, keys) -%}
    {{ return(adapter.dispatch('arg_max', 'aftercare')(value, keys)) }}
{%- endmacro %}
{% macro duckdb__arg_max(value, keys) -%}
    arg_max({{ value }}, {{ keys[0] if keys | length == 1 else '[' ~ keys | join(', ') ~ ']' }})
{%- endmacro %}
{% macro default__arg_max(value, keys) -%}
    max_by({{ value }}, case when {{ value }} is not null then {{ _order_key(keys) }} end)
{%- endmacro %}

{#- As arg_max, but the row with the greatest key decides even when its value is null -#}
{% macro arg_max_null(value, keys) -%}
    {{ return(adapter.dispatch('arg_max_null', 'aftercare')(value, keys)) }}
{%- endmacro %}
{% macro duckdb__arg_max_null(value, keys) -%}
    arg_max_null({{ value }}, {{ keys[0] if keys | length == 1 else '[' ~ keys | join(', ') ~ ']' }})
{%- endmacro %}
{% macro default__arg_max_null(value, keys) -%}
    max_by({{ value }}, {{ _order_key(keys) }})
{%- endmacro %}

{% macro arg_min(value, keys) -%}
    {{ return(adapter.dispatch('arg_min', 'aftercare')(value, keys)) }}
{%- endmacro %}
{% macro duckdb__arg_min(value, keys) -%}
    arg_min({{ value }}, {{ keys[0] if keys | length == 1 else '[' ~ keys | join(', ') ~ ']' }})
{%- endmacro %}
{% macro default__arg_min(value, keys) -%}
    min_by({{ value }}, case when {{ value }} is not null then {{ _order_key(keys) }} end)
{%- endmacro %}

{% macro _order_key(keys) -%}
    {{ keys[0] if keys | length == 1 else 'struct(' ~ keys | join(', ') ~ ')' }}
{%- endmacro %}

{#- seconds since 1970-01-01 of a date or timestamp (naive: no zone) -#}
{% macro epoch_seconds(expression) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'aftercare')(expression)) }}
{%- endmacro %}
{% macro duckdb__epoch_seconds(expression) -%}
    epoch({{ expression }})
{%- endmacro %}
{% macro default__epoch_seconds(expression) -%}
    unix_timestamp(cast({{ expression }} as timestamp))
{%- endmacro %}

{#- a tie-break of no meaning (which of two vehicles bought the same day wins): DuckDB's hash;
    Spark's xxhash64 orders ties otherwise, so such a tie may resolve differently per engine -#}
{% macro tie_break_hash(expression) -%}
    {{ return(adapter.dispatch('tie_break_hash', 'aftercare')(expression)) }}
{%- endmacro %}
{% macro duckdb__tie_break_hash(expression) -%}
    hash({{ expression }})
{%- endmacro %}
{% macro default__tie_break_hash(expression) -%}
    xxhash64({{ expression }})
{%- endmacro %}

{#- minute boundaries crossed from `start` to `end` (DuckDB's date_diff('minute', ...)); dbt's
    datediff counts started minutes on Spark, which differs when the seconds do -#}
{% macro minutes_between(start, end) -%}
    {{ return(adapter.dispatch('minutes_between', 'aftercare')(start, end)) }}
{%- endmacro %}
{% macro duckdb__minutes_between(start, end) -%}
    date_diff('minute', {{ start }}, {{ end }})
{%- endmacro %}
{% macro default__minutes_between(start, end) -%}
    cast((unix_timestamp(date_trunc('minute', {{ end }})) - unix_timestamp(date_trunc('minute', {{ start }}))) / 60 as bigint)
{%- endmacro %}

{#- the rows of a list column, one per element -#}
{% macro unnest_list(expression) -%}
    {{ return(adapter.dispatch('unnest_list', 'aftercare')(expression)) }}
{%- endmacro %}
{% macro duckdb__unnest_list(expression) -%}
    unnest({{ expression }})
{%- endmacro %}
{% macro default__unnest_list(expression) -%}
    explode({{ expression }})
{%- endmacro %}

{#- the values joined by `separator` in `order_by` order -#}
{% macro string_agg_ordered(expression, separator, order_by, distinct=false) -%}
    {{ return(adapter.dispatch('string_agg_ordered', 'aftercare')(expression, separator, order_by, distinct)) }}
{%- endmacro %}
{% macro duckdb__string_agg_ordered(expression, separator, order_by, distinct) -%}
    string_agg({{ 'distinct ' if distinct }}{{ expression }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}
{% macro default__string_agg_ordered(expression, separator, order_by, distinct) -%}
    {%- if distinct and order_by == expression -%}
    {#- the distinct values in their order, as a set sorted: Spark 4's optimizer fails on a distinct
        listagg beside another distinct aggregate (RewriteDistinctAggregates: ClassCastException);
        no value at all is null, as string_agg gives -#}
    case
        when count({{ expression }}) > 0
            then array_join(array_sort(collect_set({{ expression }})), {{ separator }})
    end
    {%- else -%}
    string_agg({{ 'distinct ' if distinct }}{{ expression }}, {{ separator }}) within group (order by {{ order_by }})
    {%- endif -%}
{%- endmacro %}

{#- a finite double: not null, not NaN, not infinite -#}
{% macro is_finite(expression) -%}
    {{ return(adapter.dispatch('is_finite', 'aftercare')(expression)) }}
{%- endmacro %}
{% macro duckdb__is_finite(expression) -%}
    isfinite({{ expression }})
{%- endmacro %}
{% macro default__is_finite(expression) -%}
    (not isnan({{ expression }}) and abs({{ expression }}) < double('Infinity'))
{%- endmacro %}

{#- join each row to the sale record that owned its VIN on `day`: the latest one starting on or
    before it. DuckDB's ASOF join; elsewhere the span join, equal because spans do not overlap
    (int_vehicle_sales_ranked: owned_from .. owned_until, exclusive) -#}
{% macro ownership_join(relation, alias, vin, day) -%}
    {{ return(adapter.dispatch('ownership_join', 'aftercare')(relation, alias, vin, day)) }}
{%- endmacro %}
{% macro duckdb__ownership_join(relation, alias, vin, day) -%}
    asof left join {{ relation }} as {{ alias }}
        on
            {{ vin }} = {{ alias }}.vin
            and {{ day }} >= {{ alias }}.owned_from
{%- endmacro %}
{% macro default__ownership_join(relation, alias, vin, day) -%}
    left join {{ relation }} as {{ alias }}
        on
            {{ vin }} = {{ alias }}.vin
            and {{ day }} >= {{ alias }}.owned_from
            and {{ day }} < {{ alias }}.owned_until
{%- endmacro %}

{#- whole months from `start` to `end` as DuckDB's date_sub('month', ...) counts them: a month is
    complete when `end`'s day is not before `start`'s, or `end` is the last day of its month -#}
{% macro months_elapsed(start, end) -%}
    {{ return(adapter.dispatch('months_elapsed', 'aftercare')(start, end)) }}
{%- endmacro %}
{% macro duckdb__months_elapsed(start, end) -%}
    date_sub('month', {{ start }}, {{ end }})
{%- endmacro %}
{% macro default__months_elapsed(start, end) -%}
    (
        (year({{ end }}) * 12 + month({{ end }})) - (year({{ start }}) * 12 + month({{ start }}))
        - case when day({{ end }}) < day({{ start }}) and {{ end }} <> last_day({{ end }}) then 1 else 0 end
    )
{%- endmacro %}

{% macro years_elapsed(start, end) -%}
    {{ return(adapter.dispatch('years_elapsed', 'aftercare')(start, end)) }}
{%- endmacro %}
{% macro duckdb__years_elapsed(start, end) -%}
    date_sub('year', {{ start }}, {{ end }})
{%- endmacro %}
{% macro default__years_elapsed(start, end) -%}
    ({{ default__months_elapsed(start, end) }} div 12)
{%- endmacro %}

{#- a date plus a whole number of months or years (the month's last day when the day is past it) -#}
{% macro date_plus_months(date, months) -%}
    {{ return(adapter.dispatch('date_plus_months', 'aftercare')(date, months)) }}
{%- endmacro %}
{% macro duckdb__date_plus_months(date, months) -%}
    {{ date }} + to_months({{ months }})
{%- endmacro %}
{% macro default__date_plus_months(date, months) -%}
    add_months({{ date }}, {{ months }})
{%- endmacro %}

{% macro date_plus_years(date, years) -%}
    {{ return(adapter.dispatch('date_plus_years', 'aftercare')(date, years)) }}
{%- endmacro %}
{% macro duckdb__date_plus_years(date, years) -%}
    {{ date }} + to_years({{ years }})
{%- endmacro %}
{% macro default__date_plus_years(date, years) -%}
    add_months({{ date }}, 12 * ({{ years }}))
{%- endmacro %}

{#- integer division, rounding down (operands are not negative where it is used) -#}
{% macro int_div(dividend, divisor) -%}
    {{ return(adapter.dispatch('int_div', 'aftercare')(dividend, divisor)) }}
{%- endmacro %}
{% macro duckdb__int_div(dividend, divisor) -%}
    {{ dividend }} // {{ divisor }}
{%- endmacro %}
{% macro default__int_div(dividend, divisor) -%}
    {{ dividend }} div {{ divisor }}
{%- endmacro %}

{#- the distinct non-null values of a group as a list (in no particular order) -#}
{% macro distinct_list_agg(expression) -%}
    {{ return(adapter.dispatch('distinct_list_agg', 'aftercare')(expression)) }}
{%- endmacro %}
{% macro duckdb__distinct_list_agg(expression) -%}
    list(distinct {{ expression }})
{%- endmacro %}
{% macro default__distinct_list_agg(expression) -%}
    collect_set({{ expression }})
{%- endmacro %}
