{#- A rate whose denominator is 0 (or null) is NULL, never 0 and never an error. -#}
{% macro safe_divide(numerator, denominator) -%}
    case when coalesce({{ denominator }}, 0) = 0 then null
         else cast({{ numerator }} as {{ amokpi.type_double() }}) / ({{ denominator }}) end
{%- endmacro %}

{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'amokpi')()) }}
{%- endmacro %}
{% macro default__type_double() %}double precision{% endmacro %}
{% macro duckdb__type_double() %}double{% endmacro %}

{#- continuous percentile (0.5 = median) as an ordered-set aggregate -#}
{% macro percentile(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile', 'amokpi')(expression, fraction)) }}
{%- endmacro %}
{% macro default__percentile(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}
{% macro clickhouse__percentile(expression, fraction) -%}
    quantileExact({{ fraction }})({{ expression }})
{%- endmacro %}
