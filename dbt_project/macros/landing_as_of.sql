{#- A landing table as it was known at the cut-off (docs/reminders.md "Reruns and backfills").

    Ingestion keeps the *current* version of each key in landing.<table> (the later file wins)
    and every earlier version in landing_history.<table>. A run for an older month finds in
    landing the rows of files dated after its cut-off: new keys (a campaign announced later) and
    newer versions of keys it knew (a repair order re-sent next month with a corrected amount).
    Known at the cut-off = the rows of the files ingestion takes for that cut-off: dated on or
    before it, or undated (ingestion always takes those). Each key's version in force at the
    cut-off is the latest of its known versions, in ingestion's file order (date in the name, else
    the modification date; modification time; path; row). So:

      * a current row from a known file is that version (the current row is the latest of all);
      * a key whose current row came later falls back to its latest known version in
        landing_history, if it has one; a key first seen after the cut-off has none and is absent.

    In a run for the newest month no landed file is dated after the cut-off and this is the
    current table. Set-based: one filtered scan of the current table, and a join of the
    (small) history with the keys a later file superseded.

    `key`: the table's key columns (sources/exports/tables.py, docs/architecture.md). -#}
{% macro landing_as_of(table, key) -%}
    {%- set current = source('landing', table) -%}
    {%- set history = source('landing_history', table) -%}
    {%- set columns = landing_columns(current) -%}
    {%- set key_match = [] -%}
    {%- for column in key -%}
        {%- do key_match.append('history.' ~ column ~ ' = superseded.' ~ column) -%}
    {%- endfor %}
    select {{ columns }}
    from {{ current }}
    where _file_date is null or _file_date <= {{ as_of_date() }}

    union all

    select {{ columns }}
    from (
        select
            history.*,
            row_number() over (
                partition by {{ 'history.' ~ key | join(', history.') }}
                order by
                    coalesce(history._file_date, {{ epoch_day('history._file_modified_at') }}) desc,
                    history._file_modified_at desc,
                    history._source_file desc,
                    history._source_row desc
            ) as version_rank

        from {{ history }} as history
        inner join {{ current }} as superseded
            on {{ key_match | join(' and ') }}
        where
            superseded._file_date > {{ as_of_date() }}
            and (history._file_date is null or history._file_date <= {{ as_of_date() }})
    ) as known_versions
    where version_rank = 1
{%- endmacro %}


{#- The columns of a landing table, quoted, in order (dbt_utils' `star`, which this project cannot
    install). At parse time, and under sqlfluff's templater, there is no database: `*`. -#}
{% macro landing_columns(relation) -%}
    {%- if execute -%}
        {%- set names = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do names.append(adapter.quote(column.name)) -%}
        {%- endfor -%}
        {%- if names | length == 0 -%}
            {{- exceptions.raise_compiler_error("landing table " ~ relation ~ " not found or has no columns") -}}
        {%- endif -%}
        {{- names | join(', ') -}}
    {%- else -%}
        *
    {%- endif -%}
{%- endmacro %}


{#- The UTC calendar day of a POSIX timestamp in seconds (a file's modification time), as a DATE:
    how ingestion dates an undated file. -#}
{% macro epoch_day(seconds) -%}
    cast({{ dbt.dateadd('day', 'cast(floor(' ~ seconds ~ ' / 86400) as ' ~ dbt.type_int() ~ ')', "cast('1970-01-01' as date)") }} as date)
{%- endmacro %}
