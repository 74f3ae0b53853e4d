-- Fan-out guard: mart_funnel_stages has exactly one row per non-lost stage and account month,
-- and its open amount at a month's end equals the pipeline mart's.
with expected as (
    select stages.account_id, count(*) * max(months.n_months) as n_rows
    from {{ ref('int_pipeline_stages') }} as stages
    inner join (
        select account_id, count(distinct month_start) as n_months
        from {{ ref('mart_funnel_stages') }}
        group by 1
    ) as months
        on stages.account_id = months.account_id
    where not stages.is_lost_status
    group by 1
),

actual as (
    select account_id, count(*) as n_rows from {{ ref('mart_funnel_stages') }} group by 1
),

open_by_stage as (
    select account_id, pipeline_id, month_start, sum(pipeline_open_amount) as amount
    from {{ ref('mart_funnel_stages') }}
    group by 1, 2, 3
)

select
    'row count' as check_name, expected.account_id,
    cast(expected.n_rows as {{ amokpi.type_double() }}) as expected_value,
    cast(actual.n_rows as {{ amokpi.type_double() }}) as actual_value
from expected
inner join actual on expected.account_id = actual.account_id
where expected.n_rows <> actual.n_rows
union all
select 'open amount', pipeline.account_id, pipeline.pipeline_open_amount, open_by_stage.amount
from {{ ref('mart_pipeline_monthly') }} as pipeline
inner join open_by_stage
    on pipeline.account_id = open_by_stage.account_id
    and pipeline.pipeline_id = open_by_stage.pipeline_id
    and pipeline.month_start = open_by_stage.month_start
where abs(pipeline.pipeline_open_amount - open_by_stage.amount) > 0.001
