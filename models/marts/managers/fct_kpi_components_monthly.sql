{#- Grain: one row per account × month × manager × the team the manager had that month: every
    additive KPI input (amokpi.kpi_terms' sums: counts, minutes, revenue) summed over the month's
    fct_kpi_facts rows, and whether the manager has a spine row that month. The period marts sum these
    over a period's months instead of re-reading every fact; a month's sums are int_kpi_monthly's. -#}
with

kpi_facts as (
    select * from {{ ref('fct_kpi_facts') }}
),

final as (
    select
        account_id,
        month_start,
        manager_id,
        group_id,
        {{ amokpi.kpi_component_aggregates() }}
    from kpi_facts
    group by account_id, month_start, manager_id, group_id
)

select * from final
