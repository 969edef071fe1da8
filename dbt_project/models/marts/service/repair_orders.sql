with

repair_orders as (

    select * from {{ ref('int_repair_orders_attributed') }}

),

final as (

    select
        ---------- ids
        ro_no,
        dealer_code,
        vin,
        oneid,
        advisor_staff_id,
        campaign_code,

        ---------- visit
        opened_at,
        closed_at,
        visit_date,
        service_type,
        is_maintenance,
        mileage_km,

        ---------- amounts (CNY)
        labor_amount,
        parts_amount,
        total_amount,

        ---------- dates the advisor entered
        next_maintenance_date,
        next_maintenance_km,
        warranty_expiry_date,
        next_inspection_date

    from repair_orders

)

select * from final
