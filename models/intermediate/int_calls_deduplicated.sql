{#- One row per call, on whichever card amoCRM put it. Calls arrive as call notes (on lead, contact
    and company cards) and as call events pointing at their note; a call is identified by its note
    id, so the two are counted once (the note wins: it carries duration, status and the named
    manager). An event without a note id stays its own call.

    Attribution, the way amoCRM's calls API places calls:
    - manager: the user the note names in `call_responsible` (a user id, or a user's exact name),
      else the note's responsible user; an event-only call is its author's;
    - lead: the lead card the call is on; for a call on a contact or company card, that card's
      single open lead at call time (created before the call, not closed by then) — amoCRM puts a
      call on a card exactly when the card has no or several open leads, so this is usually none,
      and the call counts for its manager with no lead.

    Incremental: `amokpi run` sets AMOKPI_CHANGED_SINCE_LOAD_ID to the newest load the last build read
    when only fact tables changed since (ingestion/pipeline/build_state.py; users and every other
    reference table, seeds, code or vars changed: --full-refresh). Then a call is recomputed when a
    note or event with its key arrived later (merged raw rows never vanish: a call never disappears)
    or when it is on a contact or company card (its lead depends on the card's leads, which any
    lead change may move); every other call is kept. Without it (an analyst's `dbt build`) every
    call is recomputed, so a changed column reaches every row. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['account_id', 'call_key'],
    on_schema_change='sync_all_columns',
) }}

{%- set changed_since = env_var('AMOKPI_CHANGED_SINCE_LOAD_ID', '') if is_incremental() else '' %}

with

notes as (
    select * from {{ ref('stg_amocrm__notes') }}
),

events as (
    select * from {{ ref('stg_amocrm__events') }}
),

users as (
    select * from {{ ref('stg_amocrm__users') }}
),

lead_cards as (
    select * from {{ ref('int_lead_cards') }}
),

named_by_id as (
    select notes.account_id, notes.note_id, min(users.user_id) as user_id
    from notes
    inner join users
        on notes.account_id = users.account_id
        and notes.call_responsible = cast(users.user_id as {{ dbt.type_string() }})
    where notes.is_call
    group by 1, 2
),

named_by_name as (
    -- a name counts only when it names exactly one user of the account
    select notes.account_id, notes.note_id, min(users.user_id) as user_id
    from notes
    inner join users
        on notes.account_id = users.account_id
        and lower(notes.call_responsible) = lower(trim(users.user_name))
    where notes.is_call
    group by 1, 2
    having count(*) = 1
),

note_calls as (
    select
        notes.account_id,
        cast(notes.note_id as {{ dbt.type_string() }}) as call_key,
        0 as source_priority,
        'note' as call_source,
        notes.card_type,
        notes.card_id,
        notes.call_direction,
        coalesce(named_by_id.user_id, named_by_name.user_id, notes.responsible_user_id, notes.created_by)
            as manager_id,
        notes.created_at as called_at,
        notes.call_duration_seconds,
        notes.call_status
    from notes
    left join named_by_id
        on notes.account_id = named_by_id.account_id
        and notes.note_id = named_by_id.note_id
    left join named_by_name
        on notes.account_id = named_by_name.account_id
        and notes.note_id = named_by_name.note_id
    where notes.is_call
),

event_calls as (
    select
        account_id,
        coalesce(cast(note_id as {{ dbt.type_string() }}), 'event:' || event_id) as call_key,
        1 as source_priority,
        'event' as call_source,
        entity_type as card_type,
        entity_id as card_id,
        case event_type when 'incoming_call' then 'incoming' else 'outgoing' end as call_direction,
        created_by as manager_id,
        created_at as called_at,
        cast(null as bigint) as call_duration_seconds,
        cast(null as bigint) as call_status
    from events
    where events.event_type in ('incoming_call', 'outgoing_call')
        -- an event pointing at a call note is that note's call (the note wins: it carries duration, status
        -- and the named manager); matched on the ids, before any string key is made
        and not exists (
            select 1
            from notes
            where notes.is_call
                and notes.account_id = events.account_id
                and notes.note_id = events.note_id
        )
),

