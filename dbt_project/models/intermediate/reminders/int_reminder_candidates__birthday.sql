-- 生日关怀 tasks of month M (RULES.md "Reminder list for month M"): the current owner's birthday
-- falls in M. The birth date comes from a valid ID number only (a number failing its checksum
-- proves nothing): the vehicle's latest sale record's, else the owner's (OneID) latest sale record
-- that has one. One task per owner, not per car: an owner of two cars is greeted once, through
-- the car bought most recently (then the lower VIN). Generated and valid in M only. A birthday on
-- 29 February is kept on 28 February in a common year.

with

vehicles as (

    select * from {{ ref('int_vehicles_enriched') }}

),

sales as (

    select * from {{ ref('int_vehicle_sales_ranked') }}
    where owner_id_number_status = 'valid' and owner_birth_date is not null

),

vehicle_births as (

    select
        vin,
        owner_birth_date as birth_date

    from sales
    where is_latest_sale

),

owner_births_ranked as (

    select
        owner_oneid,
        owner_birth_date as birth_date,
        row_number() over (
            partition by owner_oneid order by invoice_date desc, vin asc
        ) as recency

    from sales
    where owner_oneid is not null

),

owner_births as (

    select * from owner_births_ranked
    where recency = 1

),

owners as (

    select
        vehicles.vin,
        vehicles.current_owner_oneid,
        vehicles.current_owner_since,
        vehicles.servicing_dealer_code as dealer_code,
        coalesce(vehicle_births.birth_date, owner_births.birth_date) as birth_date

    from vehicles
    left join vehicle_births on vehicles.vin = vehicle_births.vin
    left join owner_births on vehicles.current_owner_oneid = owner_births.owner_oneid

),

born_this_month as (

    select
        *,
        row_number() over (
            partition by coalesce(current_owner_oneid, vin) order by current_owner_since desc, vin asc
        ) as vehicle_rank

    from owners
    where extract(month from birth_date) = extract(month from {{ report_month() }})

),

candidates as (

    select
        vin,
        'birthday' as reminder_type,
        {{ month_label(report_month()) }} as cycle,
        cast({{ dbt.dateadd(
            'year',
            'extract(year from ' ~ report_month() ~ ') - extract(year from birth_date)',
            'birth_date',
        ) }} as date) as due_date,
        {{ report_month() }} as window_start,
        {{ report_month() }} as window_end,
        {{ month_end(report_month()) }} as valid_until,
        {{ reminder_candidate_columns() }}

    from born_this_month
    where vehicle_rank = 1

)

select * from candidates
