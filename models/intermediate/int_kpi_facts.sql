{#- One row per contribution to a manager-month KPI, each attributed to the month (account
    timezone) and manager the KPI catalog names:
      call          the call's month and manager
      meeting       the completion day's month, the task's manager
      lead_created  creation month, the manager responsible at creation (cohort KPIs)
      lead_closed   won/lost month, the manager responsible at closing
      lead_qualified  month of the first qualified-or-later entry, the manager then responsible
      stage_entry   a lead's first entry into a proposal or presentation stage: that month, the
                    manager then responsible (is_presentation_advanced: it later went further)
      task_completed  a completed task of any type: its completion month, the task's manager
      task_overdue  a task open at a month's end (the running month: the snapshot time) whose
                    deadline had passed: that month, the task's manager
      action        lead events and tasks, one row per month, manager and kind with their number
                    (action_count): an event's month and its lead's manager, a task's creation month
                    and its manager; is_automated_action: created by a robot/integration (created_by
                    0 or no user)
    lead_created rows also carry the cohort flags (lost, qualified, answered within each SLA);
    lead_closed rows the customer flags (the customer's first win; a win from an existing or
    upsell-tagged customer) and the call-quality / satisfaction scores an integration may have
    written (int_lead_quality_scores). The customer of a lead is its main contact.
    Deleted leads (junk and duplicates) count in no lead KPI; calls and meetings on them still count.
      spine         one empty row per manager and month since the manager's first activity, so
                    quiet months appear with zero counts
    lead_id: the lead a fact is about (lead facts; a call attributed to a lead),
    NULL otherwise. The named is_* flags say which rows each KPI counts; int_kpi_monthly aggregates
    them, and a count of leads counts its registry lead_condition (fct_kpi_leads lists them). -#}

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

as_of as (
    select * from {{ ref('int_account_as_of') }}
),

funnel_entries as (
    select funnel_facts.*, stages.stage_role
    from {{ ref('int_funnel_facts') }} as funnel_facts
    inner join {{ ref('int_pipeline_stages') }} as stages
        on funnel_facts.account_id = stages.account_id
        and funnel_facts.pipeline_id = stages.pipeline_id
        and funnel_facts.status_id = stages.status_id
    where funnel_facts.fact_type = 'entry'
        and stages.stage_role in ('proposal', 'presentation')
),

tasks as (
    select * from {{ ref('stg_amocrm__tasks') }}
),

events as (
    select * from {{ ref('stg_amocrm__events') }}
),

users as (
    select * from {{ ref('stg_amocrm__users') }}
),

response_slas as (
    -- per account_id (empty: every account); a lead takes its account's value, else the shared one
    select
        account_id,
        max(case when sla_key = 'sla' then max_minutes end) as sla_minutes,
        max(case when sla_key = 'day' then max_minutes end) as day_minutes
    from {{ ref('response_slas') }}
    group by 1
),

customer_wins as (
    select * from {{ ref('int_lead_customer_wins') }}
),

quality_scores as (
    select * from {{ ref('int_lead_quality_scores') }}
),

working_minutes as (
    select * from {{ ref('int_lead_first_response_working_minutes') }}
),

call_facts as (
    select
        calls.account_id,
        calls.manager_id,
        {{ amokpi.month_of(amokpi.to_local('calls.called_at', 'accounts.timezone')) }} as month_start,
        {{ amokpi.day_of(amokpi.to_local('calls.called_at', 'accounts.timezone')) }} as occurred_day,
        'call' as fact_type,
        calls.call_key as source_key,
        calls.lead_id,
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
        meeting_day as occurred_day,
        'meeting' as fact_type,
        cast(task_id as varchar) as source_key,
        cast(null as bigint) as lead_id,
        {{ amokpi.kpi_fact_columns({'is_meeting': 'true'}) }}
    from meetings
),

