with

followers as (

    select * from {{ ref('int_wechat_followers_resolved') }}

)

select * from followers
