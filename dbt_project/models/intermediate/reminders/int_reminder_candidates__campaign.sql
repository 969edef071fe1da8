-- 服务活动 tasks of month M (RULES.md "Reminder list for month M"): one per vehicle and campaign
-- active at any time in M (started by the end of M, not ended before M) that is national, or a
-- dealer campaign of the vehicle's servicing dealer; whose target models (';'-separated codes,
-- empty = every model) hold the vehicle's model and whose purchase range holds its first invoice
-- date (either bound open when not given); and that the VIN has not joined by the cut-off
-- (a participant row, or a repair order carrying the campaign code). cycle is the campaign code;
-- due on the campaign's end date (the end of M when it has none); generated in any active month
-- it was not listed before, valid through the end date (no end date: no limit).

with

vehicles as (

    select
        vin,
        model_code,
        first_invoice_date,
        servicing_dealer_code
    from {{ ref('int_vehicles_enriched') }}

),

campaigns as (

    select
        campaign_code,
        campaign_scope,
        dealer_code,
        -- ';M10;M20;' so that a model code matches whole, never as part of another
        case
            when target_models is not null
                then {{ dbt.concat(["';'", dbt.replace('target_models', "' '", "''"), "';'"]) }}
        end as target_model_list,
        start_date,
        end_date,
        target_purchase_from,
        target_purchase_to

    from {{ ref('stg_csc__campaigns') }}
    where
        campaign_scope in ('national', 'dealer')
        and (start_date is null or start_date <= {{ month_end(report_month()) }})
        and (end_date is null or end_date >= {{ report_month() }})

),

-- a national campaign reaches every vehicle, a dealer campaign the vehicles its dealer services
reached as (

    select
        vehicles.*,
        campaigns.*
    from vehicles
    cross join campaigns
    where campaigns.campaign_scope = 'national'

    union all

    select
        vehicles.*,
        campaigns.*
    from vehicles
    inner join campaigns
        on
            campaigns.campaign_scope = 'dealer'
            and vehicles.servicing_dealer_code = campaigns.dealer_code

),

targeted as (

    select * from reached
    where
        (
            target_model_list is null
            or {{ dbt.position(dbt.concat(["';'", "model_code", "';'"]), "target_model_list") }} > 0
        )
        and (target_purchase_from is null or first_invoice_date >= target_purchase_from)
        and (target_purchase_to is null or first_invoice_date <= target_purchase_to)

),

joined as (

    select
        campaign_code,
        vin
    from {{ ref('stg_csc__campaign_participants') }}
    where vin is not null and {{ on_or_before_as_of('registered_at') }}

    union

    select
        campaign_code,
        vin
    from {{ ref('int_repair_orders_attributed') }}
    where campaign_code is not null

),

candidates as (

    select
        targeted.vin,
        'campaign' as reminder_type,
        targeted.campaign_code as cycle,
        coalesce(targeted.end_date, {{ month_end(report_month()) }}) as due_date,
        {{ month_start('coalesce(targeted.start_date, ' ~ report_month() ~ ')') }} as window_start,
        {{ month_start('targeted.end_date') }} as window_end,
        targeted.end_date as valid_until,
        {{ reminder_candidate_columns(
            dealer_code='targeted.servicing_dealer_code',
            campaign_code='targeted.campaign_code',
        ) }}

    from targeted
    left join joined
        on
            targeted.campaign_code = joined.campaign_code
            and targeted.vin = joined.vin
    where joined.vin is null

)

select * from candidates
