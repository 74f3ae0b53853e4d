{#- One row per pipeline × stage × month × manager with any funnel figure: the same funnel as
    mart_funnel_stages, each figure credited to the manager responsible at its moment (entry into
    the stage, creation for the cohort, the month's end for open leads). -#}
with

stage_monthly as (
    select * from {{ ref('int_funnel_stage_monthly') }} where is_manager_level
),

stages as (
    select * from {{ ref('int_pipeline_stages') }}
),

managers as (
    select * from {{ ref('dim_managers') }}
),

final as (
    select
        stage_monthly.account_id,
        stage_monthly.pipeline_id,
        stages.pipeline_name,
        stage_monthly.status_id,
        stages.status_name,
        stages.stage_role,
        stages.status_sort as stage_sort,
        stage_monthly.month_start,
        stage_monthly.manager_id,
        managers.manager_name,
        {{ amokpi.funnel_stage_columns('stage_monthly') }}
    from stage_monthly
    inner join stages
        on stage_monthly.account_id = stages.account_id
        and stage_monthly.pipeline_id = stages.pipeline_id
        and stage_monthly.status_id = stages.status_id
    inner join managers
        on stage_monthly.account_id = managers.account_id
        and stage_monthly.manager_id = managers.manager_id
)

select * from final
