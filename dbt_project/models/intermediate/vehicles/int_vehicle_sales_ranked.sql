-- One row per sale record known at the cut-off, ranked within its VIN and resolved to a OneID.
-- The first record gives the vehicle's invoice (purchase) date, the latest its current owner
-- (RULES.md "Vehicle facts"); each record owns the VIN until the next one (a resale).

with

sales as (

    select * from {{ ref('stg_dms__vehicle_sales') }}
    where {{ on_or_before_as_of('invoice_date') }}

),

-- one CTE per identifier type, each read once: a CTE read twice is materialized whole by DuckDB
-- (every identifier of every type), where one read once takes the type filter into its scan
owners_by_id_number as (

    select
        identifier_key,
        oneid
    from {{ ref('stg_identity__oneid_map') }}
    where identifier_type = 'id_number'

),

owners_by_mobile as (

    select
        identifier_key,
        oneid
    from {{ ref('stg_identity__oneid_map') }}
    where identifier_type = 'mobile'

),

-- one window (one sort per VIN): the latest record is the one without a next; invoice_date is
-- never null here (the cut-off filter above drops a null)
ranked as (

    select
        sales.*,
        row_number() over (
            partition by sales.vin order by sales.invoice_date, sales.file_date, sales._source_row
        ) as sale_sequence,
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
        ranked.next_invoice_date is null as is_latest_sale,
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
    left join owners_by_id_number as by_id_number
        on ranked.owner_id_number_hmac = by_id_number.identifier_key
    left join owners_by_mobile as by_mobile
        on
            ranked.owner_mobile_status = 'valid'
            and ranked.owner_mobile_hmac = by_mobile.identifier_key

)

select * from resolved