unioned as (
    select * from note_calls
    union all
    select * from event_calls
),

{% if changed_since %}
    changed_keys as (
        select notes.account_id, cast(notes.id as {{ dbt.type_string() }}) as call_key
        from {{ source('amocrm', 'notes') }} as notes
        where notes._dlt_load_id > '{{ changed_since }}'
        union
        select
            events.account_id,
            coalesce(cast(events.note_id as {{ dbt.type_string() }}), 'event:' || events.event_id) as call_key
        from events
        inner join {{ source('amocrm', 'events') }} as raw_events
            on events.account_id = raw_events.account_id
            and events.event_id = raw_events.id
        where raw_events._dlt_load_id > '{{ changed_since }}'
            and events.event_type in ('incoming_call', 'outgoing_call')
    ),

    affected as (
        select account_id, call_key from changed_keys
        union
        select account_id, call_key from unioned where card_type in ('contact', 'company')
    ),

    in_scope as (
        -- incremental: only the calls a later load touched
        select unioned.*
        from unioned
        inner join affected
            on unioned.account_id = affected.account_id
            and unioned.call_key = affected.call_key
    ),
{% else %}
    in_scope as (
        select * from unioned
    ),
{% endif %}

calls as (
    -- notes are unique per id (a staging test); events left without a note are ranked among themselves
    -- (several events may point at one missing note). A window over every call instead (row_number = 1)
    -- cost two thirds of this model's time at a million leads.
    select
        in_scope.*,
        cast(1 as bigint) as event_rank
    from in_scope
    where in_scope.source_priority = 0
    union all
    select ranked_events.*
    from (
        select
            in_scope.*,
            row_number() over (
                partition by in_scope.account_id, in_scope.call_key
                order by in_scope.called_at, in_scope.card_type, in_scope.card_id
            ) as event_rank
        from in_scope
        where in_scope.source_priority = 1
    ) as ranked_events
    where ranked_events.event_rank = 1
),

card_open_leads as (
    -- for calls on contact and company cards: the leads open on that card when the call was made
    select
        calls.account_id,
        calls.call_key,
        min(lead_cards.lead_id) as lead_id,
        count(*) as open_leads
    from calls
    inner join lead_cards
        on calls.account_id = lead_cards.account_id
        and calls.card_type = lead_cards.card_type
        and calls.card_id = lead_cards.card_id
        and lead_cards.lead_created_at <= calls.called_at
        and (lead_cards.lead_closed_at is null or lead_cards.lead_closed_at > calls.called_at)
    where calls.card_type in ('contact', 'company')
    group by 1, 2
),

final as (
    select
        calls.account_id,
        calls.call_key,
        calls.call_source,
        calls.card_type,
        calls.card_id,
        case
            when calls.card_type = 'lead' then calls.card_id
            when card_open_leads.open_leads = 1 then card_open_leads.lead_id
        end as lead_id,
        case
            when calls.card_type = 'lead' then 'lead_card'
            when card_open_leads.open_leads = 1 then 'single_open_lead'
            else 'none'
        end as lead_attribution,
        calls.call_direction,
        calls.manager_id,
        calls.called_at,
        calls.call_duration_seconds,
        calls.call_status,
        calls.call_direction = 'outgoing' as is_outgoing,
        calls.call_direction = 'incoming' as is_incoming,
        coalesce(calls.call_duration_seconds > 0 and calls.call_status = 4, false) as is_connected,
        calls.call_duration_seconds / 60.0 as call_minutes
    from calls
    left join card_open_leads
        on calls.account_id = card_open_leads.account_id
        and calls.call_key = card_open_leads.call_key
)

select * from final
