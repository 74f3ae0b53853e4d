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

{#- The funnel's lead counts and the int_funnel_facts flags each counts, declared once:
    int_funnel_stage_monthly sums them (amokpi.funnel_lead_count) and fct_funnel_stage_leads lists
    the leads, so a stage's list always equals its figure. -#}
{% macro funnel_lead_counts() -%}
    {{ return([
        {'name': 'leads_entered_count', 'condition': 'is_entered'},
        {'name': 'leads_advanced_count', 'condition': 'is_entered and is_advanced'},
        {'name': 'leads_lost_count', 'condition': 'is_entered and is_lost_here'},
        {'name': 'cohort_leads_count', 'condition': 'is_cohort_member'},
        {'name': 'leads_reached_count', 'condition': 'is_cohort_member and is_reached'},
        {'name': 'open_leads_count', 'condition': 'is_open_at_month_end'},
    ]) }}
{%- endmacro %}

{#- One funnel lead count: the sum of the rows its condition names. -#}
{% macro funnel_lead_count(count_name) -%}
    {%- for entry in amokpi.funnel_lead_counts() if entry.name == count_name -%}
        sum(case when {{ entry.condition }} then 1 else 0 end)
    {%- else -%}
        {{ exceptions.raise_compiler_error("no funnel lead count " ~ count_name) }}
    {%- endfor -%}
{%- endmacro %}

{#- fct_funnel_stage_leads' rows: for each funnel lead count, the rows of `relation`
    (int_funnel_facts) its condition names. -#}
{% macro funnel_stage_lead_rows(relation) -%}
    {%- for count in amokpi.funnel_lead_counts() %}
    select account_id, pipeline_id, status_id, month_start, '{{ count.name }}' as kpi_name, lead_id, manager_id
    from {{ relation }}
    where {{ count.condition }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
