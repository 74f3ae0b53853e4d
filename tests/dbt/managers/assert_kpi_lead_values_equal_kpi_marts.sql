-- fct_kpi_lead_values keeps the rows the non-additive KPIs aggregate: for every manager × month of
-- mart_manager_kpi_monthly, the medians, p90 and means recomputed from its lead values equal the mart's
-- (the semantic layer's percentile and average measures read this table). Returns the mismatches.
with

lead_values as (
    select * from {{ ref('fct_kpi_lead_values') }}
),

kpis as (
    select * from {{ ref('mart_manager_kpi_monthly') }}
),

recomputed as (
    select
        account_id,
        month_start,
        manager_id,
        {{ amokpi.percentile('first_response_minutes', 0.5) }} as first_response_minutes_median,
        {{ amokpi.percentile('first_response_minutes', 0.9) }} as first_response_minutes_p90,
        {{ amokpi.percentile('first_response_working_minutes', 0.5) }} as first_response_working_minutes_median,
        avg(lead_processing_hours) as lead_processing_hours,
        avg(time_to_close_days) as time_to_close_days,
        avg(call_quality_score) as call_quality_score_avg,
        avg(csat_score) as csat_score_avg
    from lead_values
    group by 1, 2, 3
),

compared as (
    {%- set names = ['first_response_minutes_median', 'first_response_minutes_p90',
                     'first_response_working_minutes_median', 'lead_processing_hours', 'time_to_close_days',
                     'call_quality_score_avg', 'csat_score_avg'] %}
    {%- for name in names %}
    select
        kpis.account_id, kpis.month_start, kpis.manager_id, '{{ name }}' as kpi_name,
        kpis.{{ name }} as mart_value, recomputed.{{ name }} as recomputed_value
    from kpis
    left join recomputed
        on kpis.account_id = recomputed.account_id
        and kpis.month_start = recomputed.month_start
        and kpis.manager_id = recomputed.manager_id
    {{- ' union all' if not loop.last }}
    {%- endfor %}
)

select *
from compared
where (mart_value is null) <> (recomputed_value is null)
    or abs(mart_value - recomputed_value) > 1e-9 * (1 + abs(mart_value))
