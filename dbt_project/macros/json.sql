{#- Text value at a JSONPath inside a JSON column (raw nested objects are kept as JSON). -#}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'amokpi')(column, path)) }}
{%- endmacro %}

{% macro default__json_text(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}

{#- PostgreSQL: dlt stores JSON as jsonb; the SQL/JSON path is the same text, and `#>> '{}'` unquotes a
    string (an object or array stays JSON text, as DuckDB's json_extract_string leaves it) -#}
{% macro postgres__json_text(column, path) -%}
    (jsonb_path_query_first(cast({{ column }} as jsonb), '{{ path }}') #>> '{}')
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

{#- PostgreSQL: jsonb (dlt's JSON type there); a JSON null or scalar produces no rows, as in DuckDB, instead of
    jsonb_array_elements' error -#}
{% macro postgres__join_json_array_elements(json_expr, alias) -%}
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(cast({{ json_expr }} as jsonb)) = 'array' then cast({{ json_expr }} as jsonb) end
    ) with ordinality as {{ alias }}(element, position)
{%- endmacro %}

{#- The JSON value (not text) at a path, e.g. an array to unpack. -#}
{% macro json_path_value(column, path) -%}
    {{ return(adapter.dispatch('json_path_value', 'amokpi')(column, path)) }}
{%- endmacro %}

{% macro default__json_path_value(column, path) -%}
    json_extract({{ column }}, '{{ path }}')
{%- endmacro %}

{% macro postgres__json_path_value(column, path) -%}
    jsonb_path_query_first(cast({{ column }} as jsonb), '{{ path }}')
{%- endmacro %}

