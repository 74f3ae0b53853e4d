{#- One row per lead (сделка) with its card's address, pipeline and stage names, outcome flags, the moments KPIs
    measure and the durations between them. A lost lead also carries the stage it was lost from
    (the furthest it reached in its pipeline) and the month it was lost: mart_funnel_loss_reasons
    counts these columns, so the funnel's list of a loss reason's leads is a filter on them. -#}
with

lead_milestones as (
    select * from {{ ref('int_lead_milestones') }}
),

stages as (
    select * from {{ ref('int_pipeline_stages') }}
),

loss_reasons as (
    select * from {{ ref('stg_amocrm__loss_reasons') }}
),

managers as (
    select * from {{ ref('dim_managers') }}
),

stage_history as (
    select * from {{ ref('int_lead_stage_history') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

lost_from as (
    -- a lost lead's furthest stage in the pipeline it was lost in (the lost status itself aside);
    -- a lead that reached none has no row, and no loss-reason stage
    select
        stage_history.account_id,
        stage_history.lead_id,
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
    where lead_milestones.is_lost
        and stage_history.status_id <> 143
),

final as (
    select
        lead_milestones.account_id,
        lead_milestones.lead_id,
        lead_milestones.lead_name,
        -- the lead's card in amoCRM (or Kommo): the account's web address and the lead's id
        rtrim(accounts.crm_base_url, '/') || '/leads/detail/' || cast(lead_milestones.lead_id as varchar) as lead_url,
        lead_milestones.pipeline_id,
        stages.pipeline_name,
        lead_milestones.status_id,
        stages.status_name,
        stages.stage_role,
        lead_milestones.manager_id,
        managers.manager_name,
        managers.group_id,
        lead_milestones.manager_at_creation_id,
        lead_milestones.manager_at_close_id,
        lead_milestones.price_amount,
        lead_milestones.loss_reason_id,
        loss_reasons.loss_reason_name,
        lead_milestones.is_won,
        lead_milestones.is_lost,
        lead_milestones.is_open,
        lead_milestones.is_deleted,
        lead_milestones.created_at,
        lead_milestones.first_response_at,
        lead_milestones.first_qualified_at,
        lead_milestones.won_at,
        lead_milestones.lost_at,
        lead_milestones.closed_at,
        lead_milestones.first_response_minutes,
        lead_milestones.lead_processing_hours,
        lead_milestones.time_to_close_days,
        lead_milestones.sales_cycle_days,
        lead_milestones.created_month_start,
        lead_milestones.lost_month_start,
        lost_from.status_id as lost_from_status_id,
        -- the one rule for which leads mart_funnel_loss_reasons counts (and the funnel lists behind a reason)
        coalesce(lost_from.status_id is not null and not lead_milestones.is_deleted, false) as is_loss_reason_lead
    from lead_milestones
    left join stages
        on lead_milestones.account_id = stages.account_id
        and lead_milestones.pipeline_id = stages.pipeline_id
        and lead_milestones.status_id = stages.status_id
    left join loss_reasons
        on lead_milestones.account_id = loss_reasons.account_id
        and lead_milestones.loss_reason_id = loss_reasons.loss_reason_id
    left join managers
        on lead_milestones.account_id = managers.account_id
        and lead_milestones.manager_id = managers.manager_id
    left join accounts
        on lead_milestones.account_id = accounts.account_id
    left join lost_from
        on lead_milestones.account_id = lost_from.account_id
        and lead_milestones.lead_id = lost_from.lead_id
        and lost_from.rank_from_furthest = 1
)

select * from final
