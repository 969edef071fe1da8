with

vehicles as (

    select * from {{ ref('int_vehicles_enriched') }}

)

select * from vehicles
