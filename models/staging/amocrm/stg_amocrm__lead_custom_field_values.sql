{#- One row per lead × custom field × value (multi-value fields have several), unpacked from the
    lead's custom_fields_values JSON. -#}
with

source as (
    select * from {{ source('amocrm', 'leads') }}
),

fields as (
    select
        source.account_id,
        source.id as lead_id,
        field.element as field_json,
        cast(field.position as bigint) as field_position
    from source
    {{ amokpi.join_json_array_elements('source.custom_fields_values', 'field') }}
),

final as (
    select
        fields.account_id,
        fields.lead_id,
        {{ amokpi.json_bigint('fields.field_json', '$.field_id') }} as custom_field_id,
        {{ amokpi.json_text('fields.field_json', '$.field_name') }} as custom_field_name,
        {{ amokpi.json_text('fields.field_json', '$.field_code') }} as custom_field_code,
        {{ amokpi.json_text('fields.field_json', '$.field_type') }} as custom_field_type,
        cast(value.position as bigint) as value_index,
        {{ amokpi.json_text('value.element', '$.value') }} as value_text,
        {{ amokpi.json_bigint('value.element', '$.enum_id') }} as enum_id,
        {{ amokpi.json_text('value.element', '$.enum_code') }} as enum_code
    from fields
    {{ amokpi.join_json_array_elements(amokpi.json_path_value('fields.field_json', '$.values'), 'value') }}
)

select * from final
