{#- One row per manager and month (account timezone), with the group and role the manager had
    that month. The formulas live in int_kpi_monthly. -#}
with

kpi_monthly as (
    select * from {{ ref('int_kpi_monthly') }}
),

managers as (
    select * from {{ ref('dim_managers') }}
),

manager_groups as (
    select * from {{ ref('int_manager_groups_monthly') }}
),

final as (
    select
        kpi_monthly.account_id,
        kpi_monthly.manager_id,
        managers.manager_name,
        kpi_monthly.group_id,
        manager_groups.group_name,
        manager_groups.role_name,
        kpi_monthly.month_start,
        {{ amokpi.kpi_monthly_columns('kpi_monthly') }}
    from kpi_monthly
    inner join managers
        on kpi_monthly.account_id = managers.account_id
        and kpi_monthly.manager_id = managers.manager_id
    left join manager_groups
        on kpi_monthly.account_id = manager_groups.account_id
        and kpi_monthly.manager_id = manager_groups.manager_id
        and kpi_monthly.month_start = manager_groups.month_start
    where kpi_monthly.kpi_grain = 'manager'
)

select * from final
