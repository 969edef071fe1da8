-- One row per cluster size of the OneID map (how many identifiers resolve to one OneID): how many
-- OneIDs have that size and the identifiers they hold. The identity page's histogram and totals;
-- a long tail of large clusters is the first sign of over-merging (docs/identity.md).

with

oneid_map as (

    select * from {{ ref('stg_identity__oneid_map') }}

),

clusters as (

    select
        oneid,
        count(*) as cluster_size

    from oneid_map
    group by oneid

),

cluster_sizes as (

    select
        cluster_size,
        count(*) as oneids,
        cast(sum(cluster_size) as {{ dbt.type_bigint() }}) as identifiers

    from clusters
    group by cluster_size

)

select * from cluster_sizes
