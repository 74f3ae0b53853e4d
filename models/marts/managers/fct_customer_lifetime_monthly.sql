{#- Grain: one row per account × month × manager, plus one department row per account × month
    (is_department_total): the customers won so far, as of the month's end (int_customer_lifetime_monthly),
    which the period marts take as of a period's last month. -#}
with

customer_lifetime as (
    select * from {{ ref('int_customer_lifetime_monthly') }}
),

final as (
    select
        account_id,
        month_start,
        manager_id,
        is_department_total,
        customers_to_date_count,
        repeat_customers_to_date_count,
        lifetime_revenue_amount
    from customer_lifetime
)

select * from final
