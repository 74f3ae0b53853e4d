{#- One row per contribution to a pipeline × stage × month funnel figure, attributed to the month
    (account timezone) and manager the KPI catalog names; deleted leads contribute nothing.
      entry   a lead's first entry into a stage (re-entries do not count again): entry month, the
              manager responsible then; is_advanced: it later reached a stage further down the
              same pipeline (skips count; lost does not); is_lost_here: it is lost now and this
              was the furthest stage it reached in the pipeline
      visit   every visit, for time in stage (open visits measured to the snapshot time)
      cohort  a lead × each stage of the pipeline it was created in: creation month, the manager
              responsible at creation; is_reached per int_lead_stage_reach
      open    an open lead at a month's end: that month, the manager responsible for its stage visit -#}

{%- set null_double = 'cast(null as ' ~ (amokpi.type_double() | trim) ~ ')' -%}

with

stage_history as (
    select stage_history.*
    from {{ ref('int_lead_stage_history') }} as stage_history
    inner join {{ ref('int_lead_deletions') }} as deletions
        on stage_history.account_id = deletions.account_id
        and stage_history.lead_id = deletions.lead_id
    where not deletions.is_deleted
),

stage_reach as (
    select * from {{ ref('int_lead_stage_reach') }} where not is_deleted
),

month_end_leads as (
    select * from {{ ref('int_pipeline_month_end_leads') }}
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
        max(case when later.lead_id is not null then 1 else 0 end) = 1 as is_advanced
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

entry_facts as (
    select
        first_entries.account_id,
        first_entries.pipeline_id,
        first_entries.status_id,
        first_entries.entered_month_start as month_start,
        first_entries.entered_day as occurred_day,
        first_entries.manager_id,
        first_entries.lead_id,
        'entry' as fact_type,
        true as is_entered,
        later_progress.is_advanced,
        current_lost.lead_id is not null and furthest_stages.furthest_sort = first_entries.status_sort
            as is_lost_here,
        {{ null_double }} as hours_in_stage,
        false as is_cohort_member,
        false as is_reached,
        false as is_open_at_month_end,
        {{ null_double }} as open_amount
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
),

visit_facts as (
    select
        account_id, pipeline_id, status_id, entered_month_start as month_start, entered_day as occurred_day,
        manager_id, lead_id,
        'visit' as fact_type, false as is_entered, false as is_advanced, false as is_lost_here,
        hours_in_stage,
        false as is_cohort_member, false as is_reached, false as is_open_at_month_end,
        {{ null_double }} as open_amount
    from stage_history
    where hours_in_stage is not null
),

cohort_facts as (
    select
        account_id, pipeline_id, status_id, created_month_start as month_start, cast(null as date) as occurred_day,
        manager_at_creation_id as manager_id, lead_id,
        'cohort' as fact_type, false as is_entered, false as is_advanced, false as is_lost_here,
        {{ null_double }} as hours_in_stage,
        true as is_cohort_member, is_reached, false as is_open_at_month_end,
        {{ null_double }} as open_amount
    from stage_reach
),

open_facts as (
    select
        account_id, pipeline_id, status_id, month_start, cast(null as date) as occurred_day, manager_id, lead_id,
        'open' as fact_type, false as is_entered, false as is_advanced, false as is_lost_here,
        {{ null_double }} as hours_in_stage,
        false as is_cohort_member, false as is_reached, true as is_open_at_month_end,
        price_amount as open_amount
    from month_end_leads
),

final as (
    select * from entry_facts
    union all
    select * from visit_facts
    union all
    select * from cohort_facts
    union all
    select * from open_facts
)

select * from final
