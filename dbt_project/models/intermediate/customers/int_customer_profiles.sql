-- One row per OneID that appears as an owner on a sale record or as a WeChat binder: the masked
-- name and mobile and the ID-number derived attributes. The owner's latest sale record that
-- gives a value wins; a binding fills what no sale record gives. The ID number itself and the
-- birth date stay here (intermediate); the mart keeps birth month and age band only.

with

sale_owners as (

    select
        owner_oneid as oneid,
        invoice_date as seen_on,
        owner_name_masked as name_masked,
        owner_mobile_masked as mobile_masked,
        owner_mobile_hmac as mobile_hmac,
        owner_id_number_hmac as id_number_hmac,
        owner_birth_date as birth_date,
        owner_gender as gender,
        owner_province_code as province_code,
        1 as source_priority

    from {{ ref('int_vehicle_sales_ranked') }}
    where owner_oneid is not null

),

binders as (

    select
        oneid,
        cast(bound_at as date) as seen_on,
        null as name_masked,
        mobile_masked,
        mobile_hmac,
        id_number_hmac,
        null as birth_date,
        null as gender,
        null as province_code,
        2 as source_priority

    from {{ ref('int_wechat_bindings_resolved') }}
    where oneid is not null

),

records as (

    select * from sale_owners
    union all
    select * from binders

),

profiles as (

    select
        oneid,
        {{ arg_max('name_masked', ['-source_priority', epoch_seconds('seen_on')]) }} filter (
            where name_masked is not null
        ) as name_masked,
        {{ arg_max('mobile_masked', ['-source_priority', epoch_seconds('seen_on')]) }} filter (
            where mobile_masked is not null
        ) as mobile_masked,
        {{ arg_max('mobile_hmac', ['-source_priority', epoch_seconds('seen_on')]) }} filter (
            where mobile_hmac is not null
        ) as mobile_hmac,
        {{ arg_max('id_number_hmac', ['-source_priority', epoch_seconds('seen_on')]) }} filter (
            where id_number_hmac is not null
        ) as id_number_hmac,
        {{ arg_max('birth_date', [epoch_seconds('seen_on')]) }} filter (where birth_date is not null) as birth_date,
        {{ arg_max('gender', [epoch_seconds('seen_on')]) }} filter (where gender is not null) as gender,
        {{ arg_max('province_code', [epoch_seconds('seen_on')]) }} filter (
            where province_code is not null
        ) as province_code

    from records
    group by oneid

)

select * from profiles
