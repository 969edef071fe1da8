with

source as (

    select * from {{ source('landing', 'repair_orders') }}

),

renamed as (

    select
        ---------- ids
        ro_no,
        dealer_code,
        vin,

        ---------- timestamps
        opened_at,
        closed_at,

        ---------- service
        service_type,
        mileage_km,

        ---------- amounts
        labor_amount,
        parts_amount,
        total_amount

    from source

)

select * from renamed
