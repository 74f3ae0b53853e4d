{#- One row per manager: how long the manager took to sell like the team. onboarding_days: days
    from the hire date to the end of the first month (account timezone) whose revenue reached the
    team median of that month (the median over the managers with a row in it). NULL when the
    manager was hired before the data begins (the ramp-up is not observable) or has not reached
    the median yet. -#}
with

kpi_monthly as (
    select * from {{ ref('mart_manager_kpi_monthly') }}
),

kpi_facts as (
    select * from {{ ref('int_kpi_facts') }}
),

hire_dates as (
    select * from {{ ref('manager_hire_dates') }}
),

managers as (
    select * from {{ ref('dim_managers') }}
),

first_activity as (
    select account_id, manager_id, min(occurred_day) as first_activity_day, min(month_start) as first_month_start
    from kpi_facts
    where fact_type <> 'spine'
    group by 1, 2
),

data_start as (
    select account_id, min(month_start) as data_start_month
    from kpi_monthly
    group by 1
),

team_medians as (
    select account_id, month_start, {{ amokpi.percentile('revenue_amount', 0.5) }} as team_median_revenue_amount
    from kpi_monthly
    group by 1, 2
),

hires as (
    select
        first_activity.account_id,
        first_activity.manager_id,
        coalesce(hire_dates.hired_on, first_activity.first_activity_day) as hired_on
    from first_activity
    left join hire_dates
        on first_activity.account_id = hire_dates.account_id
        and first_activity.manager_id = hire_dates.manager_id
),

reached as (
    -- months before the hire (a lead handed over early, say) do not count
    select
        kpi_monthly.account_id,
        kpi_monthly.manager_id,
        min(kpi_monthly.month_start) as first_month_at_median
    from kpi_monthly
    inner join team_medians
        on kpi_monthly.account_id = team_medians.account_id
        and kpi_monthly.month_start = team_medians.month_start
    inner join hires
        on kpi_monthly.account_id = hires.account_id
        and kpi_monthly.manager_id = hires.manager_id
    where kpi_monthly.revenue_amount >= team_medians.team_median_revenue_amount
        and kpi_monthly.revenue_amount > 0
        and kpi_monthly.month_start >= cast({{ dbt.date_trunc('month', 'hires.hired_on') }} as date)
    group by 1, 2
),

final as (
    select
        managers.account_id,
        managers.manager_id,
        managers.manager_name,
        coalesce(hire_dates.hired_on, first_activity.first_activity_day) as hired_on,
        hire_dates.hired_on is null as is_hire_date_inferred,
        reached.first_month_at_median,
        case
            when coalesce(hire_dates.hired_on, first_activity.first_activity_day) >= data_start.data_start_month
                and reached.first_month_at_median is not null
                then cast({{ dbt.datediff(
                    'coalesce(hire_dates.hired_on, first_activity.first_activity_day)',
                    dbt.dateadd('day', -1, amokpi.next_month('reached.first_month_at_median')),
                    'day') }} as bigint)
        end as onboarding_days
    from managers
    inner join first_activity
        on managers.account_id = first_activity.account_id
        and managers.manager_id = first_activity.manager_id
    inner join data_start
        on managers.account_id = data_start.account_id
    left join hire_dates
        on managers.account_id = hire_dates.account_id
        and managers.manager_id = hire_dates.manager_id
    left join reached
        on managers.account_id = reached.account_id
        and managers.manager_id = reached.manager_id
)

select * from final