lead_created_facts as (
    select
        lead_milestones.account_id,
        lead_milestones.manager_at_creation_id as manager_id,
        lead_milestones.created_month_start as month_start,
        lead_milestones.created_day as occurred_day,
        'lead_created' as fact_type,
        cast(lead_milestones.lead_id as varchar) as source_key,
        lead_milestones.lead_id,
        {{ amokpi.kpi_fact_columns({
            'is_new_lead': 'true',
            'is_cohort_won': 'lead_milestones.is_won',
            'is_cohort_lost': 'lead_milestones.is_lost',
            'is_cohort_qualified': 'lead_milestones.first_qualified_at is not null',
            'first_response_minutes': 'lead_milestones.first_response_minutes',
            'first_response_working_minutes': 'working_minutes.first_response_working_minutes',
            'is_response_within_sla':
                'coalesce(lead_milestones.first_response_minutes'
                ~ ' <= coalesce(own_slas.sla_minutes, shared_slas.sla_minutes), false)',
            'is_response_within_day':
                'coalesce(lead_milestones.first_response_minutes'
                ~ ' <= coalesce(own_slas.day_minutes, shared_slas.day_minutes), false)',
        }) }}
    from lead_milestones
    left join response_slas as own_slas
        on lead_milestones.account_id = own_slas.account_id
    left join response_slas as shared_slas
        on shared_slas.account_id is null
    left join working_minutes
        on lead_milestones.account_id = working_minutes.account_id
        and lead_milestones.lead_id = working_minutes.lead_id
    where not lead_milestones.is_deleted
),

lead_closed_facts as (
    select
        lead_milestones.account_id,
        lead_milestones.manager_at_close_id as manager_id,
        coalesce(lead_milestones.won_month_start, lead_milestones.lost_month_start) as month_start,
        cast(null as date) as occurred_day,
        'lead_closed' as fact_type,
        cast(lead_milestones.lead_id as varchar) as source_key,
        lead_milestones.lead_id,
        {{ amokpi.kpi_fact_columns({
            'is_win_rate_eligible': 'true',
            'is_deal_won': 'lead_milestones.is_won',
            'is_deal_lost': 'lead_milestones.is_lost',
            'won_amount': 'case when lead_milestones.is_won then lead_milestones.price_amount end',
            'time_to_close_days': 'lead_milestones.time_to_close_days',
            'is_new_customer': 'coalesce(customer_wins.is_new_customer, false)',
            'is_upsell': 'coalesce(customer_wins.is_upsell, false)',
            'call_quality_score': 'quality_scores.call_quality_score',
            'csat_score': 'quality_scores.csat_score',
        }) }}
    from lead_milestones
    left join customer_wins
        on lead_milestones.account_id = customer_wins.account_id
        and lead_milestones.lead_id = customer_wins.lead_id
    left join quality_scores
        on lead_milestones.account_id = quality_scores.account_id
        and lead_milestones.lead_id = quality_scores.lead_id
    where (lead_milestones.is_won or lead_milestones.is_lost) and not lead_milestones.is_deleted
),

lead_qualified_facts as (
    select
        account_id,
        qualified_manager_id as manager_id,
        qualified_month_start as month_start,
        cast(null as date) as occurred_day,
        'lead_qualified' as fact_type,
        cast(lead_id as varchar) as source_key,
        lead_id,
        {{ amokpi.kpi_fact_columns({'is_qualified': 'true', 'lead_processing_hours': 'lead_processing_hours'}) }}
    from lead_milestones
    where first_qualified_at is not null and not is_deleted
),

stage_entry_facts as (
    select
        account_id,
        manager_id,
        month_start,
        occurred_day,
        'stage_entry' as fact_type,
        cast(lead_id as varchar) as source_key,
        lead_id,
        {{ amokpi.kpi_fact_columns({
            'is_proposal_sent': "stage_role = 'proposal'",
            'is_presentation': "stage_role = 'presentation'",
            'is_presentation_advanced': "stage_role = 'presentation' and is_advanced",
        }) }}
    from funnel_entries
),

