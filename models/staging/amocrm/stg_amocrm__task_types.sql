{#- One row per task type the account lists (`/api/v4/account?with=task_types`). -#}
with

source as (
    select * from {{ source('amocrm', 'task_types') }}
),

final as (
    select
        account_id,
        id as task_type_id,
        name as task_type_name,
        code as task_type_code
    from source
)

select * from final
