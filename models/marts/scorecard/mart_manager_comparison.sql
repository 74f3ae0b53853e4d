{#- The side-by-side manager table: one row per account × manager × month with the main KPIs and
    the scorecard total, plus one team-average row per account × month (is_team_average,
    manager_id NULL). The team row divides the department's counts and amounts by its managers
    and takes its rates and median from mart_department_kpi_monthly, which recomputes them from
    summed counts and the underlying leads (never an average of manager rates). -#}
with

kpi_monthly as (
    select * from {{ ref('mart_manager_kpi_monthly') }}
),

department as (
    select * from {{ ref('mart_department_kpi_monthly') }}
),

scorecard as (
    select * from {{ ref('mart_manager_scorecard') }}
),

manager_scores as (
    -- the scorecard repeats a manager-month's total on each KPI row
    select
        account_id,
        month_start,
        manager_id,
        max(scorecard_role) as scorecard_role,
        max(total_score) as total_score,
        max(score_rank) as score_rank,
        {{ dbt.bool_or('is_kpi_met') }} as is_kpi_met
    from scorecard
    group by 1, 2, 3
),

team_scores as (
    select
        account_id,
        month_start,
        avg(total_score) as total_score,
        count(*) as managers_scored_count,
        sum(case when is_kpi_met then 1 else 0 end) as managers_meeting_kpi_count
    from manager_scores
    group by 1, 2
),

manager_rows as (
    select
        kpi_monthly.account_id,
        kpi_monthly.month_start,
        false as is_team_average,
        kpi_monthly.manager_id,
        kpi_monthly.manager_name,
        kpi_monthly.group_id,
        kpi_monthly.group_name,
        kpi_monthly.role_name,
        manager_scores.scorecard_role,
        cast(null as bigint) as managers_count,
        {{ amokpi.comparison_kpi_columns('kpi_monthly', is_team_average=false) }}
        cast(manager_scores.total_score as {{ amokpi.type_double() }}) as total_score,
        cast(manager_scores.score_rank as bigint) as score_rank,
        manager_scores.is_kpi_met,
        cast(null as {{ amokpi.type_double() }}) as kpi_met_rate
    from kpi_monthly
    left join manager_scores
        on kpi_monthly.account_id = manager_scores.account_id
        and kpi_monthly.month_start = manager_scores.month_start
        and kpi_monthly.manager_id = manager_scores.manager_id
),

team_rows as (
    select
        department.account_id,
        department.month_start,
        true as is_team_average,
        cast(null as bigint) as manager_id,
        cast(null as {{ dbt.type_string() }}) as manager_name,
        cast(null as bigint) as group_id,
        cast(null as {{ dbt.type_string() }}) as group_name,
        cast(null as {{ dbt.type_string() }}) as role_name,
        cast(null as {{ dbt.type_string() }}) as scorecard_role,
        cast(department.managers_count as bigint) as managers_count,
        {{ amokpi.comparison_kpi_columns('department', is_team_average=true) }}
        cast(team_scores.total_score as {{ amokpi.type_double() }}) as total_score,
        cast(null as bigint) as score_rank,
        cast(null as boolean) as is_kpi_met,
        {{ amokpi.safe_divide('team_scores.managers_meeting_kpi_count', 'team_scores.managers_scored_count') }}
            as kpi_met_rate
    from department
    left join team_scores
        on department.account_id = team_scores.account_id
        and department.month_start = team_scores.month_start
),

final as (
    select * from manager_rows
    union all
    select * from team_rows
)

select * from final
