{#- One row per call. Calls arrive as call notes and as call events pointing at their note; a
    call is identified by its note id, so the two are counted once (the note wins, it carries
    duration and status). An event without a note id stays its own call. -#}
with

notes as (
    select * from {{ ref('stg_amocrm__notes') }}
),

events as (
    select * from {{ ref('stg_amocrm__events') }}
),

note_calls as (
    select
        account_id,
        cast(note_id as varchar) as call_key,
        0 as source_priority,
        'note' as call_source,
        lead_id,
        call_direction,
        responsible_user_id as manager_id,
        created_at as called_at,
        call_duration_seconds,
        call_status
    from notes
    where is_call
),

event_calls as (
    select
        account_id,
        coalesce(cast(note_id as varchar), 'event:' || event_id) as call_key,
        1 as source_priority,
        'event' as call_source,
        lead_id,
        case event_type when 'incoming_call' then 'incoming' else 'outgoing' end as call_direction,
        created_by as manager_id,
        created_at as called_at,
        cast(null as bigint) as call_duration_seconds,
        cast(null as bigint) as call_status
    from events
    where event_type in ('incoming_call', 'outgoing_call')
),

unioned as (
    select * from note_calls
    union all
    select * from event_calls
),

ranked as (
    select
        unioned.*,
        row_number() over (partition by account_id, call_key order by source_priority) as source_rank
    from unioned
),

final as (
    select
        account_id,
        call_key,
        call_source,
        lead_id,
        call_direction,
        manager_id,
        called_at,
        call_duration_seconds,
        call_status,
        call_direction = 'outgoing' as is_outgoing,
        call_direction = 'incoming' as is_incoming,
        coalesce(call_duration_seconds > 0 and call_status = 4, false) as is_connected,
        call_duration_seconds / 60.0 as call_minutes
    from ranked
    where source_rank = 1
)

select * from final
