-- mart_manager_pipeline_kpi_monthly splits mart_manager_kpi_monthly's counts of leads by pipeline:
-- for every manager × month × lead-count KPI the pipelines add up to the manager's figure.
-- Returns the mismatches.
with

by_pipeline as (
    select
        account_id, month_start, manager_id,
        {%- for kpi in amokpi.kpi_lead_kpis() %}
        sum({{ kpi.name }}) as {{ kpi.name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('mart_manager_pipeline_kpi_monthly') }}
    where manager_id in (select manager_id from {{ ref('dim_managers') }})
    group by 1, 2, 3
),

managers as (
    select * from {{ ref('mart_manager_kpi_monthly') }}
)

{%- for kpi in amokpi.kpi_lead_kpis() %}
select '{{ kpi.name }}' as kpi_name, managers.account_id, managers.month_start, managers.manager_id,
    managers.{{ kpi.name }} as manager_value, by_pipeline.{{ kpi.name }} as pipelines_value
from managers
full outer join by_pipeline
    on managers.account_id = by_pipeline.account_id
    and managers.month_start = by_pipeline.month_start
    and managers.manager_id = by_pipeline.manager_id
where coalesce(managers.{{ kpi.name }}, 0) <> coalesce(by_pipeline.{{ kpi.name }}, 0)
{{ 'union all' if not loop.last }}
{%- endfor %}
