{#- One row per counted meeting: a completed task whose type has the meeting role (int_task_types:
    built-in type 2 and account types mapped in the task_type_roles seed), on any card, on its
    completion day in the account timezone, at most one per card and day. -#}
with

tasks as (
    select * from {{ ref('int_tasks') }}
),

accounts as (
    select * from {{ ref('stg_amocrm__accounts') }}
),

completed_meetings as (
    select
        tasks.account_id,
        tasks.task_id,
        tasks.entity_type,
        tasks.card_type,
        tasks.entity_id,
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
            partition by account_id, coalesce(card_type, 'none'), coalesce(entity_id, -task_id), meeting_day
            order by completed_at, task_id
        ) as rank_in_card_day
    from completed_meetings
),

final as (
    select account_id, task_id, entity_type, entity_id, lead_id, manager_id, completed_at, meeting_day
    from ranked
    where rank_in_card_day = 1
)

select * from final
