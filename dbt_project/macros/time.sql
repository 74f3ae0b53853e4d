{#- amoCRM timestamps are unix seconds in UTC. Staging turns them into naive UTC timestamps;
    reports bucket days and months in the account's timezone via to_local(). -#}

{% macro from_unix(column) -%}
    {{ return(adapter.dispatch('from_unix', 'amokpi')(column)) }}
{%- endmacro %}

{% macro default__from_unix(column) -%}
    (to_timestamp({{ column }}) at time zone 'UTC')
{%- endmacro %}

{% macro duckdb__from_unix(column) -%}
    make_timestamp(cast({{ column }} as bigint) * 1000000)
{%- endmacro %}


{#- naive UTC timestamp -> naive local timestamp in `tz` (a column or a quoted literal) -#}
{% macro to_local(ts, tz) -%}
    {{ return(adapter.dispatch('to_local', 'amokpi')(ts, tz)) }}
{%- endmacro %}

{% macro default__to_local(ts, tz) -%}
    (({{ ts }} at time zone 'UTC') at time zone {{ tz }})
{%- endmacro %}

{% macro duckdb__to_local(ts, tz) -%}
    timezone({{ tz }}, timezone('UTC', {{ ts }}))
{%- endmacro %}


{#- first day of the month / the day of a naive local timestamp, as dates -#}
{% macro month_of(local_ts) -%}
    cast({{ dbt.date_trunc('month', local_ts) }} as date)
{%- endmacro %}

{% macro day_of(local_ts) -%}
    cast({{ dbt.date_trunc('day', local_ts) }} as date)
{%- endmacro %}


{#- exact elapsed time between two timestamps, in the unit the column name carries -#}
{% macro minutes_between(start_ts, end_ts) -%}
    ({{ dbt.datediff(start_ts, end_ts, 'second') }} / 60.0)
{%- endmacro %}

{% macro hours_between(start_ts, end_ts) -%}
    ({{ dbt.datediff(start_ts, end_ts, 'second') }} / 3600.0)
{%- endmacro %}

{% macro days_between(start_ts, end_ts) -%}
    ({{ dbt.datediff(start_ts, end_ts, 'second') }} / 86400.0)
{%- endmacro %}


{#- The snapshot time open visits are measured to: var('as_of') (unix seconds) when given,
    else the newest updated_at of the account's leads (passed in as an expression). -#}
{% macro as_of_timestamp(fallback_expression) -%}
    {%- if var('as_of', none) is not none -%}
        {{ amokpi.from_unix(var('as_of')) }}
    {%- else -%}
        {{ fallback_expression }}
    {%- endif -%}
{%- endmacro %}

{#- the first day of the month after `month_start` -#}
{% macro next_month(month_start) -%}
    cast({{ dbt.dateadd('month', 1, month_start) }} as date)
{%- endmacro %}

{#- naive local timestamp in `tz` -> naive UTC timestamp -#}
{% macro local_to_utc(ts, tz) -%}
    {{ return(adapter.dispatch('local_to_utc', 'amokpi')(ts, tz)) }}
{%- endmacro %}

{% macro default__local_to_utc(ts, tz) -%}
    (({{ ts }} at time zone {{ tz }}) at time zone 'UTC')
{%- endmacro %}

{% macro duckdb__local_to_utc(ts, tz) -%}
    timezone('UTC', timezone({{ tz }}, {{ ts }}))
{%- endmacro %}

{#- ISO day of the week of a date, 1 = Monday … 7 = Sunday -#}
{% macro iso_weekday(day) -%}
    {{ return(adapter.dispatch('iso_weekday', 'amokpi')(day)) }}
{%- endmacro %}

{% macro default__iso_weekday(day) -%}
    cast(extract(isodow from {{ day }}) as bigint)
{%- endmacro %}

{#- a timestamp as unix seconds (whole), the inverse of from_unix -#}
{% macro to_unix(ts) -%}
    {{ return(adapter.dispatch('to_unix', 'amokpi')(ts)) }}
{%- endmacro %}

{% macro default__to_unix(ts) -%}
    cast(extract(epoch from {{ ts }}) as bigint)
{%- endmacro %}

{% macro duckdb__to_unix(ts) -%}
    cast(epoch({{ ts }}) as bigint)
{%- endmacro %}
