with

contacts as (

    select * from {{ ref('stg_wechat__wecom_external_contacts') }}
    where added_at is null or {{ on_or_before_as_of('added_at') }}

),

-- one CTE per identifier type, each read once (see int_vehicle_sales_ranked)
oneids_by_external_userid as (

    select
        identifier_key,
        oneid
    from {{ ref('stg_identity__oneid_map') }}
    where identifier_type = 'wecom_external_userid'

),

oneids_by_unionid as (

    select
        identifier_key,
        oneid
    from {{ ref('stg_identity__oneid_map') }}
    where identifier_type = 'unionid'

),

staff as (

    select * from {{ ref('stg_master__staff') }}
    where wecom_userid is not null
    -- one staff row per WeCom account (a re-hired consultant keeps the first)
    qualify row_number() over (partition by wecom_userid order by staff_id) = 1

),

final as (

    select
        ---------- ids
        contacts.external_userid,
        contacts.consultant_userid,
        coalesce(by_external_userid.oneid, by_unionid.oneid) as oneid,
        contacts.unionid,
        staff.staff_id as consultant_staff_id,
        staff.dealer_code,
        staff.staff_role as consultant_role,

        ---------- relationship
        contacts.contact_name_masked,
        contacts.added_at,
        contacts.add_way,
        contacts.state,
        -- the customer's most recent consultant is the one customer_360 shows
        row_number() over (
            partition by contacts.external_userid
            order by contacts.added_at desc nulls last, contacts.consultant_userid asc
        ) = 1 as is_latest_for_contact

    from contacts
    left join oneids_by_external_userid as by_external_userid
        on contacts.external_userid = by_external_userid.identifier_key
    left join oneids_by_unionid as by_unionid on contacts.unionid = by_unionid.identifier_key
    left join staff on contacts.consultant_userid = staff.wecom_userid

)

select * from final
