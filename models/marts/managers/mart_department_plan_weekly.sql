{#- Grain: one row per account × week (Monday start, account timezone): the whole sales department's
    week with activity, a won deal or a plan, and always the week
    holding the snapshot day (is_current_week, "the week so far"). Activity counts sum
    mart_manager_activity_weekly; won deals and revenue sum every closing of the week
    (amokpi.kpi_won_deal_week_rows, as int_kpi_monthly's department row sums every closing of the
    month); the plan is the sum of every manager's pro-rated plan (fct_sales_plans_weekly, as the
    monthly department plan sums the seed). -#}
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

activity as (
    select * from {{ ref('mart_manager_activity_weekly') }}
),

accounts as (
    select * from {{ ref('stg_amocrm__accounts') }}
),

won_deals as (
    {{ amokpi.kpi_won_deal_week_rows() }}
),

weekly_wins as (
    select
        account_id,
        week_start,
        sum(deals_won_count) as deals_won_count,
        sum(revenue_amount) as revenue_amount
    from won_deals
    group by 1, 2
),

weekly_plans as (
    select
        account_id,
        week_start,
        sum(plan_revenue_amount) as plan_revenue_amount,
        sum(plan_revenue_to_date_amount) as plan_revenue_to_date_amount,
        sum(plan_deals_count) as plan_deals_count,
        sum(plan_deals_to_date_count) as plan_deals_to_date_count
    from plan_parts
    group by 1, 2
),

weekly_activity as (
    select
        account_id,
        week_start,
        sum(calls_count) as calls_count,
        sum(meetings_count) as meetings_count,
        sum(new_leads_count) as new_leads_count,
        sum(proposals_sent_count) as proposals_sent_count,
        sum(presentations_count) as presentations_count,
        sum(tasks_completed_count) as tasks_completed_count
    from activity
    group by 1, 2
),

weeks as (
    select account_id, week_start from weekly_wins
    union
    select account_id, week_start from weekly_plans
    union
    select account_id, week_start from weekly_activity
    union
    select account_id, {{ amokpi.week_of('as_of_day') }} as week_start from as_of
),

final as (
    select
        weeks.account_id,
        accounts.currency,
        weeks.week_start,
        coalesce(weeks.week_start = {{ amokpi.week_of('as_of.as_of_day') }}, false) as is_current_week,
        cast(coalesce(weekly_activity.calls_count, 0) as bigint) as calls_count,
        cast(coalesce(weekly_activity.meetings_count, 0) as bigint) as meetings_count,
        cast(coalesce(weekly_activity.new_leads_count, 0) as bigint) as new_leads_count,
        cast(coalesce(weekly_activity.proposals_sent_count, 0) as bigint) as proposals_sent_count,
        cast(coalesce(weekly_activity.presentations_count, 0) as bigint) as presentations_count,
        cast(coalesce(weekly_activity.tasks_completed_count, 0) as bigint) as tasks_completed_count,
        cast(coalesce(weekly_wins.deals_won_count, 0) as bigint) as deals_won_count,
        cast(coalesce(weekly_wins.revenue_amount, 0) as {{ amokpi.type_double() }}) as revenue_amount,
        cast(weekly_plans.plan_revenue_amount as {{ amokpi.type_double() }}) as plan_revenue_amount,
        cast(weekly_plans.plan_revenue_to_date_amount as {{ amokpi.type_double() }}) as plan_revenue_to_date_amount,
        cast(weekly_plans.plan_deals_count as {{ amokpi.type_double() }}) as plan_deals_count,
        cast(weekly_plans.plan_deals_to_date_count as {{ amokpi.type_double() }}) as plan_deals_to_date_count,
        {{ amokpi.plan_fulfillment_to_date('weekly_wins.revenue_amount', 'weekly_plans.plan_revenue_to_date_amount') }}
            as plan_fulfillment_to_date_rate
    from weeks
    inner join accounts
        on weeks.account_id = accounts.account_id
    left join as_of
        on weeks.account_id = as_of.account_id
    left join weekly_activity
        on weeks.account_id = weekly_activity.account_id
        and weeks.week_start = weekly_activity.week_start
    left join weekly_wins
        on weeks.account_id = weekly_wins.account_id
        and weeks.week_start = weekly_wins.week_start
    left join weekly_plans
        on weeks.account_id = weekly_plans.account_id
        and weeks.week_start = weekly_plans.week_start
)

select * from final
