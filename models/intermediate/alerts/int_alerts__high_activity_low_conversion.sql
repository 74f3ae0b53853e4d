{#- Alert rule high_activity_low_conversion, one row per manager: over the last
    high_activity_window_months complete months together, the manager's calls per month exceed the
    department's calls per manager-month by more than high_activity_calls_above_pct %, while a
    conversion KPI is more than high_activity_conversion_below_pct % below the department's — the
    first of `conversion_kpis` that is. A training signal. Counts are summed over the window and
    the rates formed from the sums with the registry's numerator and denominator (amokpi.kpi_ratio);
    a KPI with an alert_base needs the manager's base ≥ min_base_count. -#}

{#- in the order the rule names them: call_to_deal_rate when it is low, else win_rate -#}
{%- set conversion_kpis = ['call_to_deal_rate', 'win_rate'] -%}
{%- set window_counts = amokpi.kpi_base_columns(['calls_count'] + conversion_kpis) -%}

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

window_managers as (
    -- the complete months the rule sums over, ending with the latest complete month
    select
        manager_kpis.account_id,
        manager_kpis.manager_id,
        max(manager_kpis.manager_name) as manager_name,
        max(settings.latest_month_start) as month_start,
        max(settings.as_of_at) as detected_at,
        count(*) as months_count,
    {%- for column in window_counts %}
        sum(manager_kpis.{{ column }}) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
    from manager_kpis
    inner join settings
        on manager_kpis.account_id = settings.account_id
    where {{ dbt.datediff('manager_kpis.month_start', 'settings.latest_month_start', 'month') }}
        between 0 and settings.high_activity_window_months - 1
    group by 1, 2
),

window_team as (
    -- the department over the same months: calls per manager-month, rates from summed counts
    select
        department_kpis.account_id,
        sum(department_kpis.managers_count) as manager_months_count,
    {%- for column in window_counts %}
        sum(department_kpis.{{ column }}) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
    from department_kpis
    inner join settings
        on department_kpis.account_id = settings.account_id
    where {{ dbt.datediff('department_kpis.month_start', 'settings.latest_month_start', 'month') }}
        between 0 and settings.high_activity_window_months - 1
    group by 1
),

window_rates as (
    select
        window_managers.account_id,
        window_managers.manager_id,
        window_managers.manager_name,
        window_managers.month_start,
        window_managers.detected_at,
        window_managers.months_count,
        settings.high_activity_calls_above_fraction,
        settings.high_activity_conversion_below_fraction,
        settings.severity_high_factor,
        {{ amokpi.safe_divide('window_managers.calls_count', 'window_managers.months_count') }}
            as calls_per_month,
        {{ amokpi.safe_divide('window_team.calls_count', 'window_team.manager_months_count') }}
            as team_calls_per_month,
    {%- for kpi_name in conversion_kpis %}
        {%- set alert_base = amokpi.kpi(kpi_name).alert_base %}
        {%- if alert_base %}
            case
                when {{ amokpi.kpi_expression(alert_base, 'window_managers') }} >= settings.min_base_count
                    then {{ amokpi.kpi_ratio(kpi_name, 'window_managers') }}
            end as {{ kpi_name }},
        {%- else %}
            {{ amokpi.kpi_ratio(kpi_name, 'window_managers') }} as {{ kpi_name }},
        {%- endif %}
        {{ amokpi.kpi_ratio(kpi_name, 'window_team') }} as team_{{ kpi_name }}{{ ',' if not loop.last }}
    {%- endfor %}
    from window_managers
    inner join window_team
        on window_managers.account_id = window_team.account_id
    inner join settings
        on window_managers.account_id = settings.account_id
),

window_deviations as (
    select
        window_rates.*,
        (calls_per_month - team_calls_per_month) / team_calls_per_month as calls_deviation_rate,
    {%- for kpi_name in conversion_kpis %}
        case
            when team_{{ kpi_name }} > 0 then ({{ kpi_name }} - team_{{ kpi_name }}) / team_{{ kpi_name }}
        end as {{ kpi_name }}_deviation_rate{{ ',' if not loop.last }}
    {%- endfor %}
    from window_rates
    where team_calls_per_month > 0
),

low_conversion_managers as (
    -- the conversion that is low, its value and the department's
    select
        window_deviations.*,
        case
            {%- for kpi_name in conversion_kpis %}
                when {{ kpi_name }}_deviation_rate < -high_activity_conversion_below_fraction
                    then '{{ kpi_name }}'
            {%- endfor %}
        end as metric_name,
        case
            {%- for kpi_name in conversion_kpis %}
                when {{ kpi_name }}_deviation_rate < -high_activity_conversion_below_fraction
                    then {{ kpi_name }}
            {%- endfor %}
        end as metric_value,
        case
            {%- for kpi_name in conversion_kpis %}
                when {{ kpi_name }}_deviation_rate < -high_activity_conversion_below_fraction
                    then team_{{ kpi_name }}
            {%- endfor %}
        end as comparison_value,
        case
            {%- for kpi_name in conversion_kpis %}
                when {{ kpi_name }}_deviation_rate < -high_activity_conversion_below_fraction
                    then {{ kpi_name }}_deviation_rate
            {%- endfor %}
        end as deviation_rate
    from window_deviations
    where calls_deviation_rate > high_activity_calls_above_fraction
),

busy_managers as (
    select
        low_conversion_managers.*,
        case
            when -deviation_rate >= severity_high_factor * high_activity_conversion_below_fraction then 'high'
            else 'medium'
        end as severity,
        months_count as months_in_window,
        comparison_value * (1 - high_activity_conversion_below_fraction) as threshold_value
    from low_conversion_managers
    where metric_name is not null
),

final as (
    select
        {{ amokpi.alert_columns(
            'high_activity_low_conversion', 'manager', extra=['calls_per_month', 'team_calls_per_month']
        ) }}
    from busy_managers
)

select * from final
