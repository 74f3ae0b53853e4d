{#- One row per lead: outcome flags, the moments that KPIs measure (first response, first entry
    into a qualified-or-later stage, won/lost), the durations between them, and the manager
    responsible at each moment. Months are in the account timezone. -#}
with

leads as (
    select * from {{ ref('stg_amocrm__leads') }}
),

stage_history as (
    select * from {{ ref('int_lead_stage_history') }}
),

responsible_periods as (
    select * from {{ ref('int_lead_responsible_periods') }}
),

first_responses as (
    select * from {{ ref('int_lead_first_responses') }}
),

accounts as (
    select * from {{ ref('stg_amocrm__accounts') }}
),

deletions as (
    select * from {{ ref('int_lead_deletions') }}
),

stage_milestones as (
    select
        account_id,
        lead_id,
        min(case when is_qualified_or_later then entered_at end) as first_qualified_at,
        max(case when status_id = 142 then entered_at end) as last_won_entry_at,
        max(case when status_id = 143 then entered_at end) as last_lost_entry_at
    from stage_history
    group by 1, 2
),

qualified_visits as (
    select
        account_id,
        lead_id,
        manager_id,
        row_number() over (partition by account_id, lead_id order by entered_at, visit_number) as qualified_rank
    from stage_history
    where is_qualified_or_later
),

outcomes as (
    select
        leads.*,
        leads.status_id = 142 as is_won,
        leads.status_id = 143 as is_lost,
        leads.status_id not in (142, 143) as is_open,
        case when leads.status_id = 142
                then coalesce(stage_milestones.last_won_entry_at, leads.closed_at, leads.updated_at)
        end as won_at,
        case when leads.status_id = 143
                then coalesce(stage_milestones.last_lost_entry_at, leads.closed_at, leads.updated_at)
        end as lost_at,
        stage_milestones.first_qualified_at,
        first_responses.first_response_at,
        accounts.timezone,
        coalesce(deletions.is_deleted, leads.is_deleted) as is_deleted_now
    from leads
    left join stage_milestones
        on leads.account_id = stage_milestones.account_id
        and leads.lead_id = stage_milestones.lead_id
    left join first_responses
        on leads.account_id = first_responses.account_id
        and leads.lead_id = first_responses.lead_id
    left join accounts
        on leads.account_id = accounts.account_id
    left join deletions
        on leads.account_id = deletions.account_id
        and leads.lead_id = deletions.lead_id
),

final as (
    select
        outcomes.account_id,
        outcomes.lead_id,
        outcomes.lead_name,
        outcomes.pipeline_id,
        outcomes.status_id,
        outcomes.loss_reason_id,
        outcomes.price_amount,
        outcomes.responsible_user_id as manager_id,
        creation_period.manager_id as manager_at_creation_id,
        coalesce(close_period.manager_id, outcomes.responsible_user_id) as manager_at_close_id,
        qualified_visits.manager_id as qualified_manager_id,
        outcomes.is_won,
        outcomes.is_lost,
        outcomes.is_open,
        outcomes.is_deleted_now as is_deleted,
        outcomes.created_at,
        outcomes.won_at,
        outcomes.lost_at,
        coalesce(outcomes.won_at, outcomes.lost_at) as closed_at,
        outcomes.first_response_at,
        outcomes.first_qualified_at,
        {{ amokpi.minutes_between('outcomes.created_at', 'outcomes.first_response_at') }} as first_response_minutes,
        {{ amokpi.hours_between('outcomes.created_at', 'outcomes.first_qualified_at') }} as lead_processing_hours,
        case when outcomes.is_won
                then {{ amokpi.days_between('outcomes.first_qualified_at', 'outcomes.won_at') }}
        end as time_to_close_days,
        case when outcomes.is_won
                then {{ amokpi.days_between('outcomes.created_at', 'outcomes.won_at') }}
        end as sales_cycle_days,
        {{ amokpi.month_of(amokpi.to_local('outcomes.created_at', 'outcomes.timezone')) }} as created_month_start,
        {{ amokpi.day_of(amokpi.to_local('outcomes.created_at', 'outcomes.timezone')) }} as created_day,
        {{ amokpi.month_of(amokpi.to_local('outcomes.won_at', 'outcomes.timezone')) }} as won_month_start,
        {{ amokpi.month_of(amokpi.to_local('outcomes.lost_at', 'outcomes.timezone')) }} as lost_month_start,
        {{ amokpi.month_of(amokpi.to_local('outcomes.first_qualified_at', 'outcomes.timezone')) }}
            as qualified_month_start
    from outcomes
    left join responsible_periods as creation_period
        on outcomes.account_id = creation_period.account_id
        and outcomes.lead_id = creation_period.lead_id
        and creation_period.period_number = 1
    left join responsible_periods as close_period
        on outcomes.account_id = close_period.account_id
        and outcomes.lead_id = close_period.lead_id
        and coalesce(outcomes.won_at, outcomes.lost_at) is not null
        and {{ amokpi.period_covers('close_period', 'coalesce(outcomes.won_at, outcomes.lost_at)') }}
    left join qualified_visits
        on outcomes.account_id = qualified_visits.account_id
        and outcomes.lead_id = qualified_visits.lead_id
        and qualified_visits.qualified_rank = 1
)

select * from final
