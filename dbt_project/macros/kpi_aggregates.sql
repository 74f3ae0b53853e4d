{#- The aggregates int_kpi_monthly computes from int_kpi_facts rows (with group_id), whatever the
    rows are grouped by: a month (int_kpi_monthly) or a quarter / the year to date
    (mart_manager_kpi_periods). managers_count, then every KPI input in the registry's order: counts
    sum their flags (a count of leads: its registry lead_condition), minutes and scores average or
    take percentiles of the underlying facts. Ratios are formed afterwards (amokpi.kpi_monthly_values). -#}
{% macro kpi_aggregates() -%}
    count(distinct case when fact_type = 'spine' then manager_id end) as managers_count,
    sum(case when is_call then 1 else 0 end) as calls_count,
    sum(case when is_outgoing_call then 1 else 0 end) as calls_outgoing_count,
    sum(case when is_incoming_call then 1 else 0 end) as calls_incoming_count,
    sum(case when is_connected_call then 1 else 0 end) as calls_connected_count,
    sum(coalesce(connected_call_minutes, 0)) as connected_call_minutes,
    sum(case when is_meeting then 1 else 0 end) as meetings_count,
    {{ amokpi.kpi_lead_count('new_leads_count') }} as new_leads_count,
    {{ amokpi.kpi_lead_count('leads_won_from_cohort_count') }} as leads_won_from_cohort_count,
    {{ amokpi.kpi_lead_count('deals_won_count') }} as deals_won_count,
    {{ amokpi.kpi_lead_count('deals_lost_count') }} as deals_lost_count,
    sum(case when is_deal_won then coalesce(won_amount, 0) else 0 end) as revenue_amount,
    {{ amokpi.percentile('first_response_minutes', 0.5) }} as first_response_minutes_median,
    {{ amokpi.kpi_lead_count('leads_responded_count') }} as leads_responded_count,
    {{ amokpi.kpi_lead_count('leads_qualified_count') }} as leads_qualified_count,
    avg(case when is_qualified then lead_processing_hours end) as lead_processing_hours,
    avg(case when is_deal_won then time_to_close_days end) as time_to_close_days,
    {{ amokpi.percentile('first_response_minutes', 0.9) }} as first_response_minutes_p90,
    {{ amokpi.kpi_lead_count('proposals_sent_count') }} as proposals_sent_count,
    {{ amokpi.kpi_lead_count('presentations_count') }} as presentations_count,
    {{ amokpi.kpi_lead_count('presentations_advanced_count') }} as presentations_advanced_count,
    sum(case when is_task_completed then 1 else 0 end) as tasks_completed_count,
    sum(case when is_task_overdue then 1 else 0 end) as tasks_overdue_count,
    {{ amokpi.kpi_lead_count('leads_lost_from_cohort_count') }} as leads_lost_from_cohort_count,
    {{ amokpi.kpi_lead_count('leads_qualified_from_cohort_count') }} as leads_qualified_from_cohort_count,
    {{ amokpi.kpi_lead_count('leads_answered_within_sla_count') }} as leads_answered_within_sla_count,
    {{ amokpi.kpi_lead_count('leads_answered_within_day_count') }} as leads_answered_within_day_count,
    sum(case when is_action then 1 else 0 end) as actions_count,
    sum(case when is_action and is_automated_action then 1 else 0 end) as automated_actions_count,
    {{ amokpi.kpi_lead_count('new_customers_count') }} as new_customers_count,
    {{ amokpi.kpi_lead_count('upsell_deals_count') }} as upsell_deals_count,
    avg(case when is_win_rate_eligible then call_quality_score end) as call_quality_score_avg,
    avg(case when is_win_rate_eligible then csat_score end) as csat_score_avg,
    {{ amokpi.percentile('first_response_working_minutes', 0.5) }} as first_response_working_minutes_median
{%- endmacro %}
