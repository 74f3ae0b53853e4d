-- Every lead of a creation cohort has reached its pipeline's first stage: at the first stage,
-- leads_reached_count must equal the leads created that month in that pipeline (deleted ones
-- excepted). Returns the pipeline-months where it does not.
with first_stages as (
    select account_id, pipeline_id, min(status_sort) as first_sort
    from {{ ref('int_pipeline_stages') }}
    group by 1, 2
),

mart as (
    select funnel.account_id, funnel.pipeline_id, funnel.month_start, funnel.leads_reached_count
    from {{ ref('mart_funnel_stages') }} as funnel
    inner join first_stages
        on funnel.account_id = first_stages.account_id
        and funnel.pipeline_id = first_stages.pipeline_id
        and funnel.stage_sort = first_stages.first_sort
),

created as (
    select history.account_id, history.pipeline_id, leads.created_month_start as month_start, count(*) as created
    from {{ ref('int_lead_stage_history') }} as history
    inner join {{ ref('fct_leads') }} as leads
        on history.account_id = leads.account_id
        and history.lead_id = leads.lead_id
    where history.visit_number = 1 and not leads.is_deleted
    group by 1, 2, 3
)

select mart.*, coalesce(created.created, 0) as created
from mart
left join created
    on mart.account_id = created.account_id
    and mart.pipeline_id = created.pipeline_id
    and mart.month_start = created.month_start
where mart.leads_reached_count <> coalesce(created.created, 0)
