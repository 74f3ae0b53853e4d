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

{#- The registry's is_compared KPIs for mart_manager_comparison, each followed by a comma, as
    doubles: a manager row carries the manager's value; the team-average row (`is_team_average`)
    divides an additive KPI by the department's managers_count and takes any other KPI as the
    department's own figure, never an average of manager rates. -#}
{% macro comparison_kpi_columns(relation, is_team_average) -%}
    {%- for kpi in amokpi.kpi_registry() if kpi.is_compared %}
        {%- if is_team_average and kpi.is_additive %}
        {{ amokpi.safe_divide(relation ~ '.' ~ kpi.name, relation ~ '.managers_count') }} as {{ kpi.name }},
        {%- else %}
        cast({{ relation }}.{{ kpi.name }} as {{ amokpi.type_double() }}) as {{ kpi.name }},
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- A count of leads: the sum of the int_kpi_facts rows the KPI's registry `lead_condition` names,
    so int_kpi_monthly's figure and fct_kpi_leads' list share one condition. -#}
{% macro kpi_lead_count(kpi_name) -%}
    sum({{ amokpi.kpi_lead_flag(kpi_name) }})
{%- endmacro %}

{#- 1 for an int_kpi_facts row the KPI's registry `lead_condition` names, else 0 (kpi_lead_count sums it;
    amokpi.kpi_terms lists it) -#}
{% macro kpi_lead_flag(kpi_name) -%}
    {%- set entry = amokpi.kpi(kpi_name) -%}
    {%- if not entry.lead_condition -%}
        {{ exceptions.raise_compiler_error("KPI " ~ kpi_name ~ " has no lead_condition in the registry") }}
    {%- endif -%}
    case when {{ entry.lead_condition }} then 1 else 0 end
{%- endmacro %}

{#- The registry's lead-count KPIs (those with a lead_condition), in registry order. -#}
{% macro kpi_lead_kpis() -%}
    {{ return(amokpi.kpi_registry() | selectattr('lead_condition') | list) }}
{%- endmacro %}

{#- fct_kpi_leads' rows: for each lead-count KPI, the leads of `relation` (int_kpi_facts) its
    lead_condition names, per account × month × manager, with how many facts each contributes. -#}
{% macro kpi_lead_rows(relation) -%}
    {%- for kpi in amokpi.kpi_lead_kpis() %}
    select
        account_id, month_start, manager_id, '{{ kpi.name }}' as kpi_name, lead_id,
        count(*) as facts_count
    from {{ relation }}
    where {{ kpi.lead_condition }}
    group by 1, 2, 3, 4, 5
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- The KPIs mart_manager_pipeline_kpi_monthly carries: the counts of leads (a lead_condition), and
    the ratios whose numerator and denominator are made of them only (amokpi/kpi_codegen.py applies
    the same rule to the contract). -#}
{% macro kpi_pipeline_kpis() -%}
    {%- set lead_names = amokpi.kpi_lead_kpis() | map(attribute='name') | list -%}
    {%- set chosen = [] -%}
    {%- for kpi in amokpi.kpi_registry() -%}
        {%- if kpi.lead_condition -%}
            {%- do chosen.append(kpi) -%}
        {%- elif kpi.numerator -%}
            {%- set parts = modules.re.findall('[a-z_][a-z0-9_]*', kpi.numerator ~ ' ' ~ kpi.denominator) -%}
            {%- if parts | reject('in', lead_names) | list | length == 0 -%}
                {%- do chosen.append(kpi) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(chosen) }}
{%- endmacro %}

{#- mart_manager_pipeline_kpi_monthly's aggregates: each lead count of amokpi.kpi_pipeline_kpis(). -#}
{% macro kpi_pipeline_aggregates() -%}
    {%- for kpi in amokpi.kpi_pipeline_kpis() if kpi.lead_condition %}
    {{ amokpi.kpi_lead_count(kpi.name) }} as {{ kpi.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- ...and its KPI columns, in registry order: a ratio from its counts, a count cast. -#}
{% macro kpi_pipeline_values() -%}
    {%- for kpi in amokpi.kpi_pipeline_kpis() %}
        {%- if kpi.numerator %}
        {{ amokpi.safe_divide(kpi.numerator, kpi.denominator) }} as {{ kpi.name }}
        {%- else %}
        cast({{ kpi.name }} as bigint) as {{ kpi.name }}
        {%- endif %}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- True for an int_kpi_facts row that counts in any count of leads. -#}
{% macro kpi_lead_any_condition() -%}
    ({%- for kpi in amokpi.kpi_lead_kpis() %}({{ kpi.lead_condition }}){{ ' or ' if not loop.last }}{% endfor -%})
{%- endmacro %}