task_completed_facts as (
    select
        tasks.account_id,
        tasks.responsible_user_id as manager_id,
        {{ amokpi.month_of(amokpi.to_local('tasks.completed_at', 'accounts.timezone')) }} as month_start,
        {{ amokpi.day_of(amokpi.to_local('tasks.completed_at', 'accounts.timezone')) }} as occurred_day,
        'task_completed' as fact_type,
        cast(tasks.task_id as varchar) as source_key,
        cast(null as bigint) as lead_id,
        {{ amokpi.kpi_fact_columns({'is_task_completed': 'true'}) }}
    from tasks
    inner join accounts
        on tasks.account_id = accounts.account_id
    where tasks.is_completed
),

month_cut_offs as (
    -- the first moment after each month in UTC (the running month: the snapshot time)
    select
        months.account_id,
        months.month_start,
        case
            when months.month_start = as_of.as_of_month_start then as_of.as_of_at
            else {{ amokpi.local_to_utc('cast(' ~ amokpi.next_month('months.month_start') ~ ' as timestamp)', 'as_of.timezone') }}  -- noqa: LT05
        end as cut_off_at
    from (select distinct account_id, created_month_start as month_start from lead_milestones) as months
    inner join as_of
        on months.account_id = as_of.account_id
    where months.month_start <= as_of.as_of_month_start
),

task_overdue_facts as (
    select
        tasks.account_id,
        tasks.responsible_user_id as manager_id,
        month_cut_offs.month_start,
        cast(null as date) as occurred_day,
        'task_overdue' as fact_type,
        cast(tasks.task_id as varchar) as source_key,
        cast(null as bigint) as lead_id,
        {{ amokpi.kpi_fact_columns({'is_task_overdue': 'true'}) }}
    from tasks
    inner join month_cut_offs
        on tasks.account_id = month_cut_offs.account_id
        and tasks.created_at < month_cut_offs.cut_off_at
        and tasks.complete_till_at < month_cut_offs.cut_off_at
        and (tasks.completed_at is null or tasks.completed_at >= month_cut_offs.cut_off_at)
),

actions as (
    -- lead events and tasks, each once: counted per manager and month below, never listed
    select
        events.account_id,
        lead_milestones.manager_id,
        {{ amokpi.month_of(amokpi.to_local('events.created_at', 'accounts.timezone')) }} as month_start,
        coalesce(events.created_by, 0) = 0 or users.user_id is null as is_automated
    from events
    inner join lead_milestones
        on events.account_id = lead_milestones.account_id
        and events.lead_id = lead_milestones.lead_id
    inner join accounts
        on events.account_id = accounts.account_id
    left join users
        on events.account_id = users.account_id
        and events.created_by = users.user_id
    where not lead_milestones.is_deleted
    union all
    select
        tasks.account_id,
        tasks.responsible_user_id as manager_id,
        {{ amokpi.month_of(amokpi.to_local('tasks.created_at', 'accounts.timezone')) }} as month_start,
        coalesce(tasks.created_by, 0) = 0 or users.user_id is null as is_automated
    from tasks
    inner join accounts
        on tasks.account_id = accounts.account_id
    left join users
        on tasks.account_id = users.account_id
        and tasks.created_by = users.user_id
),

action_facts as (
    -- one row per manager, month and kind (manual or automated) with the number of actions: at a million
    -- leads one row per action made 15M of this model's 34M rows, which no drill-down lists
    select
        account_id,
        manager_id,
        month_start,
        cast(null as date) as occurred_day,
        'action' as fact_type,
        cast(null as varchar) as source_key,
        cast(null as bigint) as lead_id,
        {{ amokpi.kpi_fact_columns({
            'is_action': 'true',
            'is_automated_action': 'is_automated',
            'action_count': 'count(*)',
        }) }}
    from actions
    group by account_id, manager_id, month_start, is_automated
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
    union all
    select * from stage_entry_facts
    union all
    select * from task_completed_facts
    union all
    select * from task_overdue_facts
    union all
    select * from action_facts
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
        cast(null as date) as occurred_day,
        'spine' as fact_type,
        cast(null as varchar) as source_key,
        cast(null as bigint) as lead_id,
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
