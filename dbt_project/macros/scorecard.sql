{#- The KPIs a role_kpi_matrix row may name: every numeric column of mart_manager_kpi_monthly
    except its keys (*_id), in contract order. Read from the mart's enforced contract in the
    project graph (its YAML columns and data types), so a column the mart gains later (e.g.
    plan_fulfillment_rate) can be scored by adding a seed row, with no change here, and no
    database query is needed (a fresh warehouse compiles the same list). A unit test's context
    has no project graph: call this macro from the model itself and set the list in the unit
    test's `overrides: macros: amokpi.scorecard_kpi_columns`. -#}
{% macro scorecard_kpi_columns() -%}
    {%- set numeric_types = [
        'tinyint', 'smallint', 'integer', 'int', 'bigint', 'hugeint', 'int2', 'int4', 'int8',
        'real', 'float', 'float4', 'float8', 'double', 'double precision', 'numeric', 'decimal',
    ] -%}
    {%- set kpis = [] -%}
    {%- if execute -%}
        {%- for node in (graph.get('nodes') or {}).values() -%}
            {%- if node.resource_type == 'model' and node.package_name == 'amokpi'
                  and node.name == 'mart_manager_kpi_monthly' -%}
                {%- for column in node.columns.values() -%}
                    {%- set base_type = ((column.data_type or '') | lower).split('(')[0] | trim -%}
                    {%- if base_type in numeric_types and not column.name.endswith('_id') -%}
                        {%- do kpis.append(column.name) -%}
                    {%- endif -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if kpis | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                'scorecard_kpi_columns: no numeric column found in the contract of mart_manager_kpi_monthly'
                ~ ' (in a unit test, override amokpi.scorecard_kpi_columns with the list)') }}
        {%- endif -%}
    {%- endif -%}
    {{ return(kpis) }}
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
