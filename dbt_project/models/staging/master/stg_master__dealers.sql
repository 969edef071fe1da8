with

source as (

    select * from {{ source('landing', 'dealers') }}

),

renamed as (

    select
        ---------- ids
        dealer_code,

        ---------- text
        name as dealer_name,
        region,
        province,
        city,
        status as dealer_status

    from source

)

select * from renamed
