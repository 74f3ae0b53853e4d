{#- One row per pipeline × month (account timezone): leads created, deals won and lost, revenue,
    the average sales cycle of the month's wins, and the open pipeline at the month's end (the
    running month: at the snapshot time). Leads are counted in the pipeline they are in now;
    deleted leads are left out. -#}
with

lead_milestones as (
    select * from {{ ref('int_lead_milestones') }} where not is_deleted
),

month_end_leads as (
    select * from {{ ref('int_pipeline_month_end_leads') }}
),

pipelines as (
    select * from {{ ref('stg_amocrm__pipelines') }}
),

account_months as (
    select distinct account_id, month_start from month_end_leads
    union
    select distinct account_id, created_month_start from lead_milestones
),

created as (
    select account_id, pipeline_id, created_month_start as month_start, count(*) as leads_created_count
    from lead_milestones
    group by 1, 2, 3
),

won as (
    select
        account_id,
        pipeline_id,
        won_month_start as month_start,
        count(*) as deals_won_count,
        sum(price_amount) as revenue_amount,
        avg(sales_cycle_days) as avg_sales_cycle_days
    from lead_milestones
    where is_won
    group by 1, 2, 3
),

lost as (
    select account_id, pipeline_id, lost_month_start as month_start, count(*) as deals_lost_count
    from lead_milestones
    where is_lost
    group by 1, 2, 3
),

open_at_end as (
    select
        account_id,
        pipeline_id,
        month_start,
        count(*) as open_leads_count,
        sum(price_amount) as pipeline_open_amount,
        sum(case when is_price_from_snapshot then 1 else 0 end) as open_leads_priced_by_snapshot_count
    from month_end_leads
    group by 1, 2, 3
),

spine as (
    select pipelines.account_id, pipelines.pipeline_id, pipelines.pipeline_name, account_months.month_start
    from pipelines
    inner join account_months
        on pipelines.account_id = account_months.account_id
),

final as (
    select
        spine.account_id,
        spine.pipeline_id,
        spine.pipeline_name,
        spine.month_start,
        cast(coalesce(created.leads_created_count, 0) as bigint) as leads_created_count,
        cast(coalesce(won.deals_won_count, 0) as bigint) as deals_won_count,
        cast(coalesce(lost.deals_lost_count, 0) as bigint) as deals_lost_count,
        cast(coalesce(won.revenue_amount, 0) as {{ amokpi.type_double() }}) as revenue_amount,
        cast(won.avg_sales_cycle_days as {{ amokpi.type_double() }}) as avg_sales_cycle_days,
        cast(coalesce(open_at_end.open_leads_count, 0) as bigint) as open_leads_count,
        cast(coalesce(open_at_end.pipeline_open_amount, 0) as {{ amokpi.type_double() }}) as pipeline_open_amount,
        cast(coalesce(open_at_end.open_leads_priced_by_snapshot_count, 0) as bigint)
            as open_leads_priced_by_snapshot_count
    from spine
    left join created
        on spine.account_id = created.account_id
        and spine.pipeline_id = created.pipeline_id
        and spine.month_start = created.month_start
    left join won
        on spine.account_id = won.account_id
        and spine.pipeline_id = won.pipeline_id
        and spine.month_start = won.month_start
    left join lost
        on spine.account_id = lost.account_id
        and spine.pipeline_id = lost.pipeline_id
        and spine.month_start = lost.month_start
    left join open_at_end
        on spine.account_id = open_at_end.account_id
        and spine.pipeline_id = open_at_end.pipeline_id
        and spine.month_start = open_at_end.month_start
)

select * from final
