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

{#- A join that turns each element of a JSON array into a row: `alias.element` (JSON) and
    `alias.position` (1-based). Rows whose array is null or empty produce no rows. -#}
{% macro join_json_array_elements(json_expr, alias) -%}
    {{ return(adapter.dispatch('join_json_array_elements', 'amokpi')(json_expr, alias)) }}
{%- endmacro %}

{% macro default__join_json_array_elements(json_expr, alias) -%}
    cross join unnest(cast({{ json_expr }} as json[])) with ordinality as {{ alias }}(element, position)
{%- endmacro %}

{% macro postgres__join_json_array_elements(json_expr, alias) -%}
    cross join lateral json_array_elements({{ json_expr }}) with ordinality as {{ alias }}(element, position)
{%- endmacro %}

{#- The JSON value (not text) at a path, e.g. an array to unpack. -#}
{% macro json_path_value(column, path) -%}
    {{ return(adapter.dispatch('json_path_value', 'amokpi')(column, path)) }}
{%- endmacro %}

{% macro default__json_path_value(column, path) -%}
    json_extract({{ column }}, '{{ path }}')
{%- endmacro %}
