{#- Alert rule stuck_deal, one row per lead: an open, not deleted lead whose latest activity (a
    stage entry, a call, a task created or completed on it, else its creation) is more than
    stuck_deal_days before the snapshot time (idle_days; high from severity_high_factor × that). -#}
with

leads as (
    select * from {{ ref('fct_leads') }}
),

stage_history as (
    select * from {{ ref('int_lead_stage_history') }}
),

calls as (
    select * from {{ ref('int_calls_deduplicated') }}
),

tasks as (
    select * from {{ ref('stg_amocrm__tasks') }}
),

settings as (
    select * from {{ ref('int_alert_settings') }}
),

lead_activity as (
    select account_id, lead_id, entered_at as activity_at from stage_history
    union all
    select account_id, lead_id, called_at as activity_at from calls where lead_id is not null
    union all
    select account_id, lead_id, created_at as activity_at from tasks where lead_id is not null
    union all
    select account_id, lead_id, completed_at as activity_at from tasks where lead_id is not null
),

last_activity as (
    select account_id, lead_id, max(activity_at) as last_activity_at
    from lead_activity
    group by 1, 2
),

idle_leads as (
    select
        leads.*,
        settings.as_of_at as detected_at,
        settings.stuck_deal_days,
        settings.severity_high_factor,
        -- the lead's creation counts as activity (it opens the first stage visit anyway)
        {{ amokpi.days_between(
            'coalesce(last_activity.last_activity_at, leads.created_at)', 'settings.as_of_at'
        ) }} as idle_days
    from leads
    inner join settings
        on leads.account_id = settings.account_id
    left join last_activity
        on leads.account_id = last_activity.account_id
        and leads.lead_id = last_activity.lead_id
    where leads.is_open
        and not leads.is_deleted
),

stuck_leads as (
    select
        idle_leads.*,
        case when idle_days >= severity_high_factor * stuck_deal_days then 'high' else 'medium' end as severity,
        'idle_days' as metric_name,
        idle_days as metric_value,
        stuck_deal_days as threshold_value
    from idle_leads
    where idle_days > stuck_deal_days
),

final as (
    select
        {{ amokpi.alert_columns('stuck_deal', 'lead') }}
    from stuck_leads
)

select * from final
