with

source as (
    select * from {{ source('amocrm', 'notes') }}
),

final as (
    select
        account_id,
        id as note_id,
        entity_id as lead_id,
        note_type,
        note_type in ('call_in', 'call_out') as is_call,
        case note_type when 'call_in' then 'incoming' when 'call_out' then 'outgoing' end as call_direction,
        responsible_user_id,
        created_by,
        {{ amokpi.from_unix('created_at') }} as created_at,
        params__uniq as call_uniq,
        params__duration as call_duration_seconds,
        params__call_status as call_status,
        params__call_result as call_result
    from source
)

select * from final
