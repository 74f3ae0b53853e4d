{#- One row per account × pipeline × status, with its funnel role from the stage_roles seed:
    a pipeline/status override first, else the stage's name, else 142/143 = won/lost. -#}
with

statuses as (
    select * from {{ ref('stg_amocrm__statuses') }}
),

stage_roles as (
    select * from {{ ref('stage_roles') }}
),

pipelines as (
    select * from {{ ref('stg_amocrm__pipelines') }}
),

overrides as (
    select pipeline_id, status_id, stage_role
    from stage_roles
    where status_id is not null
),

name_defaults as (
    select lower(trim(status_name)) as status_key, min(stage_role) as stage_role
    from stage_roles
    where status_id is null
    group by 1
),

mapped as (
    select
        statuses.*,
        case
            when statuses.is_won_status then 'won'
            when statuses.is_lost_status then 'lost'
            else coalesce(overrides.stage_role, name_defaults.stage_role)
        end as stage_role
    from statuses
    left join overrides
        on statuses.pipeline_id = overrides.pipeline_id
        and statuses.status_id = overrides.status_id
    left join name_defaults
        on lower(trim(statuses.status_name)) = name_defaults.status_key
),

qualified_thresholds as (
    -- the first stage mapped to "qualified" in each pipeline; it and every stage after it count
    select account_id, pipeline_id, min(status_sort) as qualified_sort
    from mapped
    where stage_role = 'qualified'
    group by 1, 2
),

final as (
    select
        mapped.account_id,
        mapped.pipeline_id,
        pipelines.pipeline_name,
        mapped.status_id,
        mapped.status_name,
        mapped.status_sort,
        mapped.stage_role,
        mapped.is_unsorted_stage,
        mapped.is_won_status,
        mapped.is_lost_status,
        not mapped.is_won_status and not mapped.is_lost_status as is_working_stage,
        mapped.stage_role is null as is_unmapped,
        coalesce(
            not mapped.is_lost_status and mapped.status_sort >= qualified_thresholds.qualified_sort,
            false
        ) as is_qualified_or_later
    from mapped
    left join pipelines
        on mapped.account_id = pipelines.account_id
        and mapped.pipeline_id = pipelines.pipeline_id
    left join qualified_thresholds
        on mapped.account_id = qualified_thresholds.account_id
        and mapped.pipeline_id = qualified_thresholds.pipeline_id
)

select * from final
