with

source as (
    select * from {{ source('amocrm', 'users') }}
),

final as (
    select
        account_id,
        id as user_id,
        name as user_name,
        email,
        rights__group_id as group_id,
        {{ amokpi.json_text('_embedded', '$.groups[0].name') }} as group_name,
        rights__role_id as role_id,
        {{ amokpi.json_text('_embedded', '$.roles[0].name') }} as role_name,
        coalesce(rights__is_admin, false) as is_admin,
        coalesce(rights__is_active, true) as is_active
    from source
)

select * from final
