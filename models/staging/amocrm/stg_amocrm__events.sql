with

source as (
    select * from {{ source('amocrm', 'events') }}
),

final as (
    select
        account_id,
        id as event_id,
        type as event_type,
        case when entity_type = 'lead' then entity_id end as lead_id,
        entity_type,
        entity_id,
        created_by,
        {{ amokpi.from_unix('created_at') }} as created_at,
        {{ amokpi.json_bigint('value_after', '$[0].lead_status.id') }} as status_after_id,
        {{ amokpi.json_bigint('value_after', '$[0].lead_status.pipeline_id') }} as pipeline_after_id,
        {{ amokpi.json_bigint('value_before', '$[0].lead_status.id') }} as status_before_id,
        {{ amokpi.json_bigint('value_before', '$[0].lead_status.pipeline_id') }} as pipeline_before_id,
        {{ amokpi.json_bigint('value_after', '$[0].responsible_user.id') }} as responsible_after_id,
        {{ amokpi.json_bigint('value_before', '$[0].responsible_user.id') }} as responsible_before_id,
        {{ amokpi.json_bigint('value_after', '$[0].note.id') }} as note_id
    from source
)

select * from final
