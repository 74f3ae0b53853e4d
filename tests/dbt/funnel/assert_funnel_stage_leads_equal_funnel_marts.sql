-- The funnel drill-down lists equal the figures: for every pipeline × stage × month × lead count
-- of mart_funnel_stages, and every manager's of mart_manager_funnel_stages, the rows of
-- fct_funnel_stage_leads count exactly the mart's value. Returns the mismatches.
with

lead_rows as (
    select * from {{ ref('fct_funnel_stage_leads') }}
),

managers as (
    select * from {{ ref('dim_managers') }}
),

stages as (
    select * from {{ ref('int_pipeline_stages') }}
),

mart_values as (
    {%- for count in amokpi.funnel_lead_counts() %}
    select 'stage' as level, account_id, pipeline_id, status_id, month_start, cast(null as bigint) as manager_id,
        '{{ count.name }}' as kpi_name, {{ count.name }} as mart_value
    from {{ ref('mart_funnel_stages') }}
    union all
    select 'manager', account_id, pipeline_id, status_id, month_start, manager_id,
        '{{ count.name }}', {{ count.name }}
    from {{ ref('mart_manager_funnel_stages') }}
    {{- ' union all' if not loop.last }}
    {%- endfor %}
),

list_values as (
    select 'stage' as level, lead_rows.account_id, lead_rows.pipeline_id, lead_rows.status_id,
        lead_rows.month_start, cast(null as bigint) as manager_id, lead_rows.kpi_name, count(*) as list_value
    from lead_rows
    -- the stage mart shows working stages and won, not lost
    inner join stages
        on lead_rows.account_id = stages.account_id
        and lead_rows.pipeline_id = stages.pipeline_id
        and lead_rows.status_id = stages.status_id
    where not stages.is_lost_status
    group by 1, 2, 3, 4, 5, 6, 7
    union all
    select 'manager', account_id, pipeline_id, status_id, month_start, manager_id, kpi_name, count(*)
    from lead_rows
    where manager_id in (select manager_id from managers)
    group by 1, 2, 3, 4, 5, 6, 7
)

select
    coalesce(mart_values.level, list_values.level) as level,
    coalesce(mart_values.account_id, list_values.account_id) as account_id,
    coalesce(mart_values.pipeline_id, list_values.pipeline_id) as pipeline_id,
    coalesce(mart_values.status_id, list_values.status_id) as status_id,
    coalesce(mart_values.month_start, list_values.month_start) as month_start,
    coalesce(mart_values.manager_id, list_values.manager_id) as manager_id,
    coalesce(mart_values.kpi_name, list_values.kpi_name) as kpi_name,
    mart_values.mart_value,
    list_values.list_value
from mart_values
full outer join list_values
    on mart_values.level = list_values.level
    and mart_values.account_id = list_values.account_id
    and mart_values.pipeline_id = list_values.pipeline_id
    and mart_values.status_id = list_values.status_id
    and mart_values.month_start = list_values.month_start
    and mart_values.manager_id is not distinct from list_values.manager_id
    and mart_values.kpi_name = list_values.kpi_name
where coalesce(mart_values.mart_value, 0) <> coalesce(list_values.list_value, 0)
