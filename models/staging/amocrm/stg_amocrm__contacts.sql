with

source as (
    select * from {{ source('amocrm', 'contacts') }}
),

final as (
    select
        account_id,
        id as contact_id,
        name as contact_name,
        responsible_user_id,
        group_id,
        {{ amokpi.from_unix('created_at') }} as created_at,
        {{ amokpi.from_unix('updated_at') }} as updated_at,
        coalesce(is_deleted, false) as is_deleted
    from source
)

select * from final
