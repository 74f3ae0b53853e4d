{#- One row per manager and week (Monday start, account timezone) with any activity: the activity
    KPIs of mart_manager_kpi_monthly at weekly grain, counted from the same int_kpi_facts rows
    and flags, by the day each happened. -#}
with

kpi_facts as (
    select * from {{ ref('int_kpi_facts') }} where occurred_day is not null
),

managers as (
    select * from {{ ref('dim_managers') }}
),

weekly as (
    select
        account_id,
        manager_id,
        cast({{ dbt.date_trunc('week', 'occurred_day') }} as date) as week_start,
        sum(case when is_call then 1 else 0 end) as calls_count,
        sum(case when is_outgoing_call then 1 else 0 end) as calls_outgoing_count,
        sum(case when is_incoming_call then 1 else 0 end) as calls_incoming_count,
        sum(case when is_connected_call then 1 else 0 end) as calls_connected_count,
        sum(case when is_meeting then 1 else 0 end) as meetings_count,
        sum(case when is_new_lead then 1 else 0 end) as new_leads_count,
        sum(case when is_proposal_sent then 1 else 0 end) as proposals_sent_count,
        sum(case when is_presentation then 1 else 0 end) as presentations_count,
        sum(case when is_task_completed then 1 else 0 end) as tasks_completed_count
    from kpi_facts
    group by 1, 2, 3
),

final as (
    select
        weekly.account_id,
        weekly.manager_id,
        managers.manager_name,
        managers.group_name,
        weekly.week_start,
        cast(weekly.calls_count as bigint) as calls_count,
        cast(weekly.calls_outgoing_count as bigint) as calls_outgoing_count,
        cast(weekly.calls_incoming_count as bigint) as calls_incoming_count,
        cast(weekly.calls_connected_count as bigint) as calls_connected_count,
        cast(weekly.meetings_count as bigint) as meetings_count,
        cast(weekly.new_leads_count as bigint) as new_leads_count,
        cast(weekly.proposals_sent_count as bigint) as proposals_sent_count,
        cast(weekly.presentations_count as bigint) as presentations_count,
        cast(weekly.tasks_completed_count as bigint) as tasks_completed_count
    from weekly
    inner join managers
        on weekly.account_id = managers.account_id
        and weekly.manager_id = managers.manager_id
)

select * from final
