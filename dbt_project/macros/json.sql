{#- Text value at a JSONPath inside a JSON column (raw nested objects are kept as JSON). -#}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'amokpi')(column, path)) }}
{%- endmacro %}

{% macro default__json_text(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}

{% macro json_bigint(column, path) -%}
    cast({{ amokpi.json_text(column, path) }} as bigint)
{%- endmacro %}
