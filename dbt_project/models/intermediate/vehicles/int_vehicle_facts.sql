-- One row per VIN sold on or before the cut-off: the facts of RULES.md "Vehicle facts". The first
-- sale record gives the invoice date (and registration date if given); the latest gives the
-- current owner and the selling dealer; usage and seats come from the latest record that states
-- them, and are assumed (non-operating, 5 seats) and flagged when none does.

-- each CTE reads the sale records itself, with the columns it needs: a CTE read three times
-- would be materialized whole by DuckDB (every column of every record) before any filter

with

first_sale as (

    select
        vin,
        model_code,
        model_name,
        invoice_date,
        registration_date,
        dealer_code
    from {{ ref('int_vehicle_sales_ranked') }}
    where is_first_sale

),

latest_sale as (

    select
        vin,
        owner_oneid,
        owner_matched_by,
        model_code,
        model_name,
        invoice_date,
        sale_sequence,
        dealer_code
    from {{ ref('int_vehicle_sales_ranked') }}
    where is_latest_sale

),

stated as (

    select
        vin,
        min(registration_date) as earliest_registration_date,
        {{ arg_max('usage', ['sale_sequence']) }} filter (
            where usage is not null and usage != 'unknown'
        ) as usage,
        {{ arg_max('seats', ['sale_sequence']) }} filter (where seats > 0) as seats

    from {{ ref('int_vehicle_sales_ranked') }}
    group by vin

),

facts as (

    select
        latest_sale.vin,
        latest_sale.owner_oneid as current_owner_oneid,
        latest_sale.owner_matched_by as current_owner_matched_by,
        coalesce(latest_sale.model_code, first_sale.model_code) as model_code,
        coalesce(latest_sale.model_name, first_sale.model_name) as model_name,
        first_sale.invoice_date as first_invoice_date,
        latest_sale.invoice_date as current_owner_since,
        coalesce(first_sale.registration_date, stated.earliest_registration_date) as registration_date,
        cast(latest_sale.sale_sequence - 1 as {{ dbt.type_bigint() }}) as resale_count,
        first_sale.dealer_code as original_selling_dealer_code,
        latest_sale.dealer_code as selling_dealer_code,
        coalesce(stated.usage, 'non_operating') as usage,
        coalesce(stated.seats, 5) as seats,
        stated.usage is null as is_usage_assumed,
        stated.seats is null as is_seats_assumed

    from latest_sale
    inner join first_sale on latest_sale.vin = first_sale.vin
    inner join stated on latest_sale.vin = stated.vin

)

select * from facts
