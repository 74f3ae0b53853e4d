{#- The KPI columns the manager-KPI marts expose, in the registry's order (amokpi.kpi_registry()),
    selected from `relation` (an alias of int_kpi_monthly). One list, so the marts cannot drift apart. -#}
{% macro kpi_monthly_columns(relation) -%}
    {%- for kpi in amokpi.kpi_registry() %}
        {{ relation }}.{{ kpi.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Every KPI's value in int_kpi_monthly from its aggregated inputs, in the registry's order: a
    ratio is numerator / denominator (NULL on a zero denominator), anything else its aggregate cast
    to the contract type. -#}
{% macro kpi_monthly_values() -%}
    {%- for kpi in amokpi.kpi_registry() %}
        {%- if kpi.numerator %}
        {{ amokpi.safe_divide(kpi.numerator, kpi.denominator) }} as {{ kpi.name }}
        {%- else %}
        cast({{ kpi.name }} as {{ 'bigint' if kpi.data_type == 'bigint' else amokpi.type_double() }}) as {{ kpi.name }}
        {%- endif %}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
