with

source as (

    select * from {{ source('decisions', 'task_decisions') }}

),

renamed as (

    select
        ---------- ids
        decision_id,
        task_id,
        dealer_code,

        ---------- decision
        action,
        reason,
        decided_by,
        cast(decided_at as timestamp) as decided_at,
        -- the month the manager was looking at (informational: a decision is about the task)
        month as decided_for_month,
        note

    from source

)

select * from renamed
