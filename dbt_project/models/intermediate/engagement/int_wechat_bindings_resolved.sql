-- One row per WeChat binding made on or before the cut-off, resolved to its OneID and its VIN.

with

bindings as (

    select * from {{ ref('stg_dms__wechat_bindings') }}
    where {{ on_or_before_as_of('bound_at') }}

),

-- one CTE per identifier type, each read once (see int_vehicle_sales_ranked)
oneids_by_openid as (

    select
        identifier_key,
        oneid
    from {{ ref('stg_identity__oneid_map') }}
    where identifier_type = 'oa_openid'

),

oneids_by_id_number as (

    select
        identifier_key,
        oneid
    from {{ ref('stg_identity__oneid_map') }}
    where identifier_type = 'id_number'

),

oneids_by_mobile as (

    select
        identifier_key,
        oneid
    from {{ ref('stg_identity__oneid_map') }}
    where identifier_type = 'mobile'

),

vehicles as (

    select
        vin,
        current_owner_oneid,
        right(vin, 8) as vin_last8
    from {{ ref('int_vehicle_facts') }}

),

resolved as (

    select
        bindings.*,
        coalesce(by_openid.oneid, by_id_number.oneid, by_mobile.oneid) as oneid

    from bindings
    left join oneids_by_openid as by_openid on bindings.openid = by_openid.identifier_key
    left join oneids_by_id_number as by_id_number on bindings.id_number_hmac = by_id_number.identifier_key
    left join oneids_by_mobile as by_mobile
        on
            bindings.mobile_status = 'valid'
            and bindings.mobile_hmac = by_mobile.identifier_key

),

-- the bound car: the binder's own vehicle ending in vin_last8, else the only vehicle that does
-- (min, not any_value: should an owner hold two such vehicles, every run picks the same one)
vin_candidates as (

    select
        resolved.binding_id,
        vehicles.vin,
        vehicles.current_owner_oneid = resolved.oneid as is_owners_vehicle

    from resolved
    inner join vehicles on resolved.vin_last8 = vehicles.vin_last8

),

bound_vins as (

    select
        binding_id,
        coalesce(
            min(vin) filter (where is_owners_vehicle),
            case when count(*) = 1 then min(vin) end
        ) as vin

    from vin_candidates
    group by binding_id

),

final as (

    select
        ---------- ids
        resolved.binding_id,
        resolved.openid,
        resolved.unionid,
        resolved.oneid,
        bound_vins.vin,
        resolved.vin_last8,

        ---------- binder (HMAC and mask only)
        resolved.id_number_hmac,
        resolved.mobile_hmac,
        resolved.mobile_masked,

        ---------- status
        resolved.binding_status,
        resolved.binding_status = 'bound' as is_bound,
        resolved.bound_at

    from resolved
    left join bound_vins on resolved.binding_id = bound_vins.binding_id

)

select * from final
