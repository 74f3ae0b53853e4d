{#- One row per call note, on a lead, contact or company card. Notes loaded before the source read
    contact and company cards carry no entity_type: they came from lead cards. -#}
with

source as (
    select * from {{ source('amocrm', 'notes') }}
),

renamed as (
    select
        *,
        coalesce(entity_type, 'leads') as card_entity_type
    from source
),

final as (
    select
        account_id,
        id as note_id,
        {{ amokpi.card_type('card_entity_type') }} as card_type,
        entity_id as card_id,
        case when card_entity_type = 'leads' then entity_id end as lead_id,
        note_type,
        note_type in ('call_in', 'call_out') as is_call,
        case note_type when 'call_in' then 'incoming' when 'call_out' then 'outgoing' end as call_direction,
        responsible_user_id,
        created_by,
        {{ amokpi.from_unix('created_at') }} as created_at,
        params__uniq as call_uniq,
        params__duration as call_duration_seconds,
        params__call_status as call_status,
        params__call_result as call_result,
        -- who took (incoming) or made (outgoing) the call: a user id or a free-text name
        trim(params__call_responsible) as call_responsible
    from renamed
)

select * from final
