with

source as (

    -- the rows known at the cut-off: each key's version in force then (macro landing_as_of)
    {{ landing_as_of('campaigns', ['campaign_code']) }}

),

renamed as (

    select
        ---------- ids
        campaign_code,
        dealer_code,

        ---------- campaign
        name as campaign_name,
        {{ enum_to_code('scope', 'campaign_scope') }} as campaign_scope,
        -- ';'-separated model codes, empty = every model
        nullif(trim(target_models), '') as target_models,

        ---------- dates
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(target_purchase_from as date) as target_purchase_from,
        cast(target_purchase_to as date) as target_purchase_to

    from source

)

select * from renamed
