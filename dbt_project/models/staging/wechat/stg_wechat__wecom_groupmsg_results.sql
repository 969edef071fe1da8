with

source as (

    select * from {{ source('wechat', 'wecom_groupmsg_results') }}

),

renamed as (

    select
        ---------- ids
        msgid,
        userid as consultant_userid,
        external_userid,
        creator as creator_userid,
        chat_id,

        ---------- result (WeCom: 0 not sent, 1 sent, 2 not a friend, 3 over the receive cap)
        cast(status as integer) as send_status,
        cast(status as integer) = 1 as is_sent,
        cast(create_time as timestamp) as created_at,
        cast(send_time as timestamp) as sent_at

    from source

)

select * from renamed
