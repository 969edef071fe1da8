with

source as (

    -- the rows known at the cut-off: each key's version in force then (macro landing_as_of)
    {{ landing_as_of('repair_orders', ['ro_no']) }}

),

renamed as (

    select
        ---------- ids
        ro_no,
        dealer_code,
        vin,
        advisor as advisor_staff_id,
        nullif(trim(campaign_code), '') as campaign_code,

        ---------- service
        {{ enum_to_code('service_type', 'service_type') }} as service_type,
        cast(mileage_km as integer) as mileage_km,
        cast(next_maintenance_km as integer) as next_maintenance_km,
        vin_check_ok as is_vin_check_ok,

        ---------- amounts (CNY)
        cast(labor_amount as decimal(14, 2)) as labor_amount,
        cast(parts_amount as decimal(14, 2)) as parts_amount,
        cast(total_amount as decimal(14, 2)) as total_amount,

        ---------- dates
        cast(opened_at as timestamp) as opened_at,
        cast(closed_at as timestamp) as closed_at,
        cast(next_maintenance_date as date) as next_maintenance_date,
        cast(warranty_expiry_date as date) as warranty_expiry_date,
        cast(next_inspection_date as date) as next_inspection_date,

        ---------- sender: a contact only, never an identity link to the owner
        sender_name_masked,
        sender_mobile_hmac,
        sender_mobile_masked

    from source

)

select * from renamed
