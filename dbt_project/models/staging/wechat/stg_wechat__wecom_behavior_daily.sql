with

source as (

    select * from {{ source('wechat', 'wecom_behavior_daily') }}

),

renamed as (

    select
        ---------- ids
        userid as consultant_userid,
        cast(stat_date as date) as stat_date,

        ---------- counts
        cast(new_apply_cnt as integer) as new_apply_count,
        cast(new_contact_cnt as integer) as new_contact_count,
        cast(chat_cnt as integer) as chat_count,
        cast(message_cnt as integer) as message_count,
        cast(negative_feedback_cnt as integer) as negative_feedback_count,

        ---------- quality (reply_percentage is a percentage, 0-100, as WeCom reports it)
        cast(reply_percentage as double) as reply_percentage,
        cast(avg_reply_time as double) as avg_reply_minutes

    from source

)

select * from renamed
