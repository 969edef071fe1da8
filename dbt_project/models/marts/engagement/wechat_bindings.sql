with

bindings as (

    select * from {{ ref('int_wechat_bindings_resolved') }}

)

select * from bindings
