-- The funnel's list of a loss reason's leads equals the figure: for every pipeline × month × loss
-- reason, the leads fct_leads marks as counted (is_loss_reason_lead, lost_month_start; the report's
-- filter) number exactly mart_funnel_loss_reasons' leads_lost_count summed
-- over stages. Returns the mismatches.
with

lead_rows as (
    select * from {{ ref('fct_leads') }}
    where is_loss_reason_lead
),

mart_values as (
    select account_id, pipeline_id, month_start, loss_reason_id, sum(leads_lost_count) as mart_value
    from {{ ref('mart_funnel_loss_reasons') }}
    group by 1, 2, 3, 4
),

list_values as (
    select
        account_id,
        pipeline_id,
        lost_month_start as month_start,
        coalesce(loss_reason_id, -1) as loss_reason_id,
        count(distinct lead_id) as list_value
    from lead_rows
    group by 1, 2, 3, 4
)

select
    coalesce(mart_values.account_id, list_values.account_id) as account_id,
    coalesce(mart_values.pipeline_id, list_values.pipeline_id) as pipeline_id,
    coalesce(mart_values.month_start, list_values.month_start) as month_start,
    coalesce(mart_values.loss_reason_id, list_values.loss_reason_id) as loss_reason_id,
    mart_values.mart_value,
    list_values.list_value
from mart_values
full outer join list_values
    on mart_values.account_id = list_values.account_id
    and mart_values.pipeline_id = list_values.pipeline_id
    and mart_values.month_start = list_values.month_start
    and mart_values.loss_reason_id = list_values.loss_reason_id
where coalesce(mart_values.mart_value, 0) <> coalesce(list_values.list_value, 0)
