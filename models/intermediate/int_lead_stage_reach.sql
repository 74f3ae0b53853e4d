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

first_visits as (
    select account_id, lead_id, pipeline_id
    from stage_history
    where visit_number = 1
),

furthest as (
    select
        stage_history.account_id,
        stage_history.lead_id,
        max(stage_history.status_sort) as furthest_sort
    from stage_history
    inner join first_visits
        on stage_history.account_id = first_visits.account_id
        and stage_history.lead_id = first_visits.lead_id
        and stage_history.pipeline_id = first_visits.pipeline_id
    where stage_history.status_id <> 143
    group by 1, 2
),

final as (
    select
        first_visits.account_id,
        first_visits.lead_id,
        first_visits.pipeline_id,
        stages.status_id,
        stages.status_sort,
        lead_milestones.created_month_start,
        lead_milestones.manager_at_creation_id,
        lead_milestones.is_deleted,
        coalesce(furthest.furthest_sort >= stages.status_sort, false) as is_reached
    from first_visits
    inner join stages
        on first_visits.account_id = stages.account_id
        and first_visits.pipeline_id = stages.pipeline_id
        and not stages.is_lost_status
    inner join lead_milestones
        on first_visits.account_id = lead_milestones.account_id
        and first_visits.lead_id = lead_milestones.lead_id
    left join furthest
        on first_visits.account_id = furthest.account_id
        and first_visits.lead_id = furthest.lead_id
)

select * from final
