-- Every role_kpi_matrix row scores a real KPI: `kpi` is a KPI of the registry (the same list
-- mart_manager_scorecard unpivots) with a direction, and its target is > 0 (an up-KPI's attainment divides by it). A manager_roles row
-- names a role name or a manager id. Returns the offending rows.
{%- set kpis = amokpi.scorecard_kpi_columns() %}
select
    'unknown kpi' as check_name,
    scorecard_role,
    kpi as detail
from {{ ref('role_kpi_matrix') }}
where kpi not in ({% for kpi in kpis %}'{{ kpi }}'{{ ', ' if not loop.last }}{% endfor %}{{ "''" if kpis | length == 0 }})
union all
select
    'kpi has no direction (neither higher nor lower is better)',
    scorecard_role,
    kpi
from {{ ref('role_kpi_matrix') }}
where {{ amokpi.kpi_direction('kpi') }} = 'none'
union all
select
    'target not > 0',
    scorecard_role,
    kpi
from {{ ref('role_kpi_matrix') }}
where not target > 0
union all
select
    'manager_roles row matches nothing',
    scorecard_role,
    cast(null as {{ dbt.type_string() }})
from {{ ref('manager_roles') }}
where manager_id is null
    and (role_name is null or trim(role_name) = '')
