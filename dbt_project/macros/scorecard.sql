{#- The KPIs a role_kpi_matrix row may name: the KPI registry's (every KPI column of
    mart_manager_kpi_monthly), in its order. A unit test may still narrow the list with
    `overrides: macros: amokpi.scorecard_kpi_columns`. -#}
{% macro scorecard_kpi_columns() -%}
    {%- set kpis = [] -%}
    {%- for kpi in amokpi.kpi_registry() -%}
        {%- do kpis.append(kpi.name) -%}
    {%- endfor -%}
    {{ return(kpis) }}
{%- endmacro %}

{#- The registry's direction of the KPI named in `kpi_column` ('up': higher is better, 'down':
    lower is better, 'none': neither, which a scorecard cannot score), as a portable case. -#}
{% macro kpi_direction(kpi_column) -%}
    case {{ kpi_column }}
    {%- for kpi in amokpi.kpi_registry() %}
        when '{{ kpi.name }}' then '{{ kpi.direction }}'
    {%- endfor %}
    end
{%- endmacro %}

{#- The value of the KPI whose column name is in `kpi_column` (a row's kpi), picked from the wide
    row `relation` (an alias of mart_manager_kpi_monthly) as a double: a portable unpivot (a plain
    case over the scorable columns `kpis`, from scorecard_kpi_columns(); no dialect UNPIVOT). A
    name that is no such column gives NULL, and the singular test assert_role_kpi_matrix_is_valid
    rejects it. -#}
{% macro scorecard_kpi_value(relation, kpi_column, kpis) -%}
    {%- if kpis | length == 0 -%}
        cast(null as {{ amokpi.type_double() }})
    {%- else -%}
        case {{ kpi_column }}
        {%- for kpi in kpis %}
            when '{{ kpi }}' then cast({{ relation }}.{{ kpi }} as {{ amokpi.type_double() }})
        {%- endfor %}
        end
    {%- endif -%}
{%- endmacro %}
