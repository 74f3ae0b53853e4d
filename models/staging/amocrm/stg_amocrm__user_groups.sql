{#- One row per user group (отдел), from the account's `with=users_groups`. -#}
with

source as (
    select * from {{ source('amocrm', 'account') }}
),

final as (
    select
        source.id as account_id,
        {{ amokpi.json_bigint('user_group.element', '$.id') }} as group_id,
        {{ amokpi.json_text('user_group.element', '$.name') }} as group_name
    from source
    {{ amokpi.join_json_array_elements(amokpi.json_path_value('source._embedded', '$.users_groups'), 'user_group') }}
)

select * from final
