{#- The pro-rating loses and invents nothing: the weekly parts of each monthly plan
    (fct_sales_plans_weekly) sum back to the month's plan in fct_sales_plans (revenue and deals), and
    the weekly marts' plans sum to the same per manager (mart_manager_plan_weekly, managers amoCRM
    knows) and per account (mart_department_plan_weekly, every plan of an account the warehouse loads).
    Returns the rows that differ. -#}
with

plans as (
    select * from {{ ref('fct_sales_plans') }}
),

parts as (
    select * from {{ ref('fct_sales_plans_weekly') }}
),

managers as (
    select * from {{ ref('dim_managers') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

manager_weeks as (
    select * from {{ ref('mart_manager_plan_weekly') }}
),

department_weeks as (
    select * from {{ ref('mart_department_plan_weekly') }}
),

part_months as (
    select
        account_id, manager_id, month_start,
        sum(plan_revenue_amount) as plan_revenue_amount, sum(plan_deals_count) as plan_deals_count
    from parts
    group by 1, 2, 3
),

month_check as (
    select
        'month' as checked, coalesce(plans.account_id, part_months.account_id) as account_id,
        coalesce(plans.manager_id, part_months.manager_id) as manager_id
    from plans
    full outer join part_months
        on plans.account_id = part_months.account_id
        and plans.manager_id = part_months.manager_id
        and plans.month_start = part_months.month_start
    where plans.account_id is null
        or (
            part_months.account_id is null
            and coalesce(plans.plan_revenue_amount, 0) + coalesce(plans.plan_deals_count, 0) > 0
        )
        or abs(coalesce(plans.plan_revenue_amount, 0) - coalesce(part_months.plan_revenue_amount, 0)) > 0.005
        or abs(coalesce(plans.plan_deals_count, 0) - coalesce(part_months.plan_deals_count, 0)) > 1e-6
),

manager_plans as (
    select plans.account_id, plans.manager_id, sum(plans.plan_revenue_amount) as plan_revenue_amount
    from plans
    inner join managers
        on plans.account_id = managers.account_id
        and plans.manager_id = managers.manager_id
    group by 1, 2
),

manager_week_plans as (
    select account_id, manager_id, sum(plan_revenue_amount) as plan_revenue_amount
    from manager_weeks
    group by 1, 2
),

manager_check as (
    select
        'manager' as checked, coalesce(manager_plans.account_id, manager_week_plans.account_id) as account_id,
        coalesce(manager_plans.manager_id, manager_week_plans.manager_id) as manager_id
    from manager_plans
    full outer join manager_week_plans
        on manager_plans.account_id = manager_week_plans.account_id
        and manager_plans.manager_id = manager_week_plans.manager_id
    where abs(coalesce(manager_plans.plan_revenue_amount, 0) - coalesce(manager_week_plans.plan_revenue_amount, 0))
        > 0.005
),

account_plans as (
    select plans.account_id, sum(plans.plan_revenue_amount) as plan_revenue_amount
    from plans
    inner join accounts
        on plans.account_id = accounts.account_id
    group by 1
),

department_week_plans as (
    select account_id, sum(plan_revenue_amount) as plan_revenue_amount from department_weeks group by 1
),

department_check as (
    select
        'department' as checked, coalesce(account_plans.account_id, department_week_plans.account_id) as account_id,
        cast(null as bigint) as manager_id
    from account_plans
    full outer join department_week_plans
        on account_plans.account_id = department_week_plans.account_id
    where abs(coalesce(account_plans.plan_revenue_amount, 0) - coalesce(department_week_plans.plan_revenue_amount, 0))
        > 0.005
)

select * from month_check
union all
select * from manager_check
union all
select * from department_check
