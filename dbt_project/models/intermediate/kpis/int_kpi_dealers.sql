-- The level attributes of a dealer for the KPI tables: its name and region from the dealers
-- master. Events of a dealer code the master does not know keep their code with region `unknown`;
-- events without any dealer count at the code `unassigned` (macro kpi_dealer), so a nation's count
-- is always the sum of its dealers'.

with

dealers as (

    select * from {{ ref('dealers') }}

),

final as (

    select
        dealer_code,
        dealer_name,
        coalesce(region, 'unknown') as region,
        dealer_status

    from dealers

)

select * from final
