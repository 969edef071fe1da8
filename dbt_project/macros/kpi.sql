{#- KPI building blocks (docs/kpis.md). Portable: dbt's cross-database macros, and adapter.dispatch
    where DuckDB and Spark differ. -#}


{#- The first day of the month `back` months before the month of the cut-off, 'YYYY-MM-01'.
    The run of month M computes KPIs for the `kpi_history_months` months ending with the cut-off's
    month (M-1); known at compile time from the vars, so the calendar is plain literals on every
    engine. -#}
{% macro kpi_month(back) -%}
    {%- set as_of = modules.datetime.date.fromisoformat(as_of_date_iso() | string | trim) -%}
    {%- set index = as_of.year * 12 + as_of.month - 1 - back -%}
    {{- '%04d-%02d-01' | format(index // 12, index % 12 + 1) -}}
{%- endmacro %}


{#- The first day of the oldest / newest KPI month, as SQL date literals. -#}
{% macro kpi_first_month() -%}
    cast('{{ kpi_month(var('kpi_history_months') | int - 1) }}' as date)
{%- endmacro %}

{% macro kpi_last_month() -%}
    cast('{{ kpi_month(0) }}' as date)
{%- endmacro %}


{#- A row is final once its period is over and `settle_days` more days have passed at the cut-off. -#}
{% macro kpi_is_final(period_end, settle_days) -%}
    cast({{ dbt.dateadd('day', settle_days, period_end) }} as date) <= {{ as_of_date() }}
{%- endmacro %}


{#- Percentiles of a set of values, as a list (one sort for all of them), exact and interpolated
    between the two nearest values on both engines: DuckDB's quantile_cont, Spark's percentile
    (which counts each distinct value of a group: a dealer's month of hours or minutes is small;
    percentile_approx would differ from DuckDB's figures). Pick an element with kpi_list_item. -#}
{% macro kpi_percentiles(expression, fractions) -%}
    {{ return(adapter.dispatch('kpi_percentiles')(expression, fractions)) }}
{%- endmacro %}

{% macro default__kpi_percentiles(expression, fractions) -%}
    percentile({{ expression }}, array({{ fractions | join(', ') }}))
{%- endmacro %}

{% macro duckdb__kpi_percentiles(expression, fractions) -%}
    quantile_cont({{ expression }}, [{{ fractions | join(', ') }}])
{%- endmacro %}


{#- The `position`-th element (1-based) of a list of percentiles, rounded like kpi_rate. -#}
{% macro kpi_list_item(list, position) -%}
    {{ return(adapter.dispatch('kpi_list_item')(list, position)) }}
{%- endmacro %}

{% macro default__kpi_list_item(list, position) -%}
    round(element_at({{ list }}, {{ position }}), 6)
{%- endmacro %}

{% macro duckdb__kpi_list_item(list, position) -%}
    round(list_extract({{ list }}, {{ position }}), 6)
{%- endmacro %}


{#- Months as integers (year * 12 + month - 1): range arithmetic over millions of rows without a
    date function per row; month_from_index turns a few aggregated ones back into dates. -#}
{% macro month_index(date) -%}
    cast(extract(year from {{ date }}) * 12 + extract(month from {{ date }}) - 1 as integer)
{%- endmacro %}

{% macro kpi_month_index(back) -%}
    {%- set as_of = modules.datetime.date.fromisoformat(as_of_date_iso() | string | trim) -%}
    {{- as_of.year * 12 + as_of.month - 1 - back -}}
{%- endmacro %}

{% macro month_from_index(index) -%}
    cast({{ dbt.dateadd('month', '(' ~ index ~ ') - 24000', "cast('2000-01-01' as date)") }} as date)
{%- endmacro %}


{#- The first month (index) at whose end a reference date (a DATE) is no longer within `months`
    months: the first month k with reference <= last_day(k) - `months` months, the cut of the
    lapse-status rule (macro lapse_status) evaluated at each month end. It is the month `months`
    after the reference's, or the one after that when the reference's day is later than that
    month has days (Aug 31 is still within 6 months on Feb 28). -#}
{% macro month_status_ends(reference, months) -%}
    {%- set due = month_index(reference) ~ ' + ' ~ months -%}
    case
        when
            extract(day from {{ reference }}) > 28
            and extract(day from {{ reference }}) > extract(day from {{ dbt.last_day(month_from_index(due), 'month') }})
            then {{ due }} + 1
        else {{ due }}
    end
{%- endmacro %}


{#- One KPI table's rows from event rows, at every requested grain and level (docs/kpis.md).

    `rows` (a CTE) holds one row per event (or per pre-aggregated group) with:
      `date_column`  the event's DATE (a month start for pre-aggregated monthly rows);
      dealer_code, dealer_name, region   the level attributes (never null: `unassigned`/`unknown`);
      the `dims` columns                 breakdown values (never null);
      the `sums` columns                 additive figures, summed over the period (BIGINT);
      the `decimal_sums` columns         the same, DOUBLE (weighted figures);
      the `stocks` columns               states at a month end, on rows dated that month's first day
                                         with is_stock_row true (flow rows: false): a period takes
                                         its last month's value (null on day rows);
      consultant_userid (when `consultant_level`) a fourth level below the dealer.
    `aggregates` maps extra output columns to aggregate SQL over the rows (percentiles).

    Output: period_grain, period_start, period_end, month, is_final, level, level_key, region,
    dealer_code, dealer_name, [consultant_userid], dims, sums, stocks, aggregates. Counts are
    BIGINT. The all-dims rows of every month/quarter/year and level member from the first month
    with rows on are there even when nothing happened (`densify`), with zero counts. -#}
{% macro kpi_rollup(
    rows,
    date_column,
    grains=['month', 'quarter', 'year'],
    sums=[],
    decimal_sums=[],
    stocks=[],
    aggregates={},
    dims=[],
    settle_days=none,
    densify=true,
    consultant_level=false
) -%}
{%- set settle = settle_days if settle_days is not none else var('kpi_settle_days') -%}
{%- set levels = ['nation', 'region', 'dealer'] + (['consultant'] if consultant_level else []) -%}
{%- set level_columns = {
    'nation': {'level_key': "'nation'", 'region': 'null', 'dealer_code': 'null', 'dealer_name': 'null', 'consultant_userid': 'null'},
    'region': {'level_key': 'region', 'region': 'region', 'dealer_code': 'null', 'dealer_name': 'null', 'consultant_userid': 'null'},
    'dealer': {'level_key': 'dealer_code', 'region': 'region', 'dealer_code': 'dealer_code', 'dealer_name': 'dealer_name', 'consultant_userid': 'null'},
    'consultant': {'level_key': 'consultant_userid', 'region': 'region', 'dealer_code': 'dealer_code', 'dealer_name': 'dealer_name', 'consultant_userid': 'consultant_userid'},
} -%}
{%- set group_columns = {
    'nation': [],
    'region': ['region'],
    'dealer': ['region', 'dealer_code', 'dealer_name'],
    'consultant': ['region', 'dealer_code', 'dealer_name', 'consultant_userid'],
} -%}
{#- the column that tells a grouping set's level: the one the level adds to the level above -#}
{%- set level_identifier = {'region': 'region', 'dealer': 'dealer_code', 'consultant': 'consultant_userid'} -%}
{#- each breakdown: the total (every dim 'all') and one dim at a time -#}
{%- set breakdowns = [none] + dims -%}
{%- set attribute_columns = ['level_key', 'region', 'dealer_code', 'dealer_name'] + (['consultant_userid'] if consultant_level else []) -%}
{%- set payload_columns = ['level'] + attribute_columns + dims + sums + decimal_sums + stocks + (aggregates.keys() | list) -%}
{%- set base_group_columns = ['region', 'dealer_code', 'dealer_name'] + (['consultant_userid'] if consultant_level else []) -%}
{%- set base_date = 'cast(' ~ date_column ~ ' as date)' if 'day' in grains else 'kpi_row_month' -%}
{%- set day_stocks = stocks and 'day' in grains -%}

kpi_rows_in_range as (

    select
        *,
        {{ month_start(date_column) }} as kpi_row_month
    from {{ rows }}
    where
        {{ month_start(date_column) }} >= {{ kpi_first_month() }}
        and {{ month_start(date_column) }} <= {{ kpi_last_month() }}

),

-- the rows summed per day or month, dealer (consultant) and breakdown first: the roll-up below
-- reads these few rows once per grain, level and breakdown instead of every event
kpi_base as (

    select
        {{ base_date }} as kpi_base_date,
        kpi_row_month,
        {%- if day_stocks %}
        is_stock_row,
        {%- endif %}
        {{ (base_group_columns + dims) | join(',\n        ') }}
        {%- for column in sums + decimal_sums + stocks %},
        sum({{ column }}) as {{ column }}
        {%- endfor %}
    from kpi_rows_in_range
    group by
        {{ base_date }},
        kpi_row_month,
        {%- if day_stocks %}
        is_stock_row,
        {%- endif %}
        {{ (base_group_columns + dims) | join(',\n        ') }}

),

-- each base row once per grain, level and breakdown it counts in, with the keys of that row of
-- the roll-up: one plain `group by` then sums every period, level member and breakdown. It reads the
-- base once, where a `union all` of one branch per grain, level and breakdown had Spark recompute
-- the whole CTE chain per branch (docs/spark.md "Speed")
kpi_base_expanded as (

    {{ kpi_expand('kpi_base', 'kpi_base_date', grains, levels, level_columns, attribute_columns, dims,
        where="not (kpi_grains.rollup_grain = 'day' and is_stock_row)" if day_stocks else none) }}

),

kpi_summed as (

    select
        rollup_grain as period_grain,
        rollup_period_start as period_start,
        rollup_level as level,
        {%- for column in attribute_columns + dims %}
        rollup_{{ column }} as {{ column }},
        {%- endfor %}
        {%- for column in sums %}
        cast(coalesce(sum({{ column }}), 0) as bigint) as {{ column }},
        {%- endfor %}
        {%- for column in decimal_sums %}
        round(cast(coalesce(sum({{ column }}), 0) as double), 6) as {{ column }},
        {%- endfor %}
        {%- for column in stocks %}
        -- a period takes the stock of its last month (of the newest KPI month while it runs)
        case
            when rollup_grain = 'day' then cast(null as bigint)
            else cast(coalesce(sum(case
                when kpi_row_month = {{ kpi_period_last_month('rollup_grain', 'rollup_period_start', grains) }}
                    then {{ column }}
            end), 0) as bigint)
        end as {{ column }},
        {%- endfor %}
        1 as kpi_row_count
    from kpi_base_expanded
    group by
        {{ kpi_expanded_keys(attribute_columns, dims) }}

),

{%- if aggregates %}

-- aggregates that do not add up (percentiles) need the events themselves: one aggregate with a
-- grouping set per grain, level and breakdown reads each event once. Expanding every event into a
-- row per grain, level and breakdown first (as kpi_summed does with the few base rows) made 113M
-- rows of string keys out of M's 6.3M repair orders for kpi_workshop_flow (docs/benchmarks.md)
kpi_rows_with_periods as (

    select
        *
        {%- for grain in grains %},
        {{ period_start_of(grain, date_column) }} as kpi_period_{{ grain }}
        {%- endfor %}
    from kpi_rows_in_range

),

kpi_aggregated as (

    select
        case
            {%- for grain in grains %}
            when grouping(kpi_period_{{ grain }}) = 0 then '{{ grain }}'
            {%- endfor %}
        end as period_grain,
        case
            {%- for grain in grains %}
            when grouping(kpi_period_{{ grain }}) = 0 then kpi_period_{{ grain }}
            {%- endfor %}
        end as period_start,
        {#- a set's level is its deepest level column grouped: the consultant, the dealer, the region #}
        case
            {%- for level in levels | reverse if level != 'nation' %}
            when grouping({{ level_identifier[level] }}) = 0 then '{{ level }}'
            {%- endfor %}
            else 'nation'
        end as level,
        case
            {%- for level in levels | reverse if level != 'nation' %}
            when grouping({{ level_identifier[level] }}) = 0 then {{ level_columns[level]['level_key'] }}
            {%- endfor %}
            else 'nation'
        end as level_key,
        {%- for dim in dims %}
        case when grouping({{ dim }}) = 0 then {{ dim }} else 'all' end as {{ dim }},
        {%- endfor %}
        {%- for name, expression in aggregates.items() %}
        {{ expression }} as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from kpi_rows_with_periods
    -- sqlfluff's DuckDB dialect lacks GROUPING SETS (DuckDB and Spark have them)
    group by grouping sets ( -- noqa: PRS
        {%- for grain in grains %}
        {%- set grain_loop = loop %}
        {%- for level in levels %}
        {%- set level_loop = loop %}
        {%- for breakdown in [none] + dims %}
        ({{ (['kpi_period_' ~ grain] + group_columns[level] + ([breakdown] if breakdown else [])) | join(', ') }})
        {%- if not (grain_loop.last and level_loop.last and loop.last) %},{% endif %}
        {%- endfor %}
        {%- endfor %}
        {%- endfor %}
    )

),
{%- endif %}

kpi_grouped as (

    select
        kpi_summed.period_grain,
        kpi_summed.period_start,
        kpi_summed.level,
        {%- for column in attribute_columns + dims + sums + decimal_sums + stocks %}
        kpi_summed.{{ column }},
        {%- endfor %}
        {%- for name in aggregates %}
        kpi_aggregated.{{ name }},
        {%- endfor %}
        kpi_summed.kpi_row_count
    from kpi_summed
    {%- if aggregates %}
    left join kpi_aggregated
        on
            kpi_summed.period_grain = kpi_aggregated.period_grain
            and kpi_summed.period_start = kpi_aggregated.period_start
            and kpi_summed.level = kpi_aggregated.level
            and kpi_summed.level_key = kpi_aggregated.level_key
            {%- for dim in dims %}
            and kpi_summed.{{ dim }} = kpi_aggregated.{{ dim }}
            {%- endfor %}
    {%- endif %}

),

{%- if densify %}

-- every month/quarter/year from the table's first month, for every level member it has, so a
-- quiet month shows zeros rather than nothing
kpi_calendar_periods as (

    {%- for grain in grains if grain != 'day' %}
    select distinct
        '{{ grain }}' as period_grain,
        cast({{ dbt.date_trunc(grain, 'month_start') }} as date) as period_start
    from {{ ref('int_kpi_calendar') }}
    where month_start >= (select min(kpi_row_month) from kpi_base)
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

kpi_members as (

    select distinct
        level,
        {{ attribute_columns | join(',\n        ') }}
    from kpi_grouped

),

kpi_dense as (

    select
        kpi_calendar_periods.period_grain,
        kpi_calendar_periods.period_start,
        kpi_members.level,
        {%- for column in attribute_columns %}
        kpi_members.{{ column }},
        {%- endfor %}
        {%- for dim in dims %}
        'all' as {{ dim }},
        {%- endfor %}
        {%- for column in sums + decimal_sums + stocks %}
        coalesce(kpi_grouped.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        {%- for name in aggregates %}
        kpi_grouped.{{ name }},
        {%- endfor %}
        1 as kpi_row_count
    from kpi_calendar_periods
    cross join kpi_members
    left join kpi_grouped
        on
            kpi_calendar_periods.period_grain = kpi_grouped.period_grain
            and kpi_calendar_periods.period_start = kpi_grouped.period_start
            and kpi_members.level = kpi_grouped.level
            and kpi_members.level_key = kpi_grouped.level_key
            {%- for dim in dims %}
            and kpi_grouped.{{ dim }} = 'all'
            {%- endfor %}

    union all

    -- breakdown rows and day rows: only where something happened
    select
        period_grain,
        period_start,
        {{ payload_columns | join(',\n        ') }},
        kpi_row_count
    from kpi_grouped
    where
        {%- if 'day' in grains %}
        period_grain = 'day'
        {%- else %}
        false
        {%- endif %}
        {%- for dim in dims %}
        or {{ dim }} != 'all'
        {%- endfor %}

),
{%- endif %}

kpi_rolled_up as (

    select
        period_grain,
        period_start,
        case period_grain
            {%- for grain in grains %}
            when '{{ grain }}' then {{ 'period_start' if grain == 'day' else dbt.last_day('period_start', grain) }}
            {%- endfor %}
        end as period_end,
        case when period_grain = 'month' then period_start end as month,
        {{ payload_columns | join(',\n        ') }}
    from {{ 'kpi_dense' if densify else 'kpi_grouped' }}

),

kpi_rows as (

    select
        period_grain,
        period_start,
        period_end,
        month,
        {{ kpi_is_final('period_end', settle) }} as is_final,
        {{ payload_columns | join(',\n        ') }}
    from kpi_rolled_up

)
{%- endmacro %}


{#- The first day of the period of `grain` holding `date` (a DATE, or a day's date for 'day'). -#}
{% macro period_start_of(grain, date) -%}
    {%- if grain == 'day' -%}
        cast({{ date }} as date)
    {%- else -%}
        cast({{ dbt.date_trunc(grain, date) }} as date)
    {%- endif -%}
{%- endmacro %}


{#- The month whose end state a period of the grain in `grain_column` starting `period_start`
    reports: its last month, or the newest KPI month while the period is still running. -#}
{% macro kpi_period_last_month(grain_column, period_start, grains) -%}
    case {{ grain_column }}
        {%- for grain in grains if grain != 'day' %}
        when '{{ grain }}' then least({{ month_start(dbt.last_day(period_start, grain)) }}, {{ kpi_last_month() }})
        {%- endfor %}
    end
{%- endmacro %}


{#- The rows of `relation` (a CTE of kpi_rollup), each once per grain, level and breakdown, with
    the roll-up's keys beside its own columns: rollup_grain, rollup_period_start (the start of the
    period of that grain holding `date_expression`), rollup_level, rollup_<attribute> (the level's
    value: 'nation' / a region / a dealer, null above the level) and rollup_<dim> (the value on its
    own breakdown, 'all' on the others). rollup_breakdown keeps a breakdown's rows apart from the
    total's should a dim hold the value 'all'. The keys' `rollup_` names leave the relation's own
    columns (read unqualified by the level and dim expressions, the sums and the aggregates) as
    they are. -#}
{% macro kpi_expand(relation, date_expression, grains, levels, level_columns, attribute_columns, dims, where=none) -%}
    select
        kpi_grains.rollup_grain,
        case kpi_grains.rollup_grain
            {%- for grain in grains %}
            when '{{ grain }}' then {{ period_start_of(grain, date_expression) }}
            {%- endfor %}
        end as rollup_period_start,
        kpi_levels.rollup_level,
        {%- for column in attribute_columns %}
        case kpi_levels.rollup_level
            {%- for level in levels %}
            when '{{ level }}' then {{ level_columns[level][column] }}
            {%- endfor %}
        end as rollup_{{ column }},
        {%- endfor %}
        kpi_breakdowns.rollup_breakdown,
        {%- for dim in dims %}
        case when kpi_breakdowns.rollup_breakdown = '{{ dim }}' then {{ dim }} else 'all' end as rollup_{{ dim }},
        {%- endfor %}
        {{ relation }}.*
    from {{ relation }}
    cross join {{ kpi_values('rollup_grain', grains, 'kpi_grains') }}
    cross join {{ kpi_values('rollup_level', levels, 'kpi_levels') }}
    cross join {{ kpi_values('rollup_breakdown', ['total'] + dims, 'kpi_breakdowns') }}
    {%- if where is not none %}
    where {{ where }}
    {%- endif %}
{%- endmacro %}


{#- The group-by keys of a kpi_expand relation. -#}
{% macro kpi_expanded_keys(attribute_columns, dims) -%}
    rollup_grain,
        rollup_period_start,
        rollup_level,
        {%- for column in attribute_columns %}
        rollup_{{ column }},
        {%- endfor %}
        {%- for dim in dims %}
        rollup_{{ dim }},
        {%- endfor %}
        rollup_breakdown
{%- endmacro %}


{#- Literal values as a one-column relation named `column`, an alias included. An inline table,
    not a union of selects: Spark 4 fails to ship a union of literal rows cross joined to a
    task (UnionExec.children: ClassCastException on deserialisation). -#}
{% macro kpi_values(column, values, alias) -%}
    (values {% for value in values %}('{{ value }}'){% if not loop.last %}, {% endif %}{% endfor %}) as {{ alias }} ({{ column }})
{%- endmacro %}


{#- The three level attributes of an event row: its dealer code (`unassigned` when it has none),
    the dealer's name, and its region (`unknown` for a code the dealers master does not know).
    `dealers` is the alias of a left join to int_kpi_dealers on the event's dealer code. -#}
{% macro kpi_dealer_columns(dealer_code, dealers='kpi_dealers') -%}
    coalesce({{ dealer_code }}, 'unassigned') as dealer_code,
        {{ dealers }}.dealer_name,
        coalesce({{ dealers }}.region, 'unknown') as region
{%- endmacro %}


{#- A KPI rate or average: safe_rate (a zero denominator gives null) rounded to 6 decimals. A
    double printed in full (0.380952380952394) holds digit runs the gate's PII scan would take for
    an ID number; 6 decimals are finer than any report shows. -#}
{% macro kpi_rate(numerator, denominator) -%}
    round({{ safe_rate(numerator, denominator) }}, 6)
{%- endmacro %}


{#- The grain columns every KPI mart's rows start with (docs/kpis.md), in contract order: the
    select list of kpi_rollup's rows once the level rows are joined. -#}
{% macro kpi_grain_columns() -%}
    period_grain,
        period_start,
        period_end,
        month,
        is_final,
        level,
        level_key,
        region,
        dealer_code,
        dealer_name
{%- endmacro %}
