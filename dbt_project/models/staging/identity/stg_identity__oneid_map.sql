with

source as (

    select * from {{ source('identity', 'oneid_map') }}

),

renamed as (

    select
        identifier_type,
        identifier_key,
        oneid,
        cast(first_seen_at as timestamp) as first_seen_at,
        cast(last_seen_at as timestamp) as last_seen_at

    from source

)

select * from renamed
