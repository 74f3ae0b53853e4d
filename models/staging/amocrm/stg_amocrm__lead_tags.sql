{#- One row per lead × tag. -#}
with

source as (
    select * from {{ source('amocrm', 'leads') }}
),

final as (
    select
        source.account_id,
        source.id as lead_id,
        {{ amokpi.json_bigint('tag.element', '$.id') }} as tag_id,
        {{ amokpi.json_text('tag.element', '$.name') }} as tag_name
    from source
    {{ amokpi.join_json_array_elements(amokpi.json_path_value('source._embedded', '$.tags'), 'tag') }}
)

select * from final
