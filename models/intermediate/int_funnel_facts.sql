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

-- what the entry facts need of the lead's other visits in the same pipeline, as window aggregates over one
-- scan (no self-join: PostgreSQL planned those as nested loops over a CTE whose size it cannot estimate)
pipeline_visits as (
    select
        stage_history.*,
        -- the furthest non-lost stage of any later visit: advanced past this stage when it is further down
        max(case when status_id <> 143 then status_sort end) over (
            partition by account_id, lead_id, pipeline_id order by visit_number
            rows between 1 following and unbounded following
        ) as later_furthest_sort,
        max(case when status_id <> 143 then status_sort end) over lead_pipeline as furthest_sort,
        max(case when is_current_visit and status_id = 143 then 1 else 0 end) over lead_pipeline = 1
            as is_lost_now
    from stage_history
    window lead_pipeline as (partition by account_id, lead_id, pipeline_id)
),

entry_facts as (
    select
        account_id,
        pipeline_id,
        status_id,
        entered_month_start as month_start,
        entered_day as occurred_day,
        manager_id,
        lead_id,
        'entry' as fact_type,
        true as is_entered,
        coalesce(later_furthest_sort > status_sort, false) as is_advanced,
        is_lost_now and furthest_sort = status_sort as is_lost_here,
        {{ null_double }} as hours_in_stage,
        false as is_cohort_member,
        false as is_reached,
        false as is_open_at_month_end,
        {{ null_double }} as open_amount
    from pipeline_visits
    where is_first_entry and status_id <> 143
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
