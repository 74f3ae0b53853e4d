{#- One row per lead × stage of the pipeline the lead was created in: how far the lead got there.
    A lead "reached" a stage when it entered that stage or any stage further down the same
    pipeline (lost excluded): forward jumps and creation directly in a later stage count as
    passing the stages skipped. This is the basis of cumulative conversion by creation cohort,
    where every cohort lead has reached the pipeline's first stage. -#}
with

stage_history as (
    select * from {{ ref('int_lead_stage_history') }}
),

stages as (
    select * from {{ ref('int_pipeline_stages') }}
),

lead_milestones as (
    select * from {{ ref('int_lead_milestones') }}
),

-- each lead's first pipeline (that of its first visit) and the furthest non-lost stage it reached there, in
-- one pass of window and aggregate (no self-join: PostgreSQL planned one as a nested loop, minutes long)
visits as (
    select
        account_id,
        lead_id,
        pipeline_id,
        status_id,
        status_sort,
        first_value(pipeline_id) over (
            partition by account_id, lead_id order by visit_number
        ) as first_pipeline_id
    from stage_history
),

first_pipelines as (
    select
        account_id,
        lead_id,
        first_pipeline_id as pipeline_id,
        max(case when pipeline_id = first_pipeline_id and status_id <> 143 then status_sort end) as furthest_sort
    from visits
    group by 1, 2, 3
),

final as (
    select
        first_pipelines.account_id,
        first_pipelines.lead_id,
        first_pipelines.pipeline_id,
        stages.status_id,
        stages.status_sort,
        lead_milestones.created_month_start,
        lead_milestones.manager_at_creation_id,
        lead_milestones.is_deleted,
        coalesce(first_pipelines.furthest_sort >= stages.status_sort, false) as is_reached
    from first_pipelines
    inner join stages
        on first_pipelines.account_id = stages.account_id
        and first_pipelines.pipeline_id = stages.pipeline_id
        and not stages.is_lost_status
    inner join lead_milestones
        on first_pipelines.account_id = lead_milestones.account_id
        and first_pipelines.lead_id = lead_milestones.lead_id
)

select * from final
