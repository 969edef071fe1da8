{#- KPI building blocks (docs/kpis.md). Portable: dbt's cross-database macros, and adapter.dispatch
    where DuckDB and Spark differ. -#}


{#- The first day of the month `back` months before the month of the cut-off, 'YYYY-MM-01'.
    The run of month M computes KPIs for the `kpi_history_months` months ending with the cut-off's
    month (M-1); known at compile time from the vars, so the calendar is plain literals on every
    engine. -#}
{% macro kpi_month(back) -%}
    {%- set as_of = modules.datetime.date.fromisoformat(var('as_of_date') | string) -%}
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


{#- Percentiles of a set of values, as a list (one sort for all of them): exact on DuckDB,
    approximate on Spark (no exact percentile aggregate there that scales). Pick an element with
    kpi_list_item. -#}
{% macro kpi_percentiles(expression, fractions) -%}
    {{ return(adapter.dispatch('kpi_percentiles')(expression, fractions)) }}
{%- endmacro %}

{% macro default__kpi_percentiles(expression, fractions) -%}
    percentile_approx({{ expression }}, array({{ fractions | join(', ') }}))
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
    {%- set as_of = modules.datetime.date.fromisoformat(var('as_of_date') | string) -%}
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

-- each base row once per grain, dated at the start of its period: one scan for every grain
kpi_base_periods as (

    select
        kpi_grains.period_grain,
        case kpi_grains.period_grain
            {%- for grain in grains %}
            when '{{ grain }}' then {{ period_start_of(grain, 'kpi_base.kpi_base_date') }}
            {%- endfor %}
        end as period_start,
        kpi_base.*
    from kpi_base
    cross join ({{ kpi_grain_values(grains) }}) as kpi_grains
    {%- if day_stocks %}
    -- a day has no stock: the month-end state rows count in months, quarters and years only
    where not (kpi_grains.period_grain = 'day' and kpi_base.is_stock_row)
    {%- endif %}

),

-- every grain, level and breakdown in one aggregate: `grouping sets` reads the base once, where a
-- `union all` of one branch per combination had Spark recompute the whole chain per branch
-- (docs/spark.md "Speed"). A level is told by which of its columns are grouped (grouping()), never
-- by nulls: an unknown dealer's name is null on the dealer level too.
kpi_summed as (

    select
        period_grain,
        period_start,
        {{ kpi_level_of_grouping(consultant_level) }} as level,
        {%- for column in attribute_columns %}
            {%- if column == 'level_key' %}
        case {{ kpi_level_of_grouping(consultant_level) }}
            {%- for level in levels %}
            when '{{ level }}' then {{ level_columns[level]['level_key'] }}
            {%- endfor %}
        end as level_key,
            {%- else %}
        {{ column }},
            {%- endif %}
        {%- endfor %}
        {%- for dim in dims %}
        case when grouping({{ dim }}) = 1 then 'all' else {{ dim }} end as {{ dim }},
        {%- endfor %}
        {%- for column in sums %}
        cast(coalesce(sum({{ column }}), 0) as bigint) as {{ column }},
        {%- endfor %}
        {%- for column in decimal_sums %}
        round(cast(coalesce(sum({{ column }}), 0) as double), 6) as {{ column }},
        {%- endfor %}
        {%- for column in stocks %}
        -- a period takes its last month's stock (the last month it has so far); a day has none
        case
            when period_grain = 'day' then cast(null as bigint)
            else cast(coalesce(sum(case
                when kpi_row_month = {{ kpi_period_last_month('period_grain', 'period_start', grains) }}
                    then {{ column }}
            end), 0) as bigint)
        end as {{ column }},
        {%- endfor %}
        1 as kpi_row_count
    from kpi_base_periods
    group by grouping sets (
        {%- for level in levels %}
            {%- set outer = loop %}
            {%- for breakdown in breakdowns %}
        (period_grain, period_start
                {%- for column in group_columns[level] %}, {{ column }}{% endfor %}
                {%- if breakdown is not none %}, {{ breakdown }}{% endif %}){% if not (outer.last and loop.last) %},{% endif %}
            {%- endfor %}
        {%- endfor %}
    )

),

{%- if aggregates %}

-- aggregates that do not add up (percentiles) need the events themselves, each once per grain
kpi_rows_periods as (

    select
        kpi_grains.period_grain,
        case kpi_grains.period_grain
            {%- for grain in grains %}
            when '{{ grain }}' then {{ period_start_of(grain, date_column) }}
            {%- endfor %}
        end as period_start,
        kpi_rows_in_range.*
    from kpi_rows_in_range
    cross join ({{ kpi_grain_values(grains) }}) as kpi_grains

),

kpi_aggregated as (

    select
        period_grain,
        period_start,
        {{ kpi_level_of_grouping(consultant_level) }} as level,
        case {{ kpi_level_of_grouping(consultant_level) }}
            {%- for level in levels %}
            when '{{ level }}' then {{ level_columns[level]['level_key'] }}
            {%- endfor %}
        end as level_key,
        {%- for dim in dims %}
        case when grouping({{ dim }}) = 1 then 'all' else {{ dim }} end as {{ dim }},
        {%- endfor %}
        {%- for name, expression in aggregates.items() %}
        {{ expression }} as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from kpi_rows_periods
    group by grouping sets (
        {%- for level in levels %}
            {%- set outer = loop %}
            {%- for breakdown in breakdowns %}
        (period_grain, period_start
                {%- for column in group_columns[level] %}, {{ column }}{% endfor %}
                {%- if breakdown is not none %}, {{ breakdown }}{% endif %}){% if not (outer.last and loop.last) %},{% endif %}
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


{#- The grains as a one-column relation (period_grain), to date each row once per grain. -#}
{% macro kpi_grain_values(grains) -%}
    {%- for grain in grains %}select '{{ grain }}' as period_grain{% if not loop.last %} union all {% endif %}{% endfor -%}
{%- endmacro %}


{#- The level of a `grouping sets` row of kpi_rollup: the finest level whose columns are grouped. -#}
{% macro kpi_level_of_grouping(consultant_level) -%}
    case
            when grouping(region) = 1 then 'nation'
            when grouping(dealer_code) = 1 then 'region'
            {%- if consultant_level %}
            when grouping(consultant_userid) = 1 then 'dealer'
            else 'consultant'
            {%- else %}
            else 'dealer'
            {%- endif %}
        end
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
