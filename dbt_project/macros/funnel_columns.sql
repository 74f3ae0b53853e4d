{#- The funnel figures both funnel marts expose, in contract order; counts of a missing row are 0. -#}
{% macro funnel_stage_columns(relation) -%}
        cast(coalesce({{ relation }}.leads_entered_count, 0) as bigint) as leads_entered_count,
        cast(coalesce({{ relation }}.leads_advanced_count, 0) as bigint) as leads_advanced_count,
        cast(coalesce({{ relation }}.leads_lost_count, 0) as bigint) as leads_lost_count,
        {{ relation }}.stage_conversion_rate,
        cast(coalesce({{ relation }}.cohort_leads_count, 0) as bigint) as cohort_leads_count,
        cast(coalesce({{ relation }}.leads_reached_count, 0) as bigint) as leads_reached_count,
        {{ relation }}.cumulative_conversion_rate,
        {{ relation }}.median_hours_in_stage,
        {{ relation }}.p90_hours_in_stage,
        cast(coalesce({{ relation }}.open_leads_count, 0) as bigint) as open_leads_count,
        cast(coalesce({{ relation }}.pipeline_open_amount, 0) as {{ amokpi.type_double() }}) as pipeline_open_amount
{%- endmacro %}
