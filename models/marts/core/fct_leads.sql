{#- One row per lead (сделка) with its pipeline and stage names, outcome flags, the moments KPIs
    measure and the durations between them. -#}
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

final as (
    select
        lead_milestones.account_id,
        lead_milestones.lead_id,
        lead_milestones.lead_name,
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
        lead_milestones.created_month_start
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
)

select * from final
