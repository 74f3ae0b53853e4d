with

source as (
    select * from {{ source('amocrm', 'custom_fields') }}
),

final as (
    select
        account_id,
        entity_type,
        id as custom_field_id,
        name as custom_field_name,
        type as custom_field_type,
        code as custom_field_code,
        sort as custom_field_sort,
        enums
    from source
)

select * from final
