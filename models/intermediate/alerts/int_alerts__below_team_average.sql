{#- Alert rule below_team_average, one row per manager × watched KPI: in the latest complete month
    the manager's value is more than below_team_average_pct % below the team's — the department's
    own value for a ratio (which needs the manager's base ≥ min_base_count), the department total
    per manager for an additive KPI. The watched KPIs and their bases come from the KPI registry
    (amokpi.alert_kpis()), their values from the KPI marts. -#}
with

manager_kpis as (
    select * from {{ ref('mart_manager_kpi_monthly') }}
),

department_kpis as (
    select * from {{ ref('mart_department_kpi_monthly') }}
),

settings as (
    select * from {{ ref('int_alert_settings') }}
),

manager_values as (
    {{ amokpi.alert_kpi_values('manager_kpis') }}
),

team_values as (
    -- a ratio: the department's own value; an additive KPI: the department total per manager
    {%- for kpi in amokpi.alert_kpis() %}
        {%- set team_value = amokpi.safe_divide(kpi.name, 'managers_count') if kpi.is_additive
            else 'cast(' ~ kpi.name ~ ' as ' ~ amokpi.type_double() ~ ')' %}
        select
            account_id,
            month_start,
            '{{ kpi.name }}' as metric_name,
            {{ team_value }} as team_value
        from department_kpis
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

candidates as (
    select
        manager_values.*,
        settings.as_of_at as detected_at,
        settings.below_team_average_fraction,
        settings.severity_high_factor,
        team_values.team_value,
        (manager_values.metric_value - team_values.team_value) / team_values.team_value as deviation_rate
    from manager_values
    inner join settings
        on manager_values.account_id = settings.account_id
        and manager_values.month_start = settings.latest_month_start
    inner join team_values
        on manager_values.account_id = team_values.account_id
        and manager_values.month_start = team_values.month_start
        and manager_values.metric_name = team_values.metric_name
    where team_values.team_value > 0
        and manager_values.metric_value is not null
        -- a ratio needs a base to mean anything; a count or an amount is exact
        and (manager_values.is_additive or manager_values.base_count >= settings.min_base_count)
),

below_team_managers as (
    select
        candidates.*,
        case
            when -deviation_rate >= severity_high_factor * below_team_average_fraction then 'high'
            else 'medium'
        end as severity,
        1 as months_in_window,
        team_value as comparison_value,
        team_value * (1 - below_team_average_fraction) as threshold_value
    from candidates
    where deviation_rate < -below_team_average_fraction
),

final as (
    select
        {{ amokpi.alert_columns('below_team_average', 'manager') }}
    from below_team_managers
)

select * from final
