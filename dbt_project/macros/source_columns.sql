{#- `column` of `relation` when the table has it, else a typed NULL: for a raw column the connector
    added later (a warehouse loaded before keeps building until its next ingest adds it). -#}
{% macro column_or_null(relation, column, data_type) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for existing in adapter.get_columns_in_relation(relation) -%}
            {%- do names.append(existing.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if column | lower in names -%}
        cast({{ column }} as {{ data_type }})
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
