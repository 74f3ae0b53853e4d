{#- The alert rules (models/intermediate/alerts/int_alerts__*) each end with this projection, so
    mart_alerts is a plain union: every rule has the same columns in the same order and types.

    `subject` is 'lead' (the lead's columns are taken, the manager-KPI columns are NULL) or 'manager'
    (month_start, months_in_window, comparison_value and deviation_rate are taken, the lead's columns
    are NULL); `extra` names the rule-specific columns it has (others are NULL). The relation selected
    from carries the taken columns under these names; alert_type, alert_id and is_lead_alert (the subject
    is a lead: the one definition of a lead alert the report and the digests filter on) are written here. -#}
{% macro alert_columns(alert_type, subject, extra=[]) -%}
    {%- set double = amokpi.type_double() | trim -%}
    {%- set columns = [
        ('account_id', 'bigint', 'any'),
        ('alert_id', 'varchar', 'alert_id'),
        ('alert_type', 'varchar', 'alert_type'),
        ('is_lead_alert', 'boolean', 'is_lead_alert'),
        ('severity', 'varchar', 'any'),
        ('manager_id', 'bigint', 'any'),
        ('manager_name', 'varchar', 'any'),
        ('lead_id', 'bigint', 'lead'),
        ('lead_name', 'varchar', 'lead'),
        ('pipeline_id', 'bigint', 'lead'),
        ('pipeline_name', 'varchar', 'lead'),
        ('status_id', 'bigint', 'lead'),
        ('status_name', 'varchar', 'lead'),
        ('month_start', 'date', 'manager'),
        ('months_in_window', 'bigint', 'manager'),
        ('metric_name', 'varchar', 'any'),
        ('metric_value', double, 'any'),
        ('threshold_value', double, 'any'),
        ('comparison_value', double, 'manager'),
        ('deviation_rate', double, 'manager'),
        ('calls_per_month', double, 'extra'),
        ('team_calls_per_month', double, 'extra'),
        ('detected_at', 'timestamp', 'any'),
    ] -%}
    {%- if subject == 'lead' -%}
        {%- set alert_id = "'" ~ alert_type ~ ":lead:' || cast(lead_id as varchar)" -%}
    {%- elif subject == 'manager' -%}
        {%- set alert_id = "'" ~ alert_type ~ ":manager:' || cast(manager_id as varchar) || ':' || metric_name"
            ~ " || ':' || cast(month_start as varchar)" -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("alert_columns: subject must be 'lead' or 'manager', not " ~ subject) }}
    {%- endif -%}
    {%- for name, data_type, taken_by in columns %}
        {%- if taken_by == 'alert_id' %}
        cast({{ alert_id }} as varchar) as alert_id,
        {%- elif taken_by == 'alert_type' %}
        cast('{{ alert_type }}' as varchar) as alert_type,
        {%- elif taken_by == 'is_lead_alert' %}
        {{ 'true' if subject == 'lead' else 'false' }} as is_lead_alert,
        {%- elif taken_by in ('any', subject) or name in extra %}
        cast({{ name }} as {{ data_type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- else %}
        cast(null as {{ data_type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- One row per manager × month × watched KPI (amokpi.alert_kpis()) of `relation` (the
    mart_manager_kpi_monthly CTE): the KPI's value and the base the minimum applies to. -#}
{% macro alert_kpi_values(relation) -%}
    {%- for kpi in amokpi.alert_kpis() %}
        select
            account_id,
            manager_id,
            manager_name,
            month_start,
            '{{ kpi.name }}' as metric_name,
            {{ 'true' if kpi.is_additive else 'false' }} as is_additive,
            cast({{ kpi.name }} as {{ amokpi.type_double() }}) as metric_value,
            {{ kpi.alert_base }} as base_count
        from {{ relation }}
        {%- if not loop.last %}
        union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
