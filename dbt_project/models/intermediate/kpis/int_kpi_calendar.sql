-- One row per month the run computes KPIs for: the `kpi_history_months` months up to the month of
-- the cut-off (M-1 for the run of month M), with the quarter and year each falls in.

with

months as (

    {%- for back in range(var('kpi_history_months') | int - 1, -1, -1) %}
        select cast('{{ kpi_month(back) }}' as date) as month_start
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        month_start,
        {{ dbt.last_day('month_start', 'month') }} as month_end,
        cast({{ dbt.date_trunc('quarter', 'month_start') }} as date) as quarter_start,
        cast({{ dbt.date_trunc('year', 'month_start') }} as date) as year_start

    from months

)

select * from final
