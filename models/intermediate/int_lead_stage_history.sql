{#- One row per lead × stage visit. A lead's first visit is the stage it was created in
    (lead_added's status, else the first move's "before" status, else its current status); every
    lead_status_changed event opens the next visit. Repeated events for the same stage are folded.
    A visit is credited to the manager responsible when it began. Open visits are measured to the
    snapshot time (var as_of, else the newest lead update). -#}
with

leads as (
    select * from {{ ref('stg_amocrm__leads') }}
),

events as (
    select * from {{ ref('stg_amocrm__events') }}
),

stages as (
    select * from {{ ref('int_pipeline_stages') }}
),

responsible_periods as (
    select * from {{ ref('int_lead_responsible_periods') }}
),

accounts as (
    select * from {{ ref('stg_amocrm__accounts') }}
),

snapshots as (
    select * from {{ ref('int_account_as_of') }}
),

status_moves as (
    -- moves of the leads we hold: a lead deleted before it was ever loaded is known only by its
    -- trimmed trash record, and its events count nowhere
    select
        events.account_id,
        events.lead_id,
        events.event_id,
        events.created_at,
        events.status_before_id,
        events.pipeline_before_id,
        events.status_after_id,
        events.pipeline_after_id,
        row_number() over (
            partition by events.account_id, events.lead_id order by events.created_at, events.event_id
        ) as move_number
    from events
    inner join leads
        on events.account_id = leads.account_id
        and events.lead_id = leads.lead_id
    where events.event_type = 'lead_status_changed'
        and events.status_after_id is not null
),

lead_added as (
    select account_id, lead_id, min(status_after_id) as status_id, min(pipeline_after_id) as pipeline_id
    from events
    where event_type = 'lead_added'
        and lead_id is not null
    group by 1, 2
),

initial_entries as (
    select
        leads.account_id,
        leads.lead_id,
        leads.created_at as entered_at,
        0 as entry_order,
        '' as event_id,
        coalesce(lead_added.pipeline_id, first_move.pipeline_before_id, leads.pipeline_id) as pipeline_id,
        coalesce(lead_added.status_id, first_move.status_before_id, leads.status_id) as status_id
    from leads
    left join lead_added
        on leads.account_id = lead_added.account_id
        and leads.lead_id = lead_added.lead_id
    left join status_moves as first_move
        on leads.account_id = first_move.account_id
        and leads.lead_id = first_move.lead_id
        and first_move.move_number = 1
),

move_entries as (
    select
        account_id,
        lead_id,
        created_at as entered_at,
        1 as entry_order,
        event_id,
        coalesce(pipeline_after_id, pipeline_before_id) as pipeline_id,
        status_after_id as status_id
    from status_moves
),

entries as (
    select * from initial_entries
    union all
    select * from move_entries
),

entries_with_previous as (
    select
        entries.*,
        lag(status_id) over lead_timeline as previous_status_id,
        lag(pipeline_id) over lead_timeline as previous_pipeline_id
    from entries
    window lead_timeline as (partition by account_id, lead_id order by entered_at, entry_order, event_id)
),

visits as (
    select
        account_id,
        lead_id,
        pipeline_id,
        status_id,
        entered_at,
        entry_order,
        event_id
    from entries_with_previous
    where previous_status_id is null
        or previous_status_id <> status_id
        or previous_pipeline_id <> pipeline_id
),

sequenced as (
    select
        visits.*,
        row_number() over lead_timeline as visit_number,
        lead(entered_at) over lead_timeline as exited_at,
        lead(pipeline_id) over lead_timeline as next_pipeline_id,
        lead(status_id) over lead_timeline as next_status_id
    from visits
    window lead_timeline as (partition by account_id, lead_id order by entered_at, entry_order, event_id)
),

final as (
    select
        sequenced.account_id,
        sequenced.lead_id,
        cast(sequenced.visit_number as bigint) as visit_number,
        sequenced.pipeline_id,
        sequenced.status_id,
        stages.stage_role,
        stages.status_sort,
        coalesce(stages.is_working_stage, true) as is_working_stage,
        coalesce(stages.is_qualified_or_later, false) as is_qualified_or_later,
        sequenced.entered_at,
        sequenced.exited_at,
        sequenced.next_pipeline_id,
        sequenced.next_status_id,
        sequenced.exited_at is null as is_current_visit,
        sequenced.exited_at is null and coalesce(stages.is_working_stage, true) as is_open_visit,
        row_number() over (
            partition by sequenced.account_id, sequenced.lead_id, sequenced.pipeline_id, sequenced.status_id
            order by sequenced.visit_number
        ) = 1 as is_first_entry,
        case
            when coalesce(stages.is_working_stage, true)
                then {{ amokpi.hours_between('sequenced.entered_at', 'coalesce(sequenced.exited_at, snapshots.as_of_at)') }}  -- noqa: LT05
        end as hours_in_stage,
        {{ amokpi.month_of(amokpi.to_local('sequenced.entered_at', 'accounts.timezone')) }} as entered_month_start,
        {{ amokpi.day_of(amokpi.to_local('sequenced.entered_at', 'accounts.timezone')) }} as entered_day,
        responsible_periods.manager_id
    from sequenced
    left join stages
        on sequenced.account_id = stages.account_id
        and sequenced.pipeline_id = stages.pipeline_id
        and sequenced.status_id = stages.status_id
    left join snapshots
        on sequenced.account_id = snapshots.account_id
    left join accounts
        on sequenced.account_id = accounts.account_id
    left join responsible_periods
        on sequenced.account_id = responsible_periods.account_id
        and sequenced.lead_id = responsible_periods.lead_id
        and {{ amokpi.period_covers('responsible_periods', 'sequenced.entered_at') }}
)

select * from final
