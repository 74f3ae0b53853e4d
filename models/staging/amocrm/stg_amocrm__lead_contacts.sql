{#- One row per lead × linked contact (from `with=contacts`). -#}
with

source as (
    select * from {{ source('amocrm', 'leads') }}
),

final as (
    select
        source.account_id,
        source.id as lead_id,
        {{ amokpi.json_bigint('contact.element', '$.id') }} as contact_id,
        coalesce(cast({{ amokpi.json_text('contact.element', '$.is_main') }} as boolean), false) as is_main_contact
    from source
    {{ amokpi.join_json_array_elements(amokpi.json_path_value('source._embedded', '$.contacts'), 'contact') }}
)

select * from final
