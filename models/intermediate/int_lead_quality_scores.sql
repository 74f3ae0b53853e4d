{#- One row per lead that carries a call-quality or customer-satisfaction score. CRM data alone
    cannot measure either; they exist only when an integration writes them into lead custom fields
    named by var('call_quality_field', 'Оценка звонка') and var('csat_field', 'CSAT'). Without
    such fields there are no rows and the KPIs stay NULL (not available) — never invented. -#}
with

field_values as (
    select * from {{ ref('stg_amocrm__lead_custom_field_values') }}
    where value_index = 1
),

scores as (
    select
        account_id,
        lead_id,
        max(case when custom_field_name = '{{ var("call_quality_field", "Оценка звонка") }}'
                then {{ dbt.safe_cast('value_text', amokpi.type_double()) }}
        end) as call_quality_score,
        max(case when custom_field_name = '{{ var("csat_field", "CSAT") }}'
                then {{ dbt.safe_cast('value_text', amokpi.type_double()) }}
        end) as csat_score
    from field_values
    group by 1, 2
),

final as (
    select * from scores
    where call_quality_score is not null or csat_score is not null
)

select * from final
