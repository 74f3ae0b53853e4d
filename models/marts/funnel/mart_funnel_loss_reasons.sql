{#- One row per pipeline × stage × month × loss reason: leads lost in the month (account timezone)
    whose furthest stage in the pipeline was this one, and their share of all leads lost at that
    stage in that month. Deleted leads are left out. The stage and month are fct_leads'
    lost_from_status_id and lost_month_start, so the funnel's list of a reason's leads (a filter on
    fct_leads) counts what this mart counts. -#}
with

lost_leads as (
    select * from {{ ref('fct_leads') }}
    where is_loss_reason_lead
),

stages as (
    select * from {{ ref('int_pipeline_stages') }}
),

loss_reasons as (
    select * from {{ ref('stg_amocrm__loss_reasons') }}
),

lost as (
    select
        account_id,
        pipeline_id,
        lost_from_status_id as status_id,
        lost_month_start as month_start,
        coalesce(loss_reason_id, -1) as loss_reason_id,
        count(*) as leads_lost_count
    from lost_leads
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
