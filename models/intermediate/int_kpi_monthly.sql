{#- One row per account × month × manager (kpi_grain 'manager', with the group the manager had
    that month), one per team — a user group — (kpi_grain 'team', manager_id null) and one for the
    department (kpi_grain 'department', is_department_total). Every KPI formula of the manager
    marts lives here, once: counts sum the named flags of int_kpi_facts (a count of leads sums its
    registry lead_condition, amokpi.kpi_lead_count, which fct_kpi_leads lists); team and department rows
    aggregate the same rows (never an average of manager rates; medians from the underlying
    leads); a rate with a zero denominator is NULL. A month's facts go to the team the manager
    belonged to in that month (int_manager_groups_monthly), so a reorganisation does not move
    past months. The aggregates are amokpi.kpi_aggregates(), shared with mart_manager_kpi_periods,
    which groups the same facts by quarter and year to date. -#}
with

kpi_facts_ungrouped as (
    select * from {{ ref('int_kpi_facts') }}
),

manager_groups as (
    select * from {{ ref('int_manager_groups_monthly') }}
),

kpi_facts as (
    select kpi_facts_ungrouped.*, manager_groups.group_id
    from kpi_facts_ungrouped
    left join manager_groups
        on kpi_facts_ungrouped.account_id = manager_groups.account_id
        and kpi_facts_ungrouped.manager_id = manager_groups.manager_id
        and kpi_facts_ungrouped.month_start = manager_groups.month_start
),

sales_plans as (
    select * from {{ ref('sales_plans') }}
),

customer_lifetime as (
    select * from {{ ref('int_customer_lifetime_monthly') }}
),

department_plans as (
    select
        account_id, month_start, sum(plan_revenue_amount) as plan_revenue_amount,
        sum(plan_deals_count) as plan_deals_count
    from sales_plans
    group by 1, 2
),

aggregated as (
    select
        account_id,
        month_start,
        manager_id,
        group_id,
        case
            when grouping(group_id) = 1 then 'department'
            when grouping(manager_id) = 1 then 'team'
            else 'manager'
        end as kpi_grain,
        grouping(group_id) = 1 as is_department_total,
        {{ amokpi.kpi_aggregates() }}
    from kpi_facts
    group by grouping sets (
        (account_id, month_start, manager_id, group_id),
        (account_id, month_start, group_id),
        (account_id, month_start)
    )
),

with_plans as (
    select
        aggregated.*,
        case when aggregated.kpi_grain = 'department' then department_plans.plan_revenue_amount
            when aggregated.kpi_grain = 'manager' then sales_plans.plan_revenue_amount
        end as plan_revenue_amount,
        case when aggregated.kpi_grain = 'department' then department_plans.plan_deals_count
            when aggregated.kpi_grain = 'manager' then sales_plans.plan_deals_count
        end as plan_deals_count,
        -- team rows keep no customer-to-date figures; manager and department rows count from zero
        case when aggregated.kpi_grain <> 'team' then coalesce(customer_lifetime.customers_to_date_count, 0) end
            as customers_to_date_count,
        case when aggregated.kpi_grain <> 'team' then coalesce(customer_lifetime.repeat_customers_to_date_count, 0) end
            as repeat_customers_to_date_count,
        customer_lifetime.lifetime_revenue_amount
    from aggregated
    left join sales_plans
        on aggregated.account_id = sales_plans.account_id
        and aggregated.manager_id = sales_plans.manager_id
        and aggregated.month_start = sales_plans.month_start
    left join department_plans
        on aggregated.account_id = department_plans.account_id
        and aggregated.month_start = department_plans.month_start
    left join customer_lifetime
        on aggregated.account_id = customer_lifetime.account_id
        and aggregated.month_start = customer_lifetime.month_start
        and aggregated.kpi_grain <> 'team'
        and aggregated.is_department_total = customer_lifetime.is_department_total
        and (aggregated.is_department_total or aggregated.manager_id = customer_lifetime.manager_id)
),

final as (
    select
        account_id,
        month_start,
        manager_id,
        group_id,
        kpi_grain,
        is_department_total,
        cast(managers_count as bigint) as managers_count,
        -- every KPI of the registry, in its order: a ratio from its parts, anything else cast
        {{ amokpi.kpi_monthly_values() }}
    from with_plans
)

select * from final
