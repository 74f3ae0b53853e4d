{#- One row per account × manager × month × KPI of the manager's scorecard role (role_kpi_matrix
    seed): the KPI's actual value, its target, attainment and weighted points, and the
    manager-month's total score and rank. The scorecard role comes from the manager_roles seed:
    a per-manager row first, else the amoCRM role name (an account's own row before a shared one). Managers whose role maps to no scorecard
    role are not scored (mart_manager_comparison still shows them, with total_score NULL). -#}
{%- set kpi_columns = amokpi.scorecard_kpi_columns() %}
with

kpi_monthly as (
    select * from {{ ref('mart_manager_kpi_monthly') }}
),

manager_roles as (
    select * from {{ ref('manager_roles') }}
),

role_kpi_matrix as (
    select * from {{ ref('role_kpi_matrix') }}
),

-- per account_id (empty: every account); the account's own row wins over the shared one
manager_overrides as (
    select account_id, manager_id, min(scorecard_role) as scorecard_role
    from manager_roles
    where manager_id is not null
    group by 1, 2
),

role_name_defaults as (
    select account_id, lower(trim(role_name)) as role_key, min(scorecard_role) as scorecard_role
    from manager_roles
    where manager_id is null
    group by 1, 2
),

scored_managers as (
    select
        kpi_monthly.*,
        coalesce(
            own_manager.scorecard_role, shared_manager.scorecard_role,
            own_role.scorecard_role, shared_role.scorecard_role
        ) as scorecard_role
    from kpi_monthly
    left join manager_overrides as own_manager
        on kpi_monthly.account_id = own_manager.account_id
        and kpi_monthly.manager_id = own_manager.manager_id
    left join manager_overrides as shared_manager
        on shared_manager.account_id is null
        and kpi_monthly.manager_id = shared_manager.manager_id
    left join role_name_defaults as own_role
        on kpi_monthly.account_id = own_role.account_id
        and lower(trim(kpi_monthly.role_name)) = own_role.role_key
    left join role_name_defaults as shared_role
        on shared_role.account_id is null
        and lower(trim(kpi_monthly.role_name)) = shared_role.role_key
),

kpi_values as (
    -- unpivot: one row per KPI of the role, its value picked from the wide row by column name
    select
        scored_managers.account_id,
        scored_managers.month_start,
        scored_managers.manager_id,
        scored_managers.manager_name,
        scored_managers.group_id,
        scored_managers.group_name,
        scored_managers.role_name,
        scored_managers.scorecard_role,
        role_kpi_matrix.kpi,
        {{ amokpi.kpi_direction('role_kpi_matrix.kpi') }} as direction,
        cast(role_kpi_matrix.weight as {{ amokpi.type_double() }}) as weight,
        cast(role_kpi_matrix.target as {{ amokpi.type_double() }}) as target,
        cast(coalesce(role_kpi_matrix.cap, 1.5) as {{ amokpi.type_double() }}) as cap,
        {{ amokpi.scorecard_kpi_value('scored_managers', 'role_kpi_matrix.kpi', kpi_columns) }} as actual
    from scored_managers
    inner join role_kpi_matrix
        on scored_managers.scorecard_role = role_kpi_matrix.scorecard_role
),

raw_attainments as (
    select
        kpi_values.*,
        case
            when actual is null then null
            when direction = 'down' and actual = 0 then cap  -- nothing to wait for: the best possible
            when direction = 'down' then {{ amokpi.safe_divide('target', 'actual') }}
            else {{ amokpi.safe_divide('actual', 'target') }}
        end as uncapped_attainment
    from kpi_values
),

attainments as (
    select
        raw_attainments.*,
        case
            when uncapped_attainment > cap then cap
            else uncapped_attainment
        end as attainment
    from raw_attainments
),

points as (
    select
        attainments.*,
        100 * weight * attainment as weighted_points
    from attainments
),

manager_scores as (
    -- a KPI without attainment (no actual, or an undefined division) earns 0 points
    select
        account_id,
        month_start,
        manager_id,
        sum(coalesce(weighted_points, 0)) as total_score
    from points
    group by 1, 2, 3
),

ranked_scores as (
    select
        manager_scores.*,
        rank() over (
            partition by account_id, month_start
            order by total_score desc
        ) as score_rank
    from manager_scores
),

final as (
    select
        points.account_id,
        points.month_start,
        points.manager_id,
        points.manager_name,
        points.group_id,
        points.group_name,
        points.role_name,
        points.scorecard_role,
        points.kpi,
        points.direction,
        points.weight,
        points.target,
        points.cap,
        points.actual,
        cast(points.attainment as {{ amokpi.type_double() }}) as attainment,
        cast(points.weighted_points as {{ amokpi.type_double() }}) as weighted_points,
        cast(ranked_scores.total_score as {{ amokpi.type_double() }}) as total_score,
        cast(ranked_scores.score_rank as bigint) as score_rank,
        -- 1e-9 absorbs floating-point sums: weights of 0.3 + 0.15 + … at attainment 1 make 100
        ranked_scores.total_score + 0.000000001 >= 100 as is_kpi_met
    from points
    inner join ranked_scores
        on points.account_id = ranked_scores.account_id
        and points.month_start = ranked_scores.month_start
        and points.manager_id = ranked_scores.manager_id
)

select * from final
