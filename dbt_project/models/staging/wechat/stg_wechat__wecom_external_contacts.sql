with

source as (

    select * from {{ source('wechat', 'wecom_external_contacts') }}

),

renamed as (

    select
        ---------- ids
        external_userid,
        follow_userid as consultant_userid,
        nullif(trim(unionid), '') as unionid,

        ---------- contact
        name_masked as contact_name_masked,
        cast(add_way as integer) as add_way,
        state,
        remark_mobile_hmacs,

        ---------- timestamps
        cast(createtime as timestamp) as added_at,
        cast(fetched_at as timestamp) as fetched_at

    from source

)

select * from renamed
