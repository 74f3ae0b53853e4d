{#- One row per pipeline × stage (working stages and won) × month (account timezone); every stage
    appears in every month of the account's history. Formulas live in int_funnel_stage_monthly
    and the attribution of each figure in int_funnel_facts. -#}
with

stage_monthly as (
    select * from {{ ref('int_funnel_stage_monthly') }} where not is_manager_level
),

stages as (
    select * from {{ ref('int_pipeline_stages') }} where not is_lost_status
),

account_months as (
    select distinct account_id, month_start from stage_monthly
),

spine as (
    select stages.*, account_months.month_start
    from stages
    inner join account_months
        on stages.account_id = account_months.account_id
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
        {{ amokpi.funnel_stage_columns('stage_monthly') }}
    from spine
    left join stage_monthly
        on spine.account_id = stage_monthly.account_id
        and spine.pipeline_id = stage_monthly.pipeline_id
        and spine.status_id = stage_monthly.status_id
        and spine.month_start = stage_monthly.month_start
)

select * from final
