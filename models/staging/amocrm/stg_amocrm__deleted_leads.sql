{#- One row per deleted lead amoCRM still holds in its trash (`with=only_deleted`). amoCRM keeps
    only the id, the last change (the deletion) and who made it; the lead's other fields are the
    stored lead's, when it was loaded before it was deleted. -#}
with

source as (
    select * from {{ source('amocrm', 'deleted_leads') }}
),

final as (
    select
        account_id,
        id as lead_id,
        {{ amokpi.from_unix('updated_at') }} as updated_at,
        updated_by,
        coalesce(is_deleted, true) as is_deleted
    from source
)

select * from final
