{#- Weekly won deals and revenue are the monthly KPIs' own facts placed by the day of closing, so
    over all weeks they add up to the months: per manager (mart_manager_plan_weekly against
    mart_manager_kpi_monthly) and per account (mart_department_plan_weekly against
    mart_department_kpi_monthly), counts exactly, amounts to the cent. Returns the rows that differ. -#}
with

manager_weeks as (
    select account_id, manager_id, sum(deals_won_count) as deals_won_count, sum(revenue_amount) as revenue_amount
    from {{ ref('mart_manager_plan_weekly') }}
    group by 1, 2
),

manager_months as (
    select account_id, manager_id, sum(deals_won_count) as deals_won_count, sum(revenue_amount) as revenue_amount
    from {{ ref('mart_manager_kpi_monthly') }}
    group by 1, 2
),

department_weeks as (
    select account_id, sum(deals_won_count) as deals_won_count, sum(revenue_amount) as revenue_amount
    from {{ ref('mart_department_plan_weekly') }}
    group by 1
),

department_months as (
    select account_id, sum(deals_won_count) as deals_won_count, sum(revenue_amount) as revenue_amount
    from {{ ref('mart_department_kpi_monthly') }}
    group by 1
),

manager_check as (
    select
        coalesce(manager_months.account_id, manager_weeks.account_id) as account_id,
        coalesce(manager_months.manager_id, manager_weeks.manager_id) as manager_id
    from manager_months
    left join manager_weeks
        on manager_months.account_id = manager_weeks.account_id
        and manager_months.manager_id = manager_weeks.manager_id
    where coalesce(manager_weeks.deals_won_count, 0) <> manager_months.deals_won_count
        or abs(coalesce(manager_weeks.revenue_amount, 0) - manager_months.revenue_amount) > 0.005
),

department_check as (
    select department_months.account_id, cast(null as bigint) as manager_id
    from department_months
    left join department_weeks
        on department_months.account_id = department_weeks.account_id
    where coalesce(department_weeks.deals_won_count, 0) <> department_months.deals_won_count
        or abs(coalesce(department_weeks.revenue_amount, 0) - department_months.revenue_amount) > 0.005
)

select * from manager_check
union all
select * from department_check
