{#- One row per pipeline × stage × month × loss reason: leads lost in the month (account timezone)
    whose furthest stage in the pipeline was this one, and their share of all leads lost at that
    stage in that month. Deleted leads are left out. -#}
with

lead_milestones as (
    select * from {{ ref('int_lead_milestones') }} where is_lost and not is_deleted
),

stage_history as (
    select * from {{ ref('int_lead_stage_history') }}
),

stages as (
    select * from {{ ref('int_pipeline_stages') }}
),

loss_reasons as (
    select * from {{ ref('stg_amocrm__loss_reasons') }}
),

furthest as (
    -- the furthest stage reached in the pipeline the lead was lost in
    select
        stage_history.account_id,
        stage_history.lead_id,
        stage_history.pipeline_id,
        stage_history.status_id,
        row_number() over (
            partition by stage_history.account_id, stage_history.lead_id
            order by stage_history.status_sort desc, stage_history.visit_number desc
        ) as rank_from_furthest
    from stage_history
    inner join lead_milestones
        on stage_history.account_id = lead_milestones.account_id
        and stage_history.lead_id = lead_milestones.lead_id
        and stage_history.pipeline_id = lead_milestones.pipeline_id
    where stage_history.status_id <> 143
),

lost as (
    select
        lead_milestones.account_id,
        lead_milestones.pipeline_id,
        furthest.status_id,
        lead_milestones.lost_month_start as month_start,
        coalesce(lead_milestones.loss_reason_id, -1) as loss_reason_id,
        count(*) as leads_lost_count
    from lead_milestones
    inner join furthest
        on lead_milestones.account_id = furthest.account_id
        and lead_milestones.lead_id = furthest.lead_id
        and furthest.rank_from_furthest = 1
    group by 1, 2, 3, 4, 5
),

final as (
    select
        lost.account_id,
        lost.pipeline_id,
        stages.pipeline_name,
        lost.status_id,
        stages.status_name,
        stages.stage_role,
        stages.status_sort as stage_sort,
        lost.month_start,
        lost.loss_reason_id,
        coalesce(loss_reasons.loss_reason_name, '(no reason given)') as loss_reason_name,
        cast(lost.leads_lost_count as bigint) as leads_lost_count,
        {{ amokpi.safe_divide(
            'lost.leads_lost_count',
            'sum(lost.leads_lost_count) over (partition by lost.account_id, lost.pipeline_id, lost.status_id, lost.month_start)'
        ) }} as loss_reason_share
    from lost
    left join stages
        on lost.account_id = stages.account_id
        and lost.pipeline_id = stages.pipeline_id
        and lost.status_id = stages.status_id
    left join loss_reasons
        on lost.account_id = loss_reasons.account_id
        and lost.loss_reason_id = loss_reasons.loss_reason_id
)

select * from final
