{#- One row per account: the snapshot the alerts are measured at (int_account_as_of; never the
    wall clock) and every alert threshold resolved for the account — its own value of a setting
    where it has one, else the shared row (empty account_id). Setting by setting, so an account can
    override one key and inherit the rest. -#}
with

as_of as (
    select * from {{ ref('int_account_as_of') }}
),

alert_thresholds as (
    select * from {{ ref('alert_thresholds') }}
),

response_slas as (
    select * from {{ ref('response_slas') }}
),

-- every setting as a column, per account_id (empty: every account; the seed holds key/value rows)
threshold_sets as (
    select
        alert_thresholds.account_id,
        max(
            case when alert_thresholds.key = 'stuck_deal_days' then alert_thresholds.value end
        ) as stuck_deal_days,
        max(
            case when alert_thresholds.key = 'below_team_average_pct' then alert_thresholds.value end
        ) / 100.0 as below_team_average_fraction,
        max(
            case when alert_thresholds.key = 'month_over_month_drop_pct' then alert_thresholds.value end
        ) / 100.0 as month_over_month_drop_fraction,
        max(
            case when alert_thresholds.key = 'min_base_count' then alert_thresholds.value end
        ) as min_base_count,
        max(
            case when alert_thresholds.key = 'high_activity_calls_above_pct' then alert_thresholds.value end
        ) / 100.0 as high_activity_calls_above_fraction,
        max(
            case when alert_thresholds.key = 'high_activity_conversion_below_pct' then alert_thresholds.value end
        ) / 100.0 as high_activity_conversion_below_fraction,
        max(
            case when alert_thresholds.key = 'high_activity_window_months' then alert_thresholds.value end
        ) as high_activity_window_months,
        max(
            case when alert_thresholds.key = 'severity_high_factor' then alert_thresholds.value end
        ) as severity_high_factor
    from alert_thresholds
    group by 1
),

sla_sets as (
    select account_id, max(max_minutes) as sla_minutes
    from response_slas
    where sla_key = 'sla'
    group by 1
),

final as (
    select
        as_of.account_id,
        as_of.timezone,
        as_of.as_of_at,
        as_of.as_of_month_start,
        -- the latest complete month is the one before the snapshot's month
        cast({{ dbt.dateadd('month', -1, 'as_of.as_of_month_start') }} as date) as latest_month_start,
        cast({{ dbt.dateadd('month', -2, 'as_of.as_of_month_start') }} as date) as previous_month_start,
        coalesce(own_thresholds.stuck_deal_days, shared_thresholds.stuck_deal_days)
            as stuck_deal_days,
        coalesce(own_thresholds.below_team_average_fraction, shared_thresholds.below_team_average_fraction)
            as below_team_average_fraction,
        coalesce(own_thresholds.month_over_month_drop_fraction, shared_thresholds.month_over_month_drop_fraction)
            as month_over_month_drop_fraction,
        coalesce(own_thresholds.min_base_count, shared_thresholds.min_base_count)
            as min_base_count,
        coalesce(
            own_thresholds.high_activity_calls_above_fraction,
            shared_thresholds.high_activity_calls_above_fraction
        ) as high_activity_calls_above_fraction,
        coalesce(
            own_thresholds.high_activity_conversion_below_fraction,
            shared_thresholds.high_activity_conversion_below_fraction
        ) as high_activity_conversion_below_fraction,
        coalesce(own_thresholds.high_activity_window_months, shared_thresholds.high_activity_window_months)
            as high_activity_window_months,
        coalesce(own_thresholds.severity_high_factor, shared_thresholds.severity_high_factor)
            as severity_high_factor,
        coalesce(own_slas.sla_minutes, shared_slas.sla_minutes) as sla_minutes
    from as_of
    left join threshold_sets as own_thresholds
        on as_of.account_id = own_thresholds.account_id
    left join threshold_sets as shared_thresholds
        on shared_thresholds.account_id is null
    left join sla_sets as own_slas
        on as_of.account_id = own_slas.account_id
    left join sla_sets as shared_slas
        on shared_slas.account_id is null
)

select * from final
