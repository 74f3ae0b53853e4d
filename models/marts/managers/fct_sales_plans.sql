{#- Grain: one row per account × manager × month with a plan: the sales_plans seed as the marts
    read it (the plans every plan_* KPI compares against). -#}
with

sales_plans as (
    select * from {{ ref('sales_plans') }}
),

final as (
    select
        account_id,
        manager_id,
        month_start,
        plan_revenue_amount,
        plan_deals_count
    from sales_plans
)

select * from final
