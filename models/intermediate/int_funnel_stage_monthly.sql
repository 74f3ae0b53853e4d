{#- One row per account × pipeline × stage × month, plus one per manager (is_manager_level).
    The single home of the funnel formulas: counts sum int_funnel_facts' flags (the lead counts'
    conditions in amokpi.funnel_lead_counts, which fct_funnel_stage_leads lists too), manager rows and
    pipeline rows aggregate the same facts, and a rate with a zero denominator is NULL. -#}
with

funnel_facts as (
    select * from {{ ref('int_funnel_facts') }}
),

stages as (
    select * from {{ ref('int_pipeline_stages') }}
),

aggregated as (
    select
        account_id,
        pipeline_id,
        status_id,
        month_start,
        manager_id,
        grouping(manager_id) = 0 as is_manager_level,
        {{ amokpi.funnel_lead_count('leads_entered_count') }} as leads_entered_count,
        {{ amokpi.funnel_lead_count('leads_advanced_count') }} as leads_advanced_count,
        {{ amokpi.funnel_lead_count('leads_lost_count') }} as leads_lost_count,
        {{ amokpi.percentile('hours_in_stage', 0.5) }} as median_hours_in_stage,
        {{ amokpi.percentile('hours_in_stage', 0.9) }} as p90_hours_in_stage,
        {{ amokpi.funnel_lead_count('cohort_leads_count') }} as cohort_leads_count,
        {{ amokpi.funnel_lead_count('leads_reached_count') }} as leads_reached_count,
        {{ amokpi.funnel_lead_count('open_leads_count') }} as open_leads_count,
        sum(case when is_open_at_month_end then coalesce(open_amount, 0) else 0 end) as pipeline_open_amount
    from funnel_facts
    group by grouping sets (
        (account_id, pipeline_id, status_id, month_start),
        (account_id, pipeline_id, status_id, month_start, manager_id)
    )
),

final as (
    select
        aggregated.account_id,
        aggregated.pipeline_id,
        aggregated.status_id,
        aggregated.month_start,
        aggregated.manager_id,
        aggregated.is_manager_level,
        cast(aggregated.leads_entered_count as bigint) as leads_entered_count,
        cast(aggregated.leads_advanced_count as bigint) as leads_advanced_count,
        cast(aggregated.leads_lost_count as bigint) as leads_lost_count,
        case when not coalesce(stages.is_won_status, false)
                then {{ amokpi.safe_divide('aggregated.leads_advanced_count', 'aggregated.leads_entered_count') }}
        end as stage_conversion_rate,
        cast(aggregated.cohort_leads_count as bigint) as cohort_leads_count,
        cast(aggregated.leads_reached_count as bigint) as leads_reached_count,
        {{ amokpi.safe_divide('aggregated.leads_reached_count', 'aggregated.cohort_leads_count') }}
            as cumulative_conversion_rate,
        cast(aggregated.median_hours_in_stage as {{ amokpi.type_double() }}) as median_hours_in_stage,
        cast(aggregated.p90_hours_in_stage as {{ amokpi.type_double() }}) as p90_hours_in_stage,
        cast(aggregated.open_leads_count as bigint) as open_leads_count,
        cast(aggregated.pipeline_open_amount as {{ amokpi.type_double() }}) as pipeline_open_amount
    from aggregated
    left join stages
        on aggregated.account_id = stages.account_id
        and aggregated.pipeline_id = stages.pipeline_id
        and aggregated.status_id = stages.status_id
)

select * from final
