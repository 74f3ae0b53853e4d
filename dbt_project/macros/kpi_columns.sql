{#- The KPI columns both manager-KPI marts expose, in contract order, selected from `relation`
    (an alias of int_kpi_monthly). One list, so the two marts cannot drift apart. -#}
{% macro kpi_monthly_columns(relation) -%}
    {%- set columns = [
        'calls_count', 'calls_outgoing_count', 'calls_incoming_count', 'calls_connected_count',
        'avg_call_minutes', 'meetings_count', 'new_leads_count', 'leads_won_from_cohort_count',
        'deals_won_count', 'deals_lost_count', 'revenue_amount', 'avg_deal_amount',
        'call_to_meeting_rate', 'call_to_deal_rate', 'lead_conversion_rate', 'win_rate',
        'first_response_minutes_median', 'leads_responded_count', 'leads_qualified_count',
        'lead_processing_hours', 'time_to_close_days',
        'first_response_minutes_p90', 'proposals_sent_count', 'presentations_count',
        'presentations_advanced_count', 'presentation_success_rate', 'tasks_completed_count',
        'tasks_overdue_count', 'leads_lost_from_cohort_count', 'refusal_rate',
        'leads_qualified_from_cohort_count', 'sql_rate', 'leads_answered_within_sla_count',
        'response_within_sla_rate', 'leads_answered_within_day_count', 'response_within_day_rate',
        'actions_count', 'automated_actions_count', 'automation_rate', 'new_customers_count',
        'upsell_deals_count', 'upsell_rate', 'plan_revenue_amount', 'plan_deals_count',
        'plan_fulfillment_rate', 'customers_to_date_count', 'repeat_customers_to_date_count',
        'repeat_purchase_rate', 'customer_ltv_amount', 'call_quality_score_avg', 'csat_score_avg',
        'first_response_working_minutes_median',
    ] -%}
    {%- for column in columns %}
        {{ relation }}.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
