-- WeCom communication KPIs (RULES.md "Communication") per month and level, with a fourth level
-- below the dealer: the consultant. From WeCom's daily behaviour statistics, and the customers a
-- consultant's group messages reached.

with

behavior as (

    select * from {{ ref('stg_wechat__wecom_behavior_daily') }}
    where {{ on_or_before_as_of('stat_date') }}

),

group_messages as (

    select * from {{ ref('stg_wechat__wecom_groupmsg_results') }}
    where is_sent and {{ on_or_before_as_of('sent_at') }}

),

staff_ranked as (

    select
        *,
        row_number() over (partition by wecom_userid order by staff_id) as account_rank
    from {{ ref('stg_master__staff') }}
    where wecom_userid is not null

),

-- one staff row per WeCom account (a re-hired consultant keeps the first), as in consultant_relationships
staff as (

    select * from staff_ranked
    where account_rank = 1

),

kpi_dealers as (

    select * from {{ ref('int_kpi_dealers') }}

),

-- WeCom gives a day's reply percentage and average first-reply time, not their counts: weighted
-- by the day's chats they become counts that add up over days, consultants and dealers. Summed
-- per consultant and month first (a day's row per consultant is most of the WeCom data).
monthly as (

    select
        consultant_userid,
        {{ month_start('stat_date') }} as kpi_date,
        sum(coalesce(new_apply_count, 0)) as new_applies,
        sum(coalesce(new_contact_count, 0)) as new_contacts,
        sum(coalesce(chat_count, 0)) as chats,
        sum(coalesce(message_count, 0)) as messages,
        sum(coalesce(negative_feedback_count, 0)) as negative_feedback,
        sum(coalesce(chat_count, 0) * coalesce(reply_percentage, 0) / 100.0) as replied_chats,
        sum(
            coalesce(chat_count, 0) * coalesce(reply_percentage, 0) / 100.0 * coalesce(avg_reply_minutes, 0)
        ) as reply_minutes_sum,
        0 as customers_contacted

    from behavior
    group by consultant_userid, {{ month_start('stat_date') }}

),

-- distinct customers each consultant's group messages reached in a month
contacted as (

    select
        consultant_userid,
        {{ month_start('sent_at') }} as kpi_date,
        0 as new_applies,
        0 as new_contacts,
        0 as chats,
        0 as messages,
        0 as negative_feedback,
        0.0 as replied_chats,
        0.0 as reply_minutes_sum,
        count(distinct external_userid) as customers_contacted

    from group_messages
    group by consultant_userid, {{ month_start('sent_at') }}

),

communication_rows as (

    select
        activity.*,
        {{ kpi_dealer_columns('staff.dealer_code') }}

    from (
        select * from monthly
        union all
        select * from contacted
    ) as activity
    left join staff on activity.consultant_userid = staff.wecom_userid
    left join kpi_dealers on staff.dealer_code = kpi_dealers.dealer_code

),

{{ kpi_rollup(
    'communication_rows',
    'kpi_date',
    sums=['new_applies', 'new_contacts', 'chats', 'messages', 'negative_feedback', 'customers_contacted'],
    decimal_sums=['replied_chats', 'reply_minutes_sum'],
    consultant_level=true,
) }},

final as (

    select
        kpi_rows.*,
        staff.staff_id as consultant_staff_id,
        staff.staff_role as consultant_role,
        {{ kpi_rate('kpi_rows.replied_chats', 'kpi_rows.chats') }} as reply_rate,
        {{ kpi_rate('kpi_rows.reply_minutes_sum', 'kpi_rows.replied_chats') }} as avg_reply_minutes

    from kpi_rows
    left join staff on kpi_rows.consultant_userid = staff.wecom_userid

)

select * from final
