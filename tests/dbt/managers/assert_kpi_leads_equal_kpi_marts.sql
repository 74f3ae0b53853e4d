-- The drill-down lists equal the figures: for every manager × month × lead-count KPI of
-- mart_manager_kpi_monthly, every team × month of mart_team_kpi_monthly and every month of
-- mart_department_kpi_monthly, the facts_count of fct_kpi_leads' rows sums to the mart's value
-- (a team: its managers' rows of that group_id; the department: all rows). Returns the mismatches.
with

lead_rows as (
    select * from {{ ref('fct_kpi_leads') }}
),

managers as (
    select * from {{ ref('dim_managers') }}
),

manager_values as (
    {%- for kpi in amokpi.kpi_lead_kpis() %}
    select 'manager' as kpi_grain, account_id, month_start, manager_id as subject_id,
        '{{ kpi.name }}' as kpi_name, {{ kpi.name }} as mart_value
    from {{ ref('mart_manager_kpi_monthly') }}
    union all
    select 'team', account_id, month_start, group_id, '{{ kpi.name }}', {{ kpi.name }}
    from {{ ref('mart_team_kpi_monthly') }}
    union all
    select 'department', account_id, month_start, cast(null as bigint), '{{ kpi.name }}', {{ kpi.name }}
    from {{ ref('mart_department_kpi_monthly') }}
    {{- ' union all' if not loop.last }}
    {%- endfor %}
),

list_values as (
    select 'manager' as kpi_grain, account_id, month_start, manager_id as subject_id, kpi_name,
        sum(facts_count) as list_value
    from lead_rows
    where manager_id in (select manager_id from managers)
    group by 1, 2, 3, 4, 5
    union all
    select 'team', account_id, month_start, group_id, kpi_name, sum(facts_count)
    from lead_rows
    group by 1, 2, 3, 4, 5
    union all
    select 'department', account_id, month_start, cast(null as bigint), kpi_name, sum(facts_count)
    from lead_rows
    group by 1, 2, 3, 4, 5
)

select
    coalesce(manager_values.kpi_grain, list_values.kpi_grain) as kpi_grain,
    coalesce(manager_values.account_id, list_values.account_id) as account_id,
    coalesce(manager_values.month_start, list_values.month_start) as month_start,
    coalesce(manager_values.subject_id, list_values.subject_id) as subject_id,
    coalesce(manager_values.kpi_name, list_values.kpi_name) as kpi_name,
    manager_values.mart_value,
    list_values.list_value
from manager_values
full outer join list_values
    on manager_values.kpi_grain = list_values.kpi_grain
    and manager_values.account_id = list_values.account_id
    and manager_values.month_start = list_values.month_start
    and manager_values.subject_id is not distinct from list_values.subject_id
    and manager_values.kpi_name = list_values.kpi_name
where coalesce(manager_values.mart_value, 0) <> coalesce(list_values.list_value, 0)
