with

source as (

    select * from {{ source('wechat', 'template_send_results') }}

),

renamed as (

    select
        ---------- ids
        task_id,
        -- the list month the send belongs to: 'YYYY-MM' in the send tables, a DATE here
        cast({{ dbt.concat(["month", "'-01'"]) }} as date) as month,
        openid,
        msgid,

        ---------- result
        cast(sent_at as timestamp) as sent_at,
        wechat_status

    from source

)

select * from renamed
