-- The weights of each scorecard role in role_kpi_matrix sum to 1 (within 1e-9 for decimal
-- fractions such as 0.3 + 0.15), so a manager exactly on target everywhere scores 100.
-- Returns the roles whose weights do not.
select
    scorecard_role,
    sum(weight) as weight_sum
from {{ ref('role_kpi_matrix') }}
group by 1
having abs(sum(weight) - 1) > 0.000000001
