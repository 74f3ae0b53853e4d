{#- One row per account × task type, with its activity role from the task_type_roles seed: an
    account/type override first, else the type's name, else the built-in codes FOLLOW_UP (call) and
    MEETING (meeting). Built-in types 1 and 2 are there even when the account's listing lacks them. -#}
with

listed as (
    select * from {{ ref('stg_amocrm__task_types') }}
),

accounts as (
    select * from {{ ref('stg_amocrm__accounts') }}
),

task_type_roles as (
    select * from {{ ref('task_type_roles') }}
),

builtins as (
    select accounts.account_id, builtin.task_type_id, builtin.task_type_name, builtin.task_type_code
    from accounts
    cross join (
        select 1 as task_type_id, 'Связаться' as task_type_name, 'FOLLOW_UP' as task_type_code
        union all
        select 2, 'Встреча', 'MEETING'
    ) as builtin
),

task_types as (
    select account_id, task_type_id, task_type_name, task_type_code from listed
    union all
    select builtins.account_id, builtins.task_type_id, builtins.task_type_name, builtins.task_type_code
    from builtins
    left join listed
        on builtins.account_id = listed.account_id
        and builtins.task_type_id = listed.task_type_id
    where listed.task_type_id is null
),

overrides as (
    select account_id, task_type_id, task_role
    from task_type_roles
    where task_type_id is not null
),

name_defaults as (
    select lower(trim(task_type_name)) as task_type_key, min(task_role) as task_role
    from task_type_roles
    where task_type_id is null
    group by 1
),

final as (
    select
        task_types.account_id,
        task_types.task_type_id,
        task_types.task_type_name,
        task_types.task_type_code,
        coalesce(
            overrides.task_role,
            name_defaults.task_role,
            case task_types.task_type_code when 'FOLLOW_UP' then 'call' when 'MEETING' then 'meeting' end
        ) as task_role
    from task_types
    left join overrides
        on task_types.account_id = overrides.account_id
        and task_types.task_type_id = overrides.task_type_id
    left join name_defaults
        on lower(trim(task_types.task_type_name)) = name_defaults.task_type_key
)

select * from final
