{#- mart_manager_kpi_ranges computes any range of months when asked, by the period marts' SQL. Every
    one-month range (a filter the view takes before aggregating, so this reads N ranges, not N²) must
    give the manager's monthly row of mart_manager_kpi_monthly: the same managers, counts, amounts,
    medians and plans. Returns the rows that differ. -#}
with

ranges as (
    select * from {{ ref('mart_manager_kpi_ranges') }}
    where period_start = cast({{ dbt.date_trunc('month', 'period_end') }} as date)
        and kpi_grain = 'manager'
),

monthly as (
    select * from {{ ref('mart_manager_kpi_monthly') }}
),

compared as (
    select
        coalesce(ranges.account_id, monthly.account_id) as account_id,
        coalesce(ranges.manager_id, monthly.manager_id) as manager_id,
        coalesce(ranges.period_start, monthly.month_start) as month_start,
        ranges.manager_id is null as is_missing_in_ranges,
        monthly.manager_id is null as is_missing_in_monthly,
        ranges.calls_count <> monthly.calls_count
        or ranges.deals_won_count <> monthly.deals_won_count
        or ranges.new_leads_count <> monthly.new_leads_count
        or abs(ranges.revenue_amount - monthly.revenue_amount) > 0.005
        or abs(
            coalesce(ranges.first_response_minutes_median, -1) - coalesce(monthly.first_response_minutes_median, -1)
        ) > 1e-6
        or abs(coalesce(ranges.win_rate, -1) - coalesce(monthly.win_rate, -1)) > 1e-9
        or coalesce(ranges.plan_revenue_amount, -1) <> coalesce(monthly.plan_revenue_amount, -1) as is_different
    from ranges
    full outer join monthly
        on ranges.account_id = monthly.account_id
        and ranges.manager_id = monthly.manager_id
        and ranges.period_start = monthly.month_start
)

select * from compared
where is_missing_in_ranges or is_missing_in_monthly or is_different
