{#- Grain: one row per account × range of months (period_start: the first day of its first month,
    period_end: the last day of its last month; period_type 'range') × kpi_grain: one per manager,
    one per team and one for the department — every range of whole months with data, computed
    when asked: a view, so a reader filters on period_start and period_end and only that range is
    aggregated (the filter reaches the range list below the aggregation). The same KPIs, from the
    same facts, by the same SQL (amokpi.kpi_over_periods) as mart_manager_kpi_periods: a range
    equal to a quarter gives the quarter's row. It reads only marts, so it works in the published
    copies too. -#}
{{ config(materialized='view') }}

with

kpi_facts_all as {{ amokpi.inline() }} (
    select * from {{ ref('fct_kpi_facts') }}
),

kpi_components as {{ amokpi.inline() }} (
    select * from {{ ref('fct_kpi_components_monthly') }}
),

sales_plans as {{ amokpi.inline() }} (
    select * from {{ ref('fct_sales_plans') }}
),

customer_lifetime as {{ amokpi.inline() }} (
    select * from {{ ref('fct_customer_lifetime_monthly') }}
),

account_months as {{ amokpi.inline() }} (
    select distinct account_id, month_start from kpi_components
),

ranges as {{ amokpi.inline() }} (
    -- every first month × last month of the account's months with data
    select
        first_months.account_id,
        first_months.month_start as first_month_start,
        last_months.month_start as last_month_start
    from account_months as first_months
    inner join account_months as last_months
        on first_months.account_id = last_months.account_id
        and first_months.month_start <= last_months.month_start
),

period_months as {{ amokpi.inline() }} (
    select
        ranges.account_id,
        'range' as period_type,
        ranges.first_month_start as period_start,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'ranges.last_month_start')) }} as date) as period_end,
        account_months.month_start
    from ranges
    inner join account_months
        on ranges.account_id = account_months.account_id
        and account_months.month_start >= ranges.first_month_start
        and account_months.month_start <= ranges.last_month_start
),

{{ amokpi.kpi_over_periods() }}

select * from final
