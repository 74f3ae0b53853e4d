{#- One row per account × month × manager, plus one department row per account × month
    (is_department_total): the customers won so far, as of the month's end. A customer belongs to
    the manager who closed its first win. repeat_customers: of those, customers with two or more
    wins so far; lifetime_revenue_amount: all their wins so far. -#}
with

customer_wins as (
    select * from {{ ref('int_lead_customer_wins') }}
),

months as (
    select distinct account_id, month_start from {{ ref('int_kpi_facts') }}
),

first_wins as (
    select account_id, customer_key, won_month_start as first_won_month_start, manager_at_close_id as manager_id
    from customer_wins
    where win_number = 1
),

to_date as (
    -- each customer at each month's end: its wins so far
    select
        months.account_id,
        months.month_start,
        customer_wins.customer_key,
        count(*) as wins_so_far,
        sum(customer_wins.price_amount) as revenue_so_far
    from months
    inner join customer_wins
        on months.account_id = customer_wins.account_id
        and customer_wins.won_month_start <= months.month_start
    group by 1, 2, 3
),

aggregated as (
    select
        to_date.account_id,
        to_date.month_start,
        first_wins.manager_id,
        grouping(first_wins.manager_id) = 1 as is_department_total,
        count(*) as customers_to_date_count,
        sum(case when to_date.wins_so_far >= 2 then 1 else 0 end) as repeat_customers_to_date_count,
        sum(to_date.revenue_so_far) as lifetime_revenue_amount
    from to_date
    inner join first_wins
        on to_date.account_id = first_wins.account_id
        and to_date.customer_key = first_wins.customer_key
    group by grouping sets (
        (to_date.account_id, to_date.month_start, first_wins.manager_id),
        (to_date.account_id, to_date.month_start)
    )
),

final as (
    select
        account_id,
        month_start,
        manager_id,
        is_department_total,
        cast(customers_to_date_count as bigint) as customers_to_date_count,
        cast(repeat_customers_to_date_count as bigint) as repeat_customers_to_date_count,
        cast(lifetime_revenue_amount as {{ amokpi.type_double() }}) as lifetime_revenue_amount
    from aggregated
)

select * from final
