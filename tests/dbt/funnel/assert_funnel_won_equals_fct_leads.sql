-- Won in the funnel = won in fct_leads: entries into the won stage (each lead once per pipeline)
-- summed over all months equal the non-deleted leads that entered won; and the pipeline mart's
-- won deals equal fct_leads' won leads. Returns the mismatching figures.
with funnel_won as (
    select account_id, sum(leads_entered_count) as won
    from {{ ref('mart_funnel_stages') }}
    where status_id = 142
    group by 1
),

history_won as (
    select history.account_id, count(distinct history.pipeline_id || '-' || history.lead_id) as won
    from {{ ref('int_lead_stage_history') }} as history
    inner join {{ ref('fct_leads') }} as leads
        on history.account_id = leads.account_id
        and history.lead_id = leads.lead_id
    where history.status_id = 142 and not leads.is_deleted
    group by 1
),

pipeline_won as (
    select account_id, sum(deals_won_count) as won
    from {{ ref('mart_pipeline_monthly') }}
    group by 1
),

fct_won as (
    select account_id, count(*) as won
    from {{ ref('fct_leads') }}
    where is_won and not is_deleted
    group by 1
)

select 'funnel vs history' as check_name, funnel_won.account_id, funnel_won.won as left_side, history_won.won as right_side
from funnel_won
full outer join history_won on funnel_won.account_id = history_won.account_id
where coalesce(funnel_won.won, 0) <> coalesce(history_won.won, 0)
union all
select 'pipeline mart vs fct_leads', pipeline_won.account_id, pipeline_won.won, fct_won.won
from pipeline_won
full outer join fct_won on pipeline_won.account_id = fct_won.account_id
where coalesce(pipeline_won.won, 0) <> coalesce(fct_won.won, 0)
