{#- One row per lead: its lead source, the value of the custom field named by
    var('lead_source_field', 'Источник'); '(not set)' when the lead has none. -#}
with

leads as (
    select * from {{ ref('stg_amocrm__leads') }}
),

source_values as (
    select account_id, lead_id, min(value_text) as lead_source
    from {{ ref('stg_amocrm__lead_custom_field_values') }}
    where custom_field_name = '{{ var("lead_source_field", "Источник") }}'
        and value_index = 1
    group by 1, 2
),

final as (
    select
        leads.account_id,
        leads.lead_id,
        coalesce(source_values.lead_source, '(not set)') as lead_source
    from leads
    left join source_values
        on leads.account_id = source_values.account_id
        and leads.lead_id = source_values.lead_id
)

select * from final
