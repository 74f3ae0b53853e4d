{#- The aggregates of every manager-KPI input over int_kpi_facts rows, one list (amokpi.kpi_terms) read
    three ways:
      kpi_aggregates()            straight from fact rows, whatever they are grouped by (int_kpi_monthly
                                  by month);
      kpi_component_aggregates()  the additive terms (sums) per manager and month, stored in
                                  fct_kpi_components_monthly; kpi_component_rollup() sums them over any
                                  months (the period marts: a range reads months of sums, not every fact);
      kpi_holistic_aggregates()   the terms that cannot be summed from months (medians, percentiles,
                                  means) over the fact rows that carry their values (kpi_holistic_rows).
    managers_count, then every KPI input in the registry's order: counts sum their flags (a count of
    leads: its registry lead_condition), minutes and scores average or take percentiles of the
    underlying facts. Ratios are formed afterwards (amokpi.kpi_monthly_values). -#}
{% macro kpi_terms() -%}
    {#- (kind, name, argument[, fraction]): flag — a count of the rows the condition names; count — a sum of
        an integer expression (action rows stand for action_count actions each); lead — a count of
        leads, its registry lead_condition; amount — a sum of the expression; avg and percentile — of the
        expression over the rows that carry it -#}
    {%- set spec = [
        ('flag', 'calls_count', 'is_call'),
        ('flag', 'calls_outgoing_count', 'is_outgoing_call'),
        ('flag', 'calls_incoming_count', 'is_incoming_call'),
        ('flag', 'calls_connected_count', 'is_connected_call'),
        ('amount', 'connected_call_minutes', 'coalesce(connected_call_minutes, 0)'),
        ('flag', 'meetings_count', 'is_meeting'),
        ('lead', 'new_leads_count'),
        ('lead', 'leads_won_from_cohort_count'),
        ('lead', 'deals_won_count'),
        ('lead', 'deals_lost_count'),
        ('amount', 'revenue_amount', 'case when is_deal_won then coalesce(won_amount, 0) else 0 end'),
        ('percentile', 'first_response_minutes_median', 'first_response_minutes', 0.5),
        ('lead', 'leads_responded_count'),
        ('lead', 'leads_qualified_count'),
        ('avg', 'lead_processing_hours', 'case when is_qualified then lead_processing_hours end'),
        ('avg', 'time_to_close_days', 'case when is_deal_won then time_to_close_days end'),
        ('percentile', 'first_response_minutes_p90', 'first_response_minutes', 0.9),
        ('lead', 'proposals_sent_count'),
        ('lead', 'presentations_count'),
        ('lead', 'presentations_advanced_count'),
        ('flag', 'tasks_completed_count', 'is_task_completed'),
        ('flag', 'tasks_overdue_count', 'is_task_overdue'),
        ('lead', 'leads_lost_from_cohort_count'),
        ('lead', 'leads_qualified_from_cohort_count'),
        ('lead', 'leads_answered_within_sla_count'),
        ('lead', 'leads_answered_within_day_count'),
        ('count', 'actions_count', 'action_count'),
        ('count', 'automated_actions_count', 'case when is_automated_action then action_count else 0 end'),
        ('lead', 'new_customers_count'),
        ('lead', 'upsell_deals_count'),
        ('avg', 'call_quality_score_avg', 'case when is_win_rate_eligible then call_quality_score end'),
        ('avg', 'csat_score_avg', 'case when is_win_rate_eligible then csat_score end'),
        ('percentile', 'first_response_working_minutes_median', 'first_response_working_minutes', 0.5),
    ] -%}
    {%- set terms = [] -%}
    {%- for item in spec -%}
        {%- set kind, name = item[0], item[1] -%}
        {%- if kind == 'flag' -%}
            {%- do terms.append({'name': name, 'kind': 'sum', 'data_type': 'bigint',
                                 'expression': 'case when ' ~ item[2] ~ ' then 1 else 0 end'}) -%}
        {%- elif kind == 'lead' -%}
            {%- do terms.append({'name': name, 'kind': 'sum', 'data_type': 'bigint',
                                 'expression': amokpi.kpi_lead_flag(name) | trim}) -%}
        {%- elif kind in ('count', 'amount') -%}
            {%- do terms.append({'name': name, 'kind': 'sum', 'data_type': 'bigint' if kind == 'count' else 'double',
                                 'expression': item[2]}) -%}
        {%- else -%}
            {%- do terms.append({'name': name, 'kind': kind, 'data_type': 'double', 'expression': item[2],
                                 'fraction': item[3] if item | length > 3 else none}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(terms) -}}
{%- endmacro %}

{% macro _kpi_term_aggregate(term) -%}
    {%- if term.kind == 'sum' -%} sum({{ term.expression }})
    {%- elif term.kind == 'avg' -%} avg({{ term.expression }})
    {%- else -%} {{ amokpi.percentile(term.expression, term.fraction) }}
    {%- endif -%}
{%- endmacro %}

{% macro kpi_aggregates() -%}
    count(distinct case when fact_type = 'spine' then manager_id end) as managers_count,
    {%- for term in amokpi.kpi_terms() %}
    {{ amokpi._kpi_term_aggregate(term) }} as {{ term.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- per manager and month (fct_kpi_components_monthly): whether the manager has a spine row, and every sum -#}
{% macro kpi_component_aggregates() -%}
    cast(sum(case when fact_type = 'spine' then 1 else 0 end) as bigint) as spine_rows_count,
    {%- for term in amokpi.kpi_terms() if term.kind == 'sum' %}
    cast(sum({{ term.expression }}) as {{ 'bigint' if term.data_type == 'bigint' else amokpi.type_double() }})
        as {{ term.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- over fct_kpi_components_monthly rows of any months: managers_count and the sums -#}
{% macro kpi_component_rollup() -%}
    count(distinct case when spine_rows_count > 0 then manager_id end) as managers_count,
    {%- for term in amokpi.kpi_terms() if term.kind == 'sum' %}
    sum({{ term.name }}) as {{ term.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro kpi_holistic_aggregates() -%}
    {%- for term in amokpi.kpi_terms() if term.kind != 'sum' %}
    {{ amokpi._kpi_term_aggregate(term) }} as {{ term.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- the fact rows a holistic term reads: any of their values present -#}
{% macro kpi_holistic_rows() -%}
    ({%- for term in amokpi.kpi_terms() if term.kind != 'sum' -%}
        ({{ term.expression }}) is not null{{ ' or ' if not loop.last }}
    {%- endfor -%})
{%- endmacro %}

{% macro kpi_holistic_names() -%}
    {{ return(amokpi.kpi_terms() | rejectattr('kind', 'equalto', 'sum') | map(attribute='name') | list) }}
{%- endmacro %}
