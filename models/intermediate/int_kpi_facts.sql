{#- One row per contribution to a manager-month KPI, each attributed to the month (account
    timezone) and manager the KPI catalog names:
      call          the call's month and manager
      meeting       the completion day's month, the task's manager
      lead_created  creation month, the manager responsible at creation (cohort KPIs)
      lead_closed   won/lost month, the manager responsible at closing
      lead_qualified  month of the first qualified-or-later entry, the manager then responsible
    Deleted leads (junk and duplicates) count in no lead KPI; calls and meetings on them still count.
      spine         one empty row per manager and month since the manager's first activity, so
                    quiet months appear with zero counts
    The named is_* flags say which rows each KPI counts; int_kpi_monthly aggregates them. -#}

with

calls as (
    select * from {{ ref('int_calls_deduplicated') }}
),

meetings as (
    select * from {{ ref('int_meetings_deduplicated') }}
),

lead_milestones as (
    select * from {{ ref('int_lead_milestones') }}
),

accounts as (
    select * from {{ ref('stg_amocrm__accounts') }}
),

call_facts as (
    select
        calls.account_id,
        calls.manager_id,
        {{ amokpi.month_of(amokpi.to_local('calls.called_at', 'accounts.timezone')) }} as month_start,
        'call' as fact_type,
        calls.call_key as source_key,
        {{ amokpi.kpi_fact_columns({
            'is_call': 'true',
            'is_outgoing_call': 'calls.is_outgoing',
            'is_incoming_call': 'calls.is_incoming',
            'is_connected_call': 'calls.is_connected',
            'connected_call_minutes': 'case when calls.is_connected then calls.call_minutes end',
        }) }}
    from calls
    inner join accounts
        on calls.account_id = accounts.account_id
),

meeting_facts as (
    select
        account_id,
        manager_id,
        {{ amokpi.month_of('meeting_day') }} as month_start,
        'meeting' as fact_type,
        cast(task_id as varchar) as source_key,
        {{ amokpi.kpi_fact_columns({'is_meeting': 'true'}) }}
    from meetings
),

lead_created_facts as (
    select
        account_id,
        manager_at_creation_id as manager_id,
        created_month_start as month_start,
        'lead_created' as fact_type,
        cast(lead_id as varchar) as source_key,
        {{ amokpi.kpi_fact_columns({
            'is_new_lead': 'true',
            'is_cohort_won': 'is_won',
            'first_response_minutes': 'first_response_minutes',
        }) }}
    from lead_milestones
    where not is_deleted
),

lead_closed_facts as (
    select
        account_id,
        manager_at_close_id as manager_id,
        coalesce(won_month_start, lost_month_start) as month_start,
        'lead_closed' as fact_type,
        cast(lead_id as varchar) as source_key,
        {{ amokpi.kpi_fact_columns({
            'is_win_rate_eligible': 'true',
            'is_deal_won': 'is_won',
            'is_deal_lost': 'is_lost',
            'won_amount': 'case when is_won then price_amount end',
            'time_to_close_days': 'time_to_close_days',
        }) }}
    from lead_milestones
    where (is_won or is_lost) and not is_deleted
),

lead_qualified_facts as (
    select
        account_id,
        qualified_manager_id as manager_id,
        qualified_month_start as month_start,
        'lead_qualified' as fact_type,
        cast(lead_id as varchar) as source_key,
        {{ amokpi.kpi_fact_columns({'is_qualified': 'true', 'lead_processing_hours': 'lead_processing_hours'}) }}
    from lead_milestones
    where first_qualified_at is not null and not is_deleted
),

activity_facts as (
    select * from call_facts
    union all
    select * from meeting_facts
    union all
    select * from lead_created_facts
    union all
    select * from lead_closed_facts
    union all
    select * from lead_qualified_facts
),

account_months as (
    select distinct account_id, month_start
    from activity_facts
),

manager_first_months as (
    select account_id, manager_id, min(month_start) as first_month_start
    from activity_facts
    where manager_id is not null
    group by 1, 2
),

spine_facts as (
    select
        manager_first_months.account_id,
        manager_first_months.manager_id,
        account_months.month_start,
        'spine' as fact_type,
        cast(null as varchar) as source_key,
        {{ amokpi.kpi_fact_columns({}) }}
    from manager_first_months
    inner join account_months
        on manager_first_months.account_id = account_months.account_id
        and account_months.month_start >= manager_first_months.first_month_start
),

final as (
    select * from activity_facts
    union all
    select * from spine_facts
)

select * from final
