{#- One row per manager and month with activity: the group and role the manager had then — the
    latest observation on or before the month's last day, or, for months before the first
    observation, the earliest one. Team figures credit each month to that group. -#}
with

history as (
    select * from {{ ref('int_manager_group_history') }}
),

manager_months as (
    select distinct account_id, manager_id, month_start
    from {{ ref('int_kpi_facts') }}
    where manager_id is not null
),

candidates as (
    select
        manager_months.account_id,
        manager_months.manager_id,
        manager_months.month_start,
        history.group_id,
        history.group_name,
        history.role_id,
        history.role_name,
        row_number() over (
            partition by manager_months.account_id, manager_months.manager_id, manager_months.month_start
            order by
                case
                    when history.observed_day < {{ amokpi.next_month('manager_months.month_start') }} then 0 else 1
                end,
                case when history.observed_day < {{ amokpi.next_month('manager_months.month_start') }}
                        then history.observed_day
                end desc,
                history.observed_day
        ) as preference
    from manager_months
    inner join history
        on manager_months.account_id = history.account_id
        and manager_months.manager_id = history.manager_id
),

final as (
    select account_id, manager_id, month_start, group_id, group_name, role_id, role_name
    from candidates
    where preference = 1
)

select * from final
