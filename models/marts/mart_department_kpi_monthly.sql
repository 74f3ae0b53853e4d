{#- One row per account and month: the whole sales department. Counts aggregate the same rows as
    the manager mart (never an average of manager rates); formulas live in int_kpi_monthly. -#}
with

kpi_monthly as (
    select * from {{ ref('int_kpi_monthly') }}
),

accounts as (
    select * from {{ ref('stg_amocrm__accounts') }}
),

final as (
    select
        kpi_monthly.account_id,
        accounts.currency,
        kpi_monthly.month_start,
        kpi_monthly.managers_count,
        calls_count,
        calls_outgoing_count,
        calls_incoming_count,
        calls_connected_count,
        avg_call_minutes,
        meetings_count,
        new_leads_count,
        leads_won_from_cohort_count,
        deals_won_count,
        deals_lost_count,
        revenue_amount,
        avg_deal_amount,
        call_to_meeting_rate,
        call_to_deal_rate,
        lead_conversion_rate,
        win_rate,
        first_response_minutes_median,
        leads_responded_count,
        leads_qualified_count,
        lead_processing_hours,
        time_to_close_days
    from kpi_monthly
    inner join accounts
        on kpi_monthly.account_id = accounts.account_id
    where kpi_monthly.is_department_total
)

select * from final
