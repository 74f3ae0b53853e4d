{#- One row per manager KPI of the registry (the kpi_registry seed): what a BI tool needs to label,
    format and colour a KPI column of the manager-KPI marts the way the report does. -#}
with

kpi_registry as (
    select * from {{ ref('kpi_registry') }}
),

final as (
    select
        kpi_name,
        label_ru,
        label_en,
        unit,
        direction,
        is_additive,
        numerator,
        denominator,
        description
    from kpi_registry
)

select * from final
