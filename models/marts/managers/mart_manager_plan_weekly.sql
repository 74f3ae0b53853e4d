{#- Grain: one row per account × manager × week (Monday start, account timezone) with a won deal or
    a pro-rated plan: the week's won deals and revenue (amokpi.kpi_won_deal_week_rows, the monthly
    KPIs' facts by the day of closing) against the monthly plans pro-rated to the week by working
    days (fct_sales_plans_weekly; a week spanning two months takes its part of each). "So far" is the
    snapshot (int_account_as_of): the week holding the snapshot day is is_current_week, and its plan
    to date counts the working days up to and including that day. -#}
with

kpi_facts as (
    select * from {{ ref('int_kpi_facts') }}
),

lead_milestones as (
    select * from {{ ref('int_lead_milestones') }}
),

as_of as (
    select * from {{ ref('int_account_as_of') }}
),

plan_parts as (
    select * from {{ ref('fct_sales_plans_weekly') }}
),

managers as (
    select * from {{ ref('dim_managers') }}
),

won_deals as (
    {{ amokpi.kpi_won_deal_week_rows() }}
),

weekly_wins as (
    select
        account_id,
        manager_id,
        week_start,
        sum(deals_won_count) as deals_won_count,
        sum(revenue_amount) as revenue_amount
    from won_deals
    where manager_id is not null
    group by 1, 2, 3
),

weekly_plans as (
    select
        account_id,
        manager_id,
        week_start,
        sum(plan_revenue_amount) as plan_revenue_amount,
        sum(plan_revenue_to_date_amount) as plan_revenue_to_date_amount,
        sum(plan_deals_count) as plan_deals_count,
        sum(plan_deals_to_date_count) as plan_deals_to_date_count
    from plan_parts
    group by 1, 2, 3
),

weeks as (
    select account_id, manager_id, week_start from weekly_wins
    union
    select account_id, manager_id, week_start from weekly_plans
),

final as (
    select
        weeks.account_id,
        weeks.manager_id,
        managers.manager_name,
        managers.group_name,
        weeks.week_start,
        coalesce(weeks.week_start = {{ amokpi.week_of('as_of.as_of_day') }}, false) as is_current_week,
        cast(coalesce(weekly_wins.deals_won_count, 0) as bigint) as deals_won_count,
        cast(coalesce(weekly_wins.revenue_amount, 0) as {{ amokpi.type_double() }}) as revenue_amount,
        cast(weekly_plans.plan_revenue_amount as {{ amokpi.type_double() }}) as plan_revenue_amount,
        cast(weekly_plans.plan_revenue_to_date_amount as {{ amokpi.type_double() }}) as plan_revenue_to_date_amount,
        cast(weekly_plans.plan_deals_count as {{ amokpi.type_double() }}) as plan_deals_count,
        cast(weekly_plans.plan_deals_to_date_count as {{ amokpi.type_double() }}) as plan_deals_to_date_count,
        {{ amokpi.plan_fulfillment_to_date('weekly_wins.revenue_amount', 'weekly_plans.plan_revenue_to_date_amount') }}
            as plan_fulfillment_to_date_rate
    from weeks
    inner join managers
        on weeks.account_id = managers.account_id
        and weeks.manager_id = managers.manager_id
    left join as_of
        on weeks.account_id = as_of.account_id
    left join weekly_wins
        on weeks.account_id = weekly_wins.account_id
        and weeks.manager_id = weekly_wins.manager_id
        and weeks.week_start = weekly_wins.week_start
    left join weekly_plans
        on weeks.account_id = weekly_plans.account_id
        and weeks.manager_id = weekly_plans.manager_id
        and weeks.week_start = weekly_plans.week_start
)

select * from final
