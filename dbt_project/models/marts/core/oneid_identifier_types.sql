-- One row per identifier type of the OneID map: how many identifiers of the type it holds and how
-- many OneIDs have one. The identity page reads this small table instead of aggregating the
-- whole map (3.8 M rows at M scale) at every visit.

with

oneid_map as (

    select * from {{ ref('stg_identity__oneid_map') }}

),

identifier_types as (

    select
        identifier_type,
        count(*) as identifiers,
        count(distinct oneid) as oneids

    from oneid_map
    group by identifier_type

)

select * from identifier_types
