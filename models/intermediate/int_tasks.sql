{#- One row per task, with the activity role of its type (int_task_types): `is_call_task` and
    `is_meeting` say which KPIs it feeds. -#}
with

tasks as (
    select * from {{ ref('stg_amocrm__tasks') }}
),

task_types as (
    select * from {{ ref('int_task_types') }}
),

final as (
    select
        tasks.*,
        task_types.task_type_name,
        task_types.task_role,
        coalesce(task_types.task_role = 'meeting', false) as is_meeting,
        coalesce(task_types.task_role = 'call', false) as is_call_task
    from tasks
    left join task_types
        on tasks.account_id = task_types.account_id
        and tasks.task_type_id = task_types.task_type_id
)

select * from final
