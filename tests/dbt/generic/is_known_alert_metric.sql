{#- An alert's metric is one of the lead rules' named measures or a KPI of the registry (whose
    definition, label and unit the report words the alert with); never a free-form name. -#}
{% test is_known_alert_metric(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} not in (
    'waiting_minutes', 'first_response_minutes', 'idle_days'
    {%- for kpi in amokpi.kpi_registry() %}, '{{ kpi.name }}'{% endfor %}
)
{% endtest %}
