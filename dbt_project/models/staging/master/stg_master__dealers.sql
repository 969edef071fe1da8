with

source as (

    -- the rows known at the cut-off: each key's version in force then (macro landing_as_of)
    {{ landing_as_of('dealers', ['dealer_code']) }}

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
