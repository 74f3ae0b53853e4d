{#- Reading the KPI registry (amokpi.kpi_registry()) from a model: one KPI, its ratio over any
    relation that carries its counts, the counts it stands on, the KPIs the comparison alerts watch.
    Registry expressions (numerator, denominator, alert_base) are column names joined by `+`. -#}

{#- The registry entry of one KPI; a name the registry lacks is a compile error, never a silent NULL. -#}
{% macro kpi(kpi_name) -%}
    {%- for entry in amokpi.kpi_registry() if entry.name == kpi_name -%}
        {{ return(entry) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("KPI " ~ kpi_name ~ " is not in dbt_project/seeds/kpi_registry.csv") }}
{%- endmacro %}

{#- A registry expression with each column qualified by `relation` ('a + b' -> 'r.a + r.b'). -#}
{% macro kpi_expression(expression, relation) -%}
    {{ return(modules.re.sub('([a-z_][a-z0-9_]*)', relation ~ '.\\1', expression)) }}
{%- endmacro %}

{#- A ratio KPI computed from the counts `relation` carries, e.g. counts summed over several months. -#}
{% macro kpi_ratio(kpi_name, relation) -%}
    {%- set entry = amokpi.kpi(kpi_name) -%}
    {%- if not entry.numerator -%}
        {{ exceptions.raise_compiler_error("KPI " ~ kpi_name ~ " is not a ratio (no numerator in the registry)") }}
    {%- endif -%}
    {{ amokpi.safe_divide(
        amokpi.kpi_expression(entry.numerator, relation), amokpi.kpi_expression(entry.denominator, relation)
    ) }}
{%- endmacro %}

{#- The additive columns the KPIs are computed from, each once: a ratio's numerator, denominator
    and alert base; a count's own column. -#}
{% macro kpi_base_columns(kpi_names) -%}
    {%- set columns = [] -%}
    {%- for kpi_name in kpi_names -%}
        {%- set entry = amokpi.kpi(kpi_name) -%}
        {%- set parts = [entry.numerator, entry.denominator, entry.alert_base] if entry.numerator else [entry.name] -%}
        {%- for column in modules.re.findall('[a-z_][a-z0-9_]*', parts | select | join(' ')) -%}
            {%- if column not in columns -%}
                {%- do columns.append(column) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- The KPIs the comparison alerts (below_team_average, month_over_month_drop) watch: those with
    an alert_base, the count the minimum base applies to. -#}
{% macro alert_kpis() -%}
    {{ return(amokpi.kpi_registry() | selectattr('alert_base') | list) }}
{%- endmacro %}
