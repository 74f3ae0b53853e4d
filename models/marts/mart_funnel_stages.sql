{#- One row per pipeline × stage × month (account timezone) of entry, for every working stage
    and won. A lead counts once per stage (its first entry); it advanced when it later reached a
    stage further down the same pipeline (skips count); it was lost here when it is lost and this
    was the furthest stage it reached. Time in stage covers every visit, open ones measured to
    the snapshot time. Deleted leads are left out. -#}
with

stage_history as (
    -- deleted leads (junk, duplicates) are not part of the funnel
    select stage_history.*
    from {{ ref('int_lead_stage_history') }} as stage_history
    inner join {{ ref('int_lead_deletions') }} as deletions
        on stage_history.account_id = deletions.account_id
        and stage_history.lead_id = deletions.lead_id
    where not deletions.is_deleted
),

stages as (
    select * from {{ ref('int_pipeline_stages') }}
),

funnel_stages as (
    select * from stages where not is_lost_status
),

first_entries as (
    select * from stage_history where is_first_entry and status_id <> 143
),

later_progress as (
    select
        first_entries.account_id,
        first_entries.lead_id,
        first_entries.pipeline_id,
        first_entries.status_id,
        max(case when later.lead_id is not null then 1 else 0 end) as has_advanced
    from first_entries
    left join stage_history as later
        on first_entries.account_id = later.account_id
        and first_entries.lead_id = later.lead_id
        and first_entries.pipeline_id = later.pipeline_id
        and later.visit_number > first_entries.visit_number
        and later.status_sort > first_entries.status_sort
        and later.status_id <> 143
    group by 1, 2, 3, 4
),

furthest_stages as (
    select account_id, lead_id, pipeline_id, max(status_sort) as furthest_sort
    from stage_history
    where status_id <> 143
    group by 1, 2, 3
),

current_lost as (
    select account_id, lead_id, pipeline_id
    from stage_history
    where is_current_visit and status_id = 143
),

entered as (
    select
        first_entries.account_id,
        first_entries.pipeline_id,
        first_entries.status_id,
        first_entries.entered_month_start as month_start,
        count(*) as leads_entered_count,
        sum(later_progress.has_advanced) as leads_advanced_count,
        sum(case when current_lost.lead_id is not null
                  and furthest_stages.furthest_sort = first_entries.status_sort then 1 else 0 end)
            as leads_lost_count
    from first_entries
    inner join later_progress
        on first_entries.account_id = later_progress.account_id
        and first_entries.lead_id = later_progress.lead_id
        and first_entries.pipeline_id = later_progress.pipeline_id
        and first_entries.status_id = later_progress.status_id
    left join furthest_stages
        on first_entries.account_id = furthest_stages.account_id
        and first_entries.lead_id = furthest_stages.lead_id
        and first_entries.pipeline_id = furthest_stages.pipeline_id
    left join current_lost
        on first_entries.account_id = current_lost.account_id
        and first_entries.lead_id = current_lost.lead_id
        and first_entries.pipeline_id = current_lost.pipeline_id
    group by 1, 2, 3, 4
),

time_in_stage as (
    select
        account_id,
        pipeline_id,
        status_id,
        entered_month_start as month_start,
        {{ amokpi.percentile('hours_in_stage', 0.5) }} as median_hours_in_stage,
        {{ amokpi.percentile('hours_in_stage', 0.9) }} as p90_hours_in_stage
    from stage_history
    where hours_in_stage is not null
    group by 1, 2, 3, 4
),

account_months as (
    select distinct account_id, entered_month_start as month_start
    from stage_history
),

spine as (
    select funnel_stages.*, account_months.month_start
    from funnel_stages
    inner join account_months
        on funnel_stages.account_id = account_months.account_id
),

final as (
    select
        spine.account_id,
        spine.pipeline_id,
        spine.pipeline_name,
        spine.status_id,
        spine.status_name,
        spine.stage_role,
        spine.status_sort as stage_sort,
        spine.month_start,
        cast(coalesce(entered.leads_entered_count, 0) as bigint) as leads_entered_count,
        cast(coalesce(entered.leads_advanced_count, 0) as bigint) as leads_advanced_count,
        cast(coalesce(entered.leads_lost_count, 0) as bigint) as leads_lost_count,
        case when not spine.is_won_status
            then {{ amokpi.safe_divide('entered.leads_advanced_count', 'entered.leads_entered_count') }}
        end as stage_conversion_rate,
        cast(time_in_stage.median_hours_in_stage as {{ amokpi.type_double() }}) as median_hours_in_stage,
        cast(time_in_stage.p90_hours_in_stage as {{ amokpi.type_double() }}) as p90_hours_in_stage
    from spine
    left join entered
        on spine.account_id = entered.account_id
        and spine.pipeline_id = entered.pipeline_id
        and spine.status_id = entered.status_id
        and spine.month_start = entered.month_start
    left join time_in_stage
        on spine.account_id = time_in_stage.account_id
        and spine.pipeline_id = time_in_stage.pipeline_id
        and spine.status_id = time_in_stage.status_id
        and spine.month_start = time_in_stage.month_start
)

select * from final
