{#- Alert rule month_over_month_drop, one row per manager × watched KPI: the latest complete
    month's value fell more than month_over_month_drop_pct % from the month before. The previous
    month must stand on base ≥ min_base_count; a ratio needs that in both months. The watched KPIs
    and their bases come from the KPI registry (amokpi.alert_kpis()), their values from the mart. -#}
with

manager_kpis as (
    select * from {{ ref('mart_manager_kpi_monthly') }}
),

settings as (
    select * from {{ ref('int_alert_settings') }}
),

manager_values as (
    {{ amokpi.alert_kpi_values('manager_kpis') }}
),

candidates as (
    select
        current_month.*,
        settings.as_of_at as detected_at,
        settings.month_over_month_drop_fraction,
        settings.severity_high_factor,
        previous_month.metric_value as previous_value,
        (current_month.metric_value - previous_month.metric_value) / previous_month.metric_value as deviation_rate
    from manager_values as current_month
    inner join settings
        on current_month.account_id = settings.account_id
        and current_month.month_start = settings.latest_month_start
    inner join manager_values as previous_month
        on current_month.account_id = previous_month.account_id
        and current_month.manager_id = previous_month.manager_id
        and current_month.metric_name = previous_month.metric_name
        and previous_month.month_start = settings.previous_month_start
    where previous_month.metric_value > 0
        and current_month.metric_value is not null
        and previous_month.base_count >= settings.min_base_count
        and (current_month.is_additive or current_month.base_count >= settings.min_base_count)
),

dropped_managers as (
    select
        candidates.*,
        case
            when -deviation_rate >= severity_high_factor * month_over_month_drop_fraction then 'high'
            else 'medium'
        end as severity,
        1 as months_in_window,
        previous_value as comparison_value,
        previous_value * (1 - month_over_month_drop_fraction) as threshold_value
    from candidates
    where deviation_rate < -month_over_month_drop_fraction
),

final as (
    select
        {{ amokpi.alert_columns('month_over_month_drop', 'manager') }}
    from dropped_managers
)

select * from final
