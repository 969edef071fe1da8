with

source as (

    -- the rows known at the cut-off: each key's version in force then (macro landing_as_of)
    {{ landing_as_of('vehicle_sales', ['vin', 'invoice_date']) }}

),

renamed as (

    select
        ---------- ids
        vin,
        dealer_code,
        model_code,
        sales_consultant as sales_consultant_staff_id,

        ---------- vehicle
        model_name,
        {{ enum_to_code('usage', 'usage') }} as usage,
        cast(seats as integer) as seats,
        vin_check_ok as is_vin_check_ok,

        ---------- dates
        cast(invoice_date as date) as invoice_date,
        cast(registration_date as date) as registration_date,

        ---------- owner (personal data as HMAC, mask and ciphertext only)
        owner_name_masked,
        owner_name_enc,
        owner_id_number_hmac,
        owner_id_number_status,
        cast(owner_id_number_birth_date as date) as owner_birth_date,
        owner_id_number_gender as owner_gender,
        owner_id_number_province_code as owner_province_code,
        owner_mobile_hmac,
        owner_mobile_status,
        owner_mobile_masked,
        owner_mobile_enc,

        ---------- lineage
        _source_file,
        _source_row,
        cast(_file_date as date) as file_date

    from source

)

select * from renamed
