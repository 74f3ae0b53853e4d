{#- One row per counted meeting: a completed task of the meeting type (task_type_id 2), on its
    completion day in the account timezone, at most one per lead and day. -#}
with

tasks as (
    select * from {{ ref('stg_amocrm__tasks') }}
),

accounts as (
    select * from {{ ref('stg_amocrm__accounts') }}
),

completed_meetings as (
    select
        tasks.account_id,
        tasks.task_id,
        tasks.lead_id,
        tasks.responsible_user_id as manager_id,
        tasks.completed_at,
        {{ amokpi.day_of(amokpi.to_local('tasks.completed_at', 'accounts.timezone')) }} as meeting_day
    from tasks
    inner join accounts
        on tasks.account_id = accounts.account_id
    where tasks.is_meeting
        and tasks.is_completed
),

ranked as (
    select
        completed_meetings.*,
        row_number() over (
            partition by account_id, coalesce(lead_id, -task_id), meeting_day
            order by completed_at, task_id
        ) as rank_in_lead_day
    from completed_meetings
),

final as (
    select account_id, task_id, lead_id, manager_id, completed_at, meeting_day
    from ranked
    where rank_in_lead_day = 1
)

select * from final
