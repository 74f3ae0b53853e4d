{#- One row per team (amoCRM user group) and month (account timezone): the manager KPIs for the
    team, each month credited to the team its managers belonged to then. Counts aggregate the same
    rows as the manager mart (never an average of manager rates); formulas live in
    int_kpi_monthly. -#}
with

kpi_monthly as (
    select * from {{ ref('int_kpi_monthly') }} where kpi_grain = 'team'
),

groups as (
    select account_id, group_id, min(group_name) as group_name
    from {{ ref('int_manager_groups_monthly') }}
    group by 1, 2
),

final as (
    select
        kpi_monthly.account_id,
        kpi_monthly.group_id,
        groups.group_name,
        kpi_monthly.month_start,
        kpi_monthly.managers_count,
        {{ amokpi.kpi_monthly_columns('kpi_monthly') }}
    from kpi_monthly
    left join groups
        on kpi_monthly.account_id = groups.account_id
        and kpi_monthly.group_id is not distinct from groups.group_id
)

select * from final
