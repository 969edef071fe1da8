-- One row per sale record known at the cut-off, ranked within its VIN and resolved to a OneID.
-- The first record gives the vehicle's invoice (purchase) date, the latest its current owner
-- (RULES.md "Vehicle facts"); each record owns the VIN until the next one (a resale).

with

sales as (

    select * from {{ ref('stg_dms__vehicle_sales') }}
    where {{ on_or_before_as_of('invoice_date') }}

),

oneid_map as (

    select * from {{ ref('stg_identity__oneid_map') }}

),

ranked as (

    select
        sales.*,
        row_number() over (
            partition by sales.vin order by sales.invoice_date, sales.file_date, sales._source_row
        ) as sale_sequence,
        count(*) over (partition by sales.vin) as sale_records,
        lead(sales.invoice_date) over (
            partition by sales.vin order by sales.invoice_date, sales.file_date, sales._source_row
        ) as next_invoice_date

    from sales

),

resolved as (

    select
        ranked.vin,
        ranked.sale_sequence,
        ranked.sale_sequence = 1 as is_first_sale,
        ranked.sale_sequence = ranked.sale_records as is_latest_sale,
        ranked.dealer_code,
        ranked.model_code,
        ranked.model_name,
        ranked.usage,
        ranked.seats,
        ranked.invoice_date,
        ranked.registration_date,
        ranked.next_invoice_date,
        -- the owner by ID number, else by a valid mobile (a placeholder mobile is nobody's)
        coalesce(by_id_number.oneid, by_mobile.oneid) as owner_oneid,
        case
            when by_id_number.oneid is not null then 'id_number'
            when by_mobile.oneid is not null then 'mobile'
        end as owner_matched_by,
        ranked.owner_name_masked,
        ranked.owner_mobile_masked,
        ranked.owner_mobile_hmac,
        -- ciphertext: only the reminder list carries it on, for the dealer's audited download
        ranked.owner_mobile_enc,
        ranked.owner_id_number_hmac,
        ranked.owner_id_number_status,
        ranked.owner_birth_date,
        ranked.owner_gender,
        ranked.owner_province_code,
        -- the span this record owns the VIN: the first owner also owns anything dated before the
        -- first invoice (pre-delivery work); the span ends at the next sale, exclusive
        case
            when ranked.sale_sequence = 1 then date '1900-01-01' else ranked.invoice_date
        end as owned_from,
        coalesce(ranked.next_invoice_date, date '9999-12-31') as owned_until

    from ranked
    left join oneid_map as by_id_number
        on
            by_id_number.identifier_type = 'id_number'
            and ranked.owner_id_number_hmac = by_id_number.identifier_key
    left join oneid_map as by_mobile
        on
            by_mobile.identifier_type = 'mobile'
            and ranked.owner_mobile_status = 'valid'
            and ranked.owner_mobile_hmac = by_mobile.identifier_key

)

select * from resolved
