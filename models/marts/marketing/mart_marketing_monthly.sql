{#- One row per account × month × lead source, plus one all-sources row per month
    (is_all_sources, lead_source '(all sources)'). Leads created, wins and revenue by the lead's
    source (the month of creation / of the win), new customers, and the unit economics:
      cac_amount: (marketing spend + sales cost) / new customers. A source row carries the sales
        cost shared in proportion to its new customers, so every new customer bears the same
        part of it; the all-sources row the whole.
      marketing_roi_rate: (revenue − marketing spend) / marketing spend.
      sales_profitability_rate (all-sources row only): (revenue − sales cost) / sales cost.
    A rate or CAC with a zero denominator is NULL. Deleted leads are left out. -#}
with

lead_milestones as (
    select * from {{ ref('int_lead_milestones') }} where not is_deleted
),

lead_sources as (
    select * from {{ ref('int_lead_sources') }}
),

customer_wins as (
    select * from {{ ref('int_lead_customer_wins') }}
),

marketing_spend as (
    select * from {{ ref('marketing_spend') }}
),

sales_costs as (
    select * from {{ ref('sales_costs') }}
),

lead_facts as (
    select
        lead_milestones.account_id,
        lead_sources.lead_source,
        lead_milestones.created_month_start as month_start,
        1 as is_created,
        0 as is_won,
        0 as is_new_customer,
        cast(0 as {{ amokpi.type_double() }}) as revenue_amount
    from lead_milestones
    inner join lead_sources
        on lead_milestones.account_id = lead_sources.account_id
        and lead_milestones.lead_id = lead_sources.lead_id
    union all
    select
        customer_wins.account_id,
        lead_sources.lead_source,
        customer_wins.won_month_start,
        0,
        1,
        case when customer_wins.is_new_customer then 1 else 0 end,
        customer_wins.price_amount
    from customer_wins
    inner join lead_sources
        on customer_wins.account_id = lead_sources.account_id
        and customer_wins.lead_id = lead_sources.lead_id
),

by_source as (
    select
        account_id,
        month_start,
        lead_source,
        sum(is_created) as leads_created_count,
        sum(is_won) as deals_won_count,
        sum(is_new_customer) as new_customers_count,
        sum(revenue_amount) as revenue_amount
    from lead_facts
    group by 1, 2, 3
),

spine as (
    -- every source with leads or spend in the month
    select account_id, month_start, lead_source from by_source
    union
    select account_id, month_start, lead_source from marketing_spend
),

source_rows as (
    select
        spine.account_id,
        spine.month_start,
        spine.lead_source,
        false as is_all_sources,
        coalesce(by_source.leads_created_count, 0) as leads_created_count,
        coalesce(by_source.deals_won_count, 0) as deals_won_count,
        coalesce(by_source.new_customers_count, 0) as new_customers_count,
        coalesce(by_source.revenue_amount, 0) as revenue_amount,
        coalesce(marketing_spend.marketing_spend_amount, 0) as marketing_spend_amount
    from spine
    left join by_source
        on spine.account_id = by_source.account_id
        and spine.month_start = by_source.month_start
        and spine.lead_source = by_source.lead_source
    left join marketing_spend
        on spine.account_id = marketing_spend.account_id
        and spine.month_start = marketing_spend.month_start
        and spine.lead_source = marketing_spend.lead_source
),

all_rows as (
    select
        account_id,
        month_start,
        '(all sources)' as lead_source,
        true as is_all_sources,
        sum(leads_created_count) as leads_created_count,
        sum(deals_won_count) as deals_won_count,
        sum(new_customers_count) as new_customers_count,
        sum(revenue_amount) as revenue_amount,
        sum(marketing_spend_amount) as marketing_spend_amount
    from source_rows
    group by 1, 2, 3, 4
),

unioned as (
    select * from source_rows
    union all
    select * from all_rows
),

with_costs as (
    select
        unioned.*,
        totals.new_customers_count as month_new_customers_count,
        sales_costs.sales_cost_amount as month_sales_cost_amount
    from unioned
    inner join all_rows as totals
        on unioned.account_id = totals.account_id
        and unioned.month_start = totals.month_start
    left join sales_costs
        on unioned.account_id = sales_costs.account_id
        and unioned.month_start = sales_costs.month_start
),

final as (
    select
        account_id,
        month_start,
        lead_source,
        is_all_sources,
        cast(leads_created_count as bigint) as leads_created_count,
        cast(deals_won_count as bigint) as deals_won_count,
        cast(new_customers_count as bigint) as new_customers_count,
        cast(revenue_amount as {{ amokpi.type_double() }}) as revenue_amount,
        cast(marketing_spend_amount as {{ amokpi.type_double() }}) as marketing_spend_amount,
        cast(case when is_all_sources then month_sales_cost_amount
            else month_sales_cost_amount * {{ amokpi.safe_divide('new_customers_count', 'month_new_customers_count') }}
        end as {{ amokpi.type_double() }}) as sales_cost_amount,
        {{ amokpi.safe_divide(
            'marketing_spend_amount + coalesce(case when is_all_sources then month_sales_cost_amount else month_sales_cost_amount * new_customers_count / nullif(month_new_customers_count, 0) end, 0)',
            'new_customers_count') }} as cac_amount,
        {{ amokpi.safe_divide('revenue_amount - marketing_spend_amount', 'marketing_spend_amount') }}
            as marketing_roi_rate,
        case when is_all_sources
                then {{ amokpi.safe_divide('revenue_amount - month_sales_cost_amount', 'month_sales_cost_amount') }}
        end as sales_profitability_rate
    from with_costs
)

select * from final
