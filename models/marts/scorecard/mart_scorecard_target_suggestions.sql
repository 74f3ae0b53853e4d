{#- One row per account × scorecard role × KPI of the role × target month: a realistic target for
    the month after each month with scorecard data, from the three months ending with that month.
    ↑ KPIs: the role's 75th percentile of the manager-month values, capped at the best manager's
    average over the window; ↓ KPIs: the 25th percentile, floored at the lowest manager average. -#}
with

scorecard as (
    select * from {{ ref('mart_manager_scorecard') }}
),

basis_months as (
    -- every month with scorecard data; its suggestion is for the month after it
    select distinct
        account_id,
        month_start as basis_to_month
    from scorecard
),

window_values as (
    select
        basis_months.account_id,
        basis_months.basis_to_month,
        scorecard.scorecard_role,
        scorecard.kpi,
        scorecard.direction,
        scorecard.target,
        scorecard.manager_id,
        scorecard.month_start,
        scorecard.actual
    from basis_months
    inner join scorecard
        on basis_months.account_id = scorecard.account_id
        and scorecard.month_start <= basis_months.basis_to_month
        and scorecard.month_start >= cast({{ dbt.dateadd('month', -2, 'basis_months.basis_to_month') }} as date)
),

team_figures as (
    select
        account_id,
        basis_to_month,
        scorecard_role,
        kpi,
        direction,
        max(target) as current_target,
        count(distinct case when actual is not null then manager_id end) as managers_count,
        count(actual) as values_count,
        {{ amokpi.percentile('actual', 0.75) }} as p75_value,
        {{ amokpi.percentile('actual', 0.25) }} as p25_value
    from window_values
    group by 1, 2, 3, 4, 5
),

manager_averages as (
    select
        account_id,
        basis_to_month,
        scorecard_role,
        kpi,
        manager_id,
        avg(actual) as manager_average
    from window_values
    group by 1, 2, 3, 4, 5
),

best_averages as (
    select
        account_id,
        basis_to_month,
        scorecard_role,
        kpi,
        max(manager_average) as highest_average,
        min(manager_average) as lowest_average
    from manager_averages
    group by 1, 2, 3, 4
),

candidates as (
    select
        team_figures.*,
        case when team_figures.direction = 'down' then team_figures.p25_value
            else team_figures.p75_value
        end as team_percentile_value,
        case when team_figures.direction = 'down' then best_averages.lowest_average
            else best_averages.highest_average
        end as best_manager_average
    from team_figures
    inner join best_averages
        on team_figures.account_id = best_averages.account_id
        and team_figures.basis_to_month = best_averages.basis_to_month
        and team_figures.scorecard_role = best_averages.scorecard_role
        and team_figures.kpi = best_averages.kpi
),

suggestions as (
    select
        candidates.*,
        case
            when team_percentile_value is null then null
            when direction = 'up' and team_percentile_value > best_manager_average then best_manager_average
            when direction = 'down' and team_percentile_value < best_manager_average then best_manager_average
            else team_percentile_value
        end as suggested_target
    from candidates
),

final as (
    select
        account_id,
        {{ amokpi.next_month('basis_to_month') }} as target_month_start,
        scorecard_role,
        kpi,
        direction,
        cast({{ dbt.dateadd('month', -2, 'basis_to_month') }} as date) as basis_from_month,
        basis_to_month,
        cast(managers_count as bigint) as managers_count,
        cast(values_count as bigint) as values_count,
        cast(team_percentile_value as {{ amokpi.type_double() }}) as team_percentile_value,
        cast(best_manager_average as {{ amokpi.type_double() }}) as best_manager_average,
        cast(suggested_target as {{ amokpi.type_double() }}) as suggested_target,
        suggested_target is not null and suggested_target <> team_percentile_value as is_capped_by_best,
        cast(current_target as {{ amokpi.type_double() }}) as current_target
    from suggestions
)

select * from final
