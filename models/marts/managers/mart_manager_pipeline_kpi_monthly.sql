{#- Grain: one row per account × month (account timezone) × manager × pipeline with any lead
    figure: the manager KPIs that are about leads (the registry's counts with a lead_condition, and
    the ratios made of them only) split by the lead's current pipeline. Same int_kpi_facts rows and
    conditions as mart_manager_kpi_monthly (amokpi.kpi_lead_count), so a manager-month's pipelines
    add up to its figure. Activity without a lead (calls on no lead, meetings, tasks) has no
    pipeline and is left out. -#}
with

kpi_facts as (
    select * from {{ ref('int_kpi_facts') }} where {{ amokpi.kpi_lead_any_condition() }}
),

leads as (
    select * from {{ ref('fct_leads') }}
),

facts_with_pipelines as (
    select kpi_facts.*, leads.pipeline_id
    from kpi_facts
    inner join leads
        on kpi_facts.account_id = leads.account_id
        and kpi_facts.lead_id = leads.lead_id
),

aggregated as (
    select
        account_id,
        month_start,
        manager_id,
        pipeline_id,
        {{ amokpi.kpi_pipeline_aggregates() }}
    from facts_with_pipelines
    group by 1, 2, 3, 4
),

pipelines as (
    select distinct account_id, pipeline_id, pipeline_name from {{ ref('int_pipeline_stages') }}
),

final as (
    select
        aggregated.account_id,
        aggregated.month_start,
        aggregated.manager_id,
        aggregated.pipeline_id,
        pipelines.pipeline_name,
        {{ amokpi.kpi_pipeline_values() }}
    from aggregated
    left join pipelines
        on aggregated.account_id = pipelines.account_id
        and aggregated.pipeline_id = pipelines.pipeline_id
)

select * from final
