{#- Grain: one row per contribution to a manager-month KPI (int_kpi_facts: fact_type × source_key,
    plus one empty "spine" row per manager and month), with the team the manager had that month.
    The facts every period KPI is aggregated from (amokpi.kpi_over_periods): published so a KPI over
    any range of months is computed from them by the same SQL as the monthly and period marts. -#}
with

kpi_facts as (
    select * from {{ ref('int_kpi_facts') }}
),

manager_groups as (
    select * from {{ ref('int_manager_groups_monthly') }}
),

final as (
    select
        kpi_facts.*,
        manager_groups.group_id
    from kpi_facts
    left join manager_groups
        on kpi_facts.account_id = manager_groups.account_id
        and kpi_facts.manager_id = manager_groups.manager_id
        and kpi_facts.month_start = manager_groups.month_start
)

select * from final
