with

source as (

    -- the rows known at the cut-off: each key's version in force then (macro landing_as_of)
    {{ landing_as_of('staff', ['staff_id']) }}

),

renamed as (

    select
        ---------- ids
        staff_id,
        dealer_code,
        nullif(trim(wecom_userid), '') as wecom_userid,

        ---------- person (masked; staff mobiles are placeholders for OneID, never identities)
        name_masked as staff_name_masked,
        mobile_hmac as staff_mobile_hmac,
        {{ enum_to_code('role', 'staff_role') }} as staff_role

    from source

)

select * from renamed
