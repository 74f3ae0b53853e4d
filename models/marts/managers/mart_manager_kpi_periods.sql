{#- Grain: one row per account × period (period_type 'quarter' or 'year_to_date', period_start,
    period_end) × kpi_grain: one per manager (manager_id), one per team (group_id, manager_id null)
    and one for the department. The registry's KPIs over the period, from the same int_kpi_facts
    rows and the same aggregates as int_kpi_monthly (amokpi.kpi_aggregates, grouped by period
    instead of month): counts are the months' counts summed, ratios the registry's numerator over
    denominator of the summed counts, medians and averages over the period's underlying facts.
    A month's facts go to the team the manager had that month. Plans: the period's months summed
    (NULL without any); customer-to-date figures: as of the period's last month with data.
    year_to_date: one period per month of data, from January to that month. quarter: the calendar
    quarter (the running one holds the months so far). -#}
with

kpi_facts_all as (
    select * from {{ ref('fct_kpi_facts') }}
),

kpi_components as (
    select * from {{ ref('fct_kpi_components_monthly') }}
),

sales_plans as (
    select * from {{ ref('fct_sales_plans') }}
),

customer_lifetime as (
    select * from {{ ref('fct_customer_lifetime_monthly') }}
),

account_months as (
    select distinct account_id, month_start from kpi_components
),

period_ends as (
    -- each month of data ends a year-to-date period
    select
        account_id,
        month_start as end_month_start,
        cast({{ dbt.date_trunc('year', 'month_start') }} as date) as year_start
    from account_months
),

period_months as (
    -- which months each period holds
    select
        account_id,
        'quarter' as period_type,
        cast({{ dbt.date_trunc('quarter', 'month_start') }} as date) as period_start,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 3, dbt.date_trunc('quarter', 'month_start'))) }} as date)
            as period_end,
        month_start
    from account_months
    union all
    select
        period_ends.account_id,
        'year_to_date' as period_type,
        period_ends.year_start as period_start,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'period_ends.end_month_start')) }} as date)
            as period_end,
        account_months.month_start
    from period_ends
    inner join account_months
        on period_ends.account_id = account_months.account_id
        and account_months.month_start >= period_ends.year_start
        and account_months.month_start <= period_ends.end_month_start
),

{{ amokpi.kpi_over_periods() }}

select * from final
