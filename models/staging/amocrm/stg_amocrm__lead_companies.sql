{#- One row per lead × linked company. -#}
with

source as (
    select * from {{ source('amocrm', 'leads') }}
),

final as (
    select
        source.account_id,
        source.id as lead_id,
        {{ amokpi.json_bigint('company.element', '$.id') }} as company_id
    from source
    {{ amokpi.join_json_array_elements(amokpi.json_path_value('source._embedded', '$.companies'), 'company') }}
)

select * from final
