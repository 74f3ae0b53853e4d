with

source as (
    select * from {{ source('amocrm', 'companies') }}
),

final as (
    select
        account_id,
        id as company_id,
        name as company_name,
        responsible_user_id,
        group_id,
        {{ amokpi.from_unix('created_at') }} as created_at,
        {{ amokpi.from_unix('updated_at') }} as updated_at,
        coalesce(is_deleted, false) as is_deleted
    from source
)

select * from final
