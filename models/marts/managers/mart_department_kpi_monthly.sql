{#- One row per account and month: the whole sales department. Counts aggregate the same rows as
    the manager mart (never an average of manager rates); formulas live in int_kpi_monthly. -#}
with

kpi_monthly as (
    select * from {{ ref('int_kpi_monthly') }}
),

accounts as (
    select * from {{ ref('stg_amocrm__accounts') }}
),

final as (
    select
        kpi_monthly.account_id,
        accounts.currency,
        kpi_monthly.month_start,
        kpi_monthly.managers_count,
        {{ amokpi.kpi_monthly_columns('kpi_monthly') }}
    from kpi_monthly
    inner join accounts
        on kpi_monthly.account_id = accounts.account_id
    where kpi_monthly.is_department_total
)

select * from final
