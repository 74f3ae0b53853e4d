{#- Grain: one row per lead fact of int_kpi_facts (a lead created, qualified or closed) that carries a
    value a manager KPI takes the median, percentile or mean of, credited to the month and manager the
    KPI credits, with the team the manager had that month. Each value column keeps the rows
    amokpi.kpi_aggregates() aggregates (NULL elsewhere), so the semantic layer's percentile and average
    measures over this table equal the marts' figures at any grain: a median cannot be re-aggregated
    from the monthly medians of mart_manager_kpi_monthly. -#}
with

kpi_facts as (
    select * from {{ ref('int_kpi_facts') }}
),

manager_groups as (
    select * from {{ ref('int_manager_groups_monthly') }}
),

lead_values as (
    select
        account_id,
        month_start,
        manager_id,
        lead_id,
        fact_type,
        first_response_minutes,
        first_response_working_minutes,
        case when is_qualified then lead_processing_hours end as lead_processing_hours,
        case when is_deal_won then time_to_close_days end as time_to_close_days,
        case when is_win_rate_eligible then call_quality_score end as call_quality_score,
        case when is_win_rate_eligible then csat_score end as csat_score
    from kpi_facts
),

final as (
    select
        lead_values.account_id,
        lead_values.month_start,
        lead_values.manager_id,
        manager_groups.group_id,
        lead_values.lead_id,
        cast(lead_values.fact_type as {{ dbt.type_string() }}) as fact_type,
        cast(lead_values.first_response_minutes as {{ amokpi.type_double() }}) as first_response_minutes,
        cast(lead_values.first_response_working_minutes as {{ amokpi.type_double() }})
            as first_response_working_minutes,
        cast(lead_values.lead_processing_hours as {{ amokpi.type_double() }}) as lead_processing_hours,
        cast(lead_values.time_to_close_days as {{ amokpi.type_double() }}) as time_to_close_days,
        cast(lead_values.call_quality_score as {{ amokpi.type_double() }}) as call_quality_score,
        cast(lead_values.csat_score as {{ amokpi.type_double() }}) as csat_score
    from lead_values
    left join manager_groups
        on lead_values.account_id = manager_groups.account_id
        and lead_values.manager_id = manager_groups.manager_id
        and lead_values.month_start = manager_groups.month_start
    where
        lead_values.first_response_minutes is not null
        or lead_values.first_response_working_minutes is not null
        or lead_values.lead_processing_hours is not null
        or lead_values.time_to_close_days is not null
        or lead_values.call_quality_score is not null
        or lead_values.csat_score is not null
)

select * from final
