{#- The measure columns of int_kpi_facts, in one fixed order, so every branch of its union
    lines up. `values` maps a column to its expression for that branch; the rest get the
    neutral default (false, or a typed null). -#}
{% macro kpi_fact_columns(values) -%}
    {%- set null_double = 'cast(null as ' ~ (amokpi.type_double() | trim) ~ ')' -%}
    {%- set measures = {
        'is_call': 'false', 'is_outgoing_call': 'false', 'is_incoming_call': 'false',
        'is_connected_call': 'false', 'connected_call_minutes': null_double,
        'is_meeting': 'false',
        'is_new_lead': 'false', 'is_cohort_won': 'false', 'first_response_minutes': null_double,
        'is_win_rate_eligible': 'false', 'is_deal_won': 'false', 'is_deal_lost': 'false',
        'won_amount': null_double, 'time_to_close_days': null_double,
        'is_qualified': 'false', 'lead_processing_hours': null_double,
        'is_proposal_sent': 'false', 'is_presentation': 'false', 'is_presentation_advanced': 'false',
        'is_task_completed': 'false', 'is_task_overdue': 'false',
        'is_cohort_lost': 'false', 'is_cohort_qualified': 'false',
        'is_response_within_sla': 'false', 'is_response_within_day': 'false',
        'is_action': 'false', 'is_automated_action': 'false', 'action_count': 'cast(0 as bigint)',
        'is_new_customer': 'false', 'is_upsell': 'false',
        'call_quality_score': null_double, 'csat_score': null_double,
        'first_response_working_minutes': null_double,
    } -%}
    {%- for name, default in measures.items() %}
        {{ values.get(name, default) }} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
