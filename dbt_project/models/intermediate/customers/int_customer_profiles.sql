-- One row per OneID that appears as an owner on a sale record or as a WeChat binder: the masked
-- name and mobile and the ID-number derived attributes. The owner's latest sale record that
-- gives a value wins; a binding fills what no sale record gives. The ID number itself and the
-- birth date stay here (intermediate); the mart keeps birth month and age band only.
--
-- Sale records and bindings are summed apart, each by its own date, and joined once per OneID:
-- "a sale record before any binding" is then a coalesce, not a two-part sort key on every row.

with

sale_owners as (

    select
        owner_oneid as oneid,
        {{ arg_max('owner_name_masked', ['invoice_date']) }} filter (
            where owner_name_masked is not null
        ) as name_masked,
        {{ arg_max('owner_mobile_masked', ['invoice_date']) }} filter (
            where owner_mobile_masked is not null
        ) as mobile_masked,
        {{ arg_max('owner_mobile_hmac', ['invoice_date']) }} filter (
            where owner_mobile_hmac is not null
        ) as mobile_hmac,
        {{ arg_max('owner_id_number_hmac', ['invoice_date']) }} filter (
            where owner_id_number_hmac is not null
        ) as id_number_hmac,
        {{ arg_max('owner_birth_date', ['invoice_date']) }} filter (
            where owner_birth_date is not null
        ) as birth_date,
        {{ arg_max('owner_gender', ['invoice_date']) }} filter (where owner_gender is not null) as gender,
        {{ arg_max('owner_province_code', ['invoice_date']) }} filter (
            where owner_province_code is not null
        ) as province_code

    from {{ ref('int_vehicle_sales_ranked') }}
    where owner_oneid is not null
    group by owner_oneid

),

binders as (

    select
        oneid,
        {{ arg_max('mobile_masked', ['cast(bound_at as date)']) }} filter (
            where mobile_masked is not null
        ) as mobile_masked,
        {{ arg_max('mobile_hmac', ['cast(bound_at as date)']) }} filter (
            where mobile_hmac is not null
        ) as mobile_hmac,
        {{ arg_max('id_number_hmac', ['cast(bound_at as date)']) }} filter (
            where id_number_hmac is not null
        ) as id_number_hmac

    from {{ ref('int_wechat_bindings_resolved') }}
    where oneid is not null
    group by oneid

),

profiles as (

    select
        coalesce(sale_owners.oneid, binders.oneid) as oneid,
        sale_owners.name_masked,
        coalesce(sale_owners.mobile_masked, binders.mobile_masked) as mobile_masked,
        coalesce(sale_owners.mobile_hmac, binders.mobile_hmac) as mobile_hmac,
        coalesce(sale_owners.id_number_hmac, binders.id_number_hmac) as id_number_hmac,
        sale_owners.birth_date,
        sale_owners.gender,
        sale_owners.province_code

    from sale_owners
    full outer join binders on sale_owners.oneid = binders.oneid

)

select * from profiles
