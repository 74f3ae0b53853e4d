{#- Grain: one row per account × pipeline × stage × month (account timezone) × funnel lead count ×
    lead: the leads behind each lead count of mart_funnel_stages and mart_manager_funnel_stages,
    with the manager each is credited to. A count's rows are the int_funnel_facts rows its condition
    in amokpi.funnel_lead_counts names, the condition int_funnel_stage_monthly sums, so a stage's
    list equals its figure (a manager's: the rows with that manager_id). -#}
with

funnel_facts as (
    select * from {{ ref('int_funnel_facts') }}
),

stages as (
    select * from {{ ref('int_pipeline_stages') }}
),

stage_leads as (
    {{ amokpi.funnel_stage_lead_rows('funnel_facts') }}
),

final as (
    select
        stage_leads.account_id,
        stage_leads.pipeline_id,
        stage_leads.status_id,
        stage_leads.month_start,
        cast(stage_leads.kpi_name as {{ dbt.type_string() }}) as kpi_name,
        stage_leads.lead_id,
        stage_leads.manager_id
    from stage_leads
    inner join stages
        on stage_leads.account_id = stages.account_id
        and stage_leads.pipeline_id = stages.pipeline_id
        and stage_leads.status_id = stages.status_id
)

select * from final
