with

source as (

    -- the rows known at the cut-off: each key's version in force then (macro landing_as_of)
    {{ landing_as_of('wechat_bindings', ['binding_id']) }}

),

renamed as (

    select
        ---------- ids
        binding_id,
        openid,
        unionid,
        upper(trim(vin_last8)) as vin_last8,

        ---------- binder (SMS-verified at binding)
        id_number_hmac,
        id_number_status,
        mobile_hmac,
        mobile_status,
        mobile_masked,

        ---------- status and time
        {{ enum_to_code('status', 'binding_status') }} as binding_status,
        cast(bound_at as timestamp) as bound_at

    from source

)

select * from renamed
