{#- The body of the period marts (mart_manager_kpi_periods, mart_manager_kpi_ranges) after their
    import CTEs, ending in a `final` CTE: the registry's KPIs over each period, from the same facts
    and aggregates as int_kpi_monthly grouped by period instead of month (amokpi.kpi_terms): the sums
    from the months' sums (fct_kpi_components_monthly, a row per manager and month), the medians,
    percentiles and means from the period's fact rows that carry their values. The caller defines
      kpi_facts_all      fct_kpi_facts (the facts, each with the team of its month)
      kpi_components     fct_kpi_components_monthly
      sales_plans        fct_sales_plans
      customer_lifetime  fct_customer_lifetime_monthly
      period_months      account_id, period_type, period_start, period_end, month_start: which
                         months (with data) each period holds
    Counts are the months' counts summed, ratios the registry's numerator over denominator of the
    summed counts, medians and averages over the period's facts. A month's facts go to the team
    the manager had that month. Plans: the period's months summed (NULL without any);
    customer-to-date figures: as of the period's last month with data; team rows carry neither. -#}
{% macro kpi_over_periods() -%}
period_last_months as {{ amokpi.inline() }} (
    select
        account_id, period_type, period_start, period_end, max(month_start) as last_month_start,
        count(*) as months_count
    from period_months
    group by 1, 2, 3, 4
),

period_components as {{ amokpi.inline() }} (
    select
        kpi_components.*,
        period_months.period_type,
        period_months.period_start,
        period_months.period_end
    from kpi_components
    inner join period_months
        on kpi_components.account_id = period_months.account_id
        and kpi_components.month_start = period_months.month_start
),

period_values as {{ amokpi.inline() }} (
    select
        kpi_facts_all.*,
        period_months.period_type,
        period_months.period_start,
        period_months.period_end
    from kpi_facts_all
    inner join period_months
        on kpi_facts_all.account_id = period_months.account_id
        and kpi_facts_all.month_start = period_months.month_start
    where {{ amokpi.kpi_holistic_rows() }}
),

manager_plans as {{ amokpi.inline() }} (
    select
        period_months.account_id, period_months.period_type, period_months.period_start,
        period_months.period_end, sales_plans.manager_id,
        sum(sales_plans.plan_revenue_amount) as plan_revenue_amount,
        sum(sales_plans.plan_deals_count) as plan_deals_count
    from sales_plans
    inner join period_months
        on sales_plans.account_id = period_months.account_id
        and sales_plans.month_start = period_months.month_start
    group by 1, 2, 3, 4, 5
),

department_plans as {{ amokpi.inline() }} (
    select
        account_id, period_type, period_start, period_end,
        sum(plan_revenue_amount) as plan_revenue_amount,
        sum(plan_deals_count) as plan_deals_count
    from manager_plans
    group by 1, 2, 3, 4
),

additive as {{ amokpi.inline() }} (
    {{ amokpi.kpi_period_grains('period_components', amokpi.kpi_component_rollup()) }}
),

holistic as {{ amokpi.inline() }} (
    {{ amokpi.kpi_period_grains('period_values', amokpi.kpi_holistic_aggregates()) }}
),

aggregated as {{ amokpi.inline() }} (
    -- every grain has months of sums; a grain with no value to take a median of has no holistic row
    select
        additive.*,
        {%- for name in amokpi.kpi_holistic_names() %}
        holistic.{{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from additive
    left join holistic
        on additive.account_id = holistic.account_id
        and additive.period_type = holistic.period_type
        and additive.period_start = holistic.period_start
        and additive.period_end = holistic.period_end
        and additive.kpi_grain = holistic.kpi_grain
        and coalesce(additive.manager_id, -1) = coalesce(holistic.manager_id, -1)
        and coalesce(additive.group_id, -1) = coalesce(holistic.group_id, -1)
),

with_plans as {{ amokpi.inline() }} (
    select
        aggregated.*,
        period_last_months.months_count,
        case when aggregated.kpi_grain = 'department' then department_plans.plan_revenue_amount
            when aggregated.kpi_grain = 'manager' then manager_plans.plan_revenue_amount
        end as plan_revenue_amount,
        case when aggregated.kpi_grain = 'department' then department_plans.plan_deals_count
            when aggregated.kpi_grain = 'manager' then manager_plans.plan_deals_count
        end as plan_deals_count,
        -- as of the period's last month; team rows keep none, as in the monthly marts
        case when aggregated.kpi_grain <> 'team' then coalesce(customer_lifetime.customers_to_date_count, 0) end
            as customers_to_date_count,
        case when aggregated.kpi_grain <> 'team' then coalesce(customer_lifetime.repeat_customers_to_date_count, 0) end
            as repeat_customers_to_date_count,
        customer_lifetime.lifetime_revenue_amount
    from aggregated
    inner join period_last_months
        on aggregated.account_id = period_last_months.account_id
        and aggregated.period_type = period_last_months.period_type
        and aggregated.period_start = period_last_months.period_start
        and aggregated.period_end = period_last_months.period_end
    left join manager_plans
        on aggregated.account_id = manager_plans.account_id
        and aggregated.period_type = manager_plans.period_type
        and aggregated.period_start = manager_plans.period_start
        and aggregated.period_end = manager_plans.period_end
        and aggregated.manager_id = manager_plans.manager_id
    left join department_plans
        on aggregated.account_id = department_plans.account_id
        and aggregated.period_type = department_plans.period_type
        and aggregated.period_start = department_plans.period_start
        and aggregated.period_end = department_plans.period_end
    left join customer_lifetime
        on aggregated.account_id = customer_lifetime.account_id
        and period_last_months.last_month_start = customer_lifetime.month_start
        and aggregated.kpi_grain <> 'team'
        and customer_lifetime.is_department_total = (aggregated.kpi_grain = 'department')
        and (aggregated.kpi_grain = 'department' or aggregated.manager_id = customer_lifetime.manager_id)
),

final as {{ amokpi.inline() }} (
    select
        account_id,
        cast(period_type as {{ dbt.type_string() }}) as period_type,
        period_start,
        period_end,
        cast(kpi_grain as {{ dbt.type_string() }}) as kpi_grain,
        manager_id,
        group_id,
        cast(months_count as bigint) as months_count,
        cast(managers_count as bigint) as managers_count,
        -- every KPI of the registry, in its order, as int_kpi_monthly forms them
        {{ amokpi.kpi_monthly_values() }}
    from with_plans
)
{%- endmacro %}

{#- One row per manager, per team and for the department of each period: three plain GROUP BYs in a UNION
    ALL rather than GROUPING SETS, because PostgreSQL pushes a filter on the period into plain GROUP BYs (and
    DuckDB into both), so a range view read for one range aggregates that range only. -#}
{% macro kpi_period_grains(source, aggregates) -%}
    {%- set grains = [
        ('manager', 'manager_id', 'cast(null as bigint)', ', manager_id'),
        ('team', 'cast(null as bigint)', 'group_id', ', group_id'),
        ('department', 'cast(null as bigint)', 'cast(null as bigint)', ''),
    ] -%}
    {%- for grain, manager, team, key in grains %}
    select
        account_id, period_type, period_start, period_end,
        {{ manager }} as manager_id,
        {{ team }} as group_id,
        '{{ grain }}' as kpi_grain,
        {{ aggregates }}
    from {{ source }}
    group by account_id, period_type, period_start, period_end{{ key }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- A CTE PostgreSQL may inline into each reader (it materialises one read twice, and no filter crosses a
    materialised CTE); DuckDB takes the same words. -#}
{% macro inline() -%}
    not materialized
{%- endmacro %}
