{#- One row per manager and month (account timezone). The formulas live in int_kpi_monthly. -#}
with

kpi_monthly as (
    select * from {{ ref('int_kpi_monthly') }}
),

managers as (
    select * from {{ ref('dim_managers') }}
),

final as (
    select
        kpi_monthly.account_id,
        kpi_monthly.manager_id,
        managers.manager_name,
        managers.group_id,
        managers.group_name,
        managers.role_name,
        kpi_monthly.month_start,
        {{ amokpi.kpi_monthly_columns('kpi_monthly') }}
    from kpi_monthly
    inner join managers
        on kpi_monthly.account_id = managers.account_id
        and kpi_monthly.manager_id = managers.manager_id
    where not kpi_monthly.is_department_total
)

select * from final
