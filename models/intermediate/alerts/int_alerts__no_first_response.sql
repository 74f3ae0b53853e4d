{#- Alert rule no_first_response, one row per lead: an open, not deleted lead nobody has answered
    whose age at the snapshot time exceeds the SLA (waiting_minutes; always high), or a not deleted
    lead first answered during the snapshot month (account timezone) later than the SLA
    (first_response_minutes; high from severity_high_factor × the SLA). Strictly past the SLA. -#}
with

leads as (
    select * from {{ ref('fct_leads') }}
),

settings as (
    select * from {{ ref('int_alert_settings') }}
),

waiting_leads as (
    select
        leads.*,
        settings.as_of_at as detected_at,
        settings.sla_minutes as threshold_value,
        'high' as severity,
        'waiting_minutes' as metric_name,
        {{ amokpi.minutes_between('leads.created_at', 'settings.as_of_at') }} as metric_value
    from leads
    inner join settings
        on leads.account_id = settings.account_id
    where leads.is_open
        and not leads.is_deleted
        and leads.first_response_at is null
        and {{ amokpi.minutes_between('leads.created_at', 'settings.as_of_at') }} > settings.sla_minutes
),

late_answered_leads as (
    select
        leads.*,
        settings.as_of_at as detected_at,
        settings.sla_minutes as threshold_value,
        case
            when leads.first_response_minutes >= settings.severity_high_factor * settings.sla_minutes then 'high'
            else 'medium'
        end as severity,
        'first_response_minutes' as metric_name,
        leads.first_response_minutes as metric_value
    from leads
    inner join settings
        on leads.account_id = settings.account_id
    where not leads.is_deleted
        and leads.first_response_minutes > settings.sla_minutes
        and {{ amokpi.month_of(amokpi.to_local('leads.first_response_at', 'settings.timezone')) }}
        = settings.as_of_month_start
),

alerted_leads as (
    select * from waiting_leads
    union all
    select * from late_answered_leads
),

final as (
    select
        {{ amokpi.alert_columns('no_first_response', 'lead') }}
    from alerted_leads
)

select * from final
