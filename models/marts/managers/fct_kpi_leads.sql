{#- Grain: one row per account × month (account timezone) × manager × lead-count KPI × lead: the
    leads behind each count of leads of the manager-KPI marts (the registry's KPIs with a
    lead_condition), credited to the month and manager the KPI credits. A KPI's rows are the
    int_kpi_facts rows its registry lead_condition names, the condition int_kpi_monthly sums
    (amokpi.kpi_lead_count), so a manager's list equals the figure; a team's or the department's
    list is the union of its managers' rows (group_id: the team the manager had that month). -#}
with

kpi_facts as (
    select * from {{ ref('int_kpi_facts') }}
),

manager_groups as (
    select * from {{ ref('int_manager_groups_monthly') }}
),

kpi_leads as (
    {{ amokpi.kpi_lead_rows('kpi_facts') }}
),

final as (
    select
        kpi_leads.account_id,
        kpi_leads.month_start,
        kpi_leads.manager_id,
        manager_groups.group_id,
        cast(kpi_leads.kpi_name as {{ dbt.type_string() }}) as kpi_name,
        kpi_leads.lead_id,
        cast(kpi_leads.facts_count as bigint) as facts_count
    from kpi_leads
    left join manager_groups
        on kpi_leads.account_id = manager_groups.account_id
        and kpi_leads.manager_id = manager_groups.manager_id
        and kpi_leads.month_start = manager_groups.month_start
)

select * from final
