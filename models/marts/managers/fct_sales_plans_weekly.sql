{#- Grain: one row per account × manager × week (Monday start) × plan month: the part of a week that
    falls in a month with a plan (a week spanning two months has a row in each), with the month's
    plan pro-rated by working days. A month's plan is spread evenly over its working days (the
    working_hours weekdays that are not holidays, the account's own calendar if it has one, as
    int_lead_first_response_working_minutes counts them); a month with no working day at all spreads
    it over its calendar days. "To date" counts the days up to and including the snapshot day
    (int_account_as_of.as_of_day), never the wall clock. Summed over a month's rows, the parts give
    back the month's plan. -#}
with

sales_plans as (
    select * from {{ ref('fct_sales_plans') }}
),

as_of as (
    select * from {{ ref('int_account_as_of') }}
),

working_hours as (
    select * from {{ ref('working_hours') }}
),

holidays as (
    select * from {{ ref('holidays') }}
),

day_offsets as (
    -- 0 .. 30: every day of a month
    select generated_number - 1 as day_offset from ({{ dbt.generate_series(31) }}) as numbers
),

plan_days as (
    select
        sales_plans.account_id,
        sales_plans.manager_id,
        sales_plans.month_start,
        sales_plans.plan_revenue_amount,
        sales_plans.plan_deals_count,
        cast({{ dbt.dateadd('day', 'day_offsets.day_offset', 'sales_plans.month_start') }} as date) as plan_day
    from sales_plans
    cross join day_offsets
    where {{ dbt.dateadd('day', 'day_offsets.day_offset', 'sales_plans.month_start') }}
        < {{ amokpi.next_month('sales_plans.month_start') }}
),

working_days as (
    select
        plan_days.*,
        case when working_hours.iso_weekday is not null and holidays.day is null then 1 else 0 end
            as is_working_day_flag
    from plan_days
    left join working_hours
        on working_hours.iso_weekday = {{ amokpi.iso_weekday('plan_days.plan_day') }}
        and {{ amokpi.settings_for_account('working_hours', 'plan_days.account_id') }}
    left join holidays
        on plan_days.plan_day = holidays.day
        and {{ amokpi.settings_for_account('holidays', 'plan_days.account_id') }}
),

month_days as (
    select
        account_id,
        manager_id,
        month_start,
        sum(is_working_day_flag) as working_days_count
    from working_days
    group by 1, 2, 3
),

counted_days as (
    -- the days a month's plan is spread over: its working days, or every day of a month without one
    select
        working_days.*,
        case when month_days.working_days_count = 0 then 1 else working_days.is_working_day_flag end
            as is_plan_day_flag
    from working_days
    inner join month_days
        on working_days.account_id = month_days.account_id
        and working_days.manager_id = month_days.manager_id
        and working_days.month_start = month_days.month_start
),

month_plan_days as (
    select
        account_id,
        manager_id,
        month_start,
        sum(is_plan_day_flag) as month_plan_days_count
    from counted_days
    group by 1, 2, 3
),

week_parts as (
    select
        counted_days.account_id,
        counted_days.manager_id,
        cast({{ dbt.date_trunc('week', 'counted_days.plan_day') }} as date) as week_start,
        counted_days.month_start,
        max(counted_days.plan_revenue_amount) as month_plan_revenue_amount,
        max(counted_days.plan_deals_count) as month_plan_deals_count,
        max(month_plan_days.month_plan_days_count) as month_plan_days_count,
        sum(counted_days.is_plan_day_flag) as plan_days_count,
        sum(case when counted_days.plan_day <= as_of.as_of_day then counted_days.is_plan_day_flag else 0 end)
            as plan_days_to_date_count
    from counted_days
    inner join month_plan_days
        on counted_days.account_id = month_plan_days.account_id
        and counted_days.manager_id = month_plan_days.manager_id
        and counted_days.month_start = month_plan_days.month_start
    left join as_of
        on counted_days.account_id = as_of.account_id
    group by 1, 2, 3, 4
),

final as (
    select
        account_id,
        manager_id,
        week_start,
        month_start,
        cast(plan_days_count as bigint) as plan_days_count,
        cast(plan_days_to_date_count as bigint) as plan_days_to_date_count,
        cast(month_plan_days_count as bigint) as month_plan_days_count,
        cast(month_plan_revenue_amount * plan_days_count / month_plan_days_count as {{ amokpi.type_double() }})
            as plan_revenue_amount,
        cast(
            month_plan_revenue_amount * plan_days_to_date_count / month_plan_days_count
            as {{ amokpi.type_double() }}
        ) as plan_revenue_to_date_amount,
        cast(month_plan_deals_count * 1.0 * plan_days_count / month_plan_days_count as {{ amokpi.type_double() }})
            as plan_deals_count,
        cast(
            month_plan_deals_count * 1.0 * plan_days_to_date_count / month_plan_days_count
            as {{ amokpi.type_double() }}
        ) as plan_deals_to_date_count
    from week_parts
    where plan_days_count > 0
)

select * from final
