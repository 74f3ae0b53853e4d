{#- The won-deal KPIs at weekly grain, one definition for mart_manager_plan_weekly and
    mart_department_plan_weekly: the int_kpi_facts rows of closings (fact_type lead_closed, the rows
    int_kpi_monthly counts deals_won_count and revenue_amount from, with the same amokpi.kpi_terms
    expressions), each placed in the week (Monday start, account timezone) of the day the lead was
    closed (int_lead_milestones.closed_at, the moment its month_start comes from), so the weeks
    inside a month add up to the month. Expects CTEs `kpi_facts` (int_kpi_facts), `lead_milestones`
    (int_lead_milestones) and `as_of` (int_account_as_of, for the account's timezone). -#}
{% macro kpi_won_deal_week_rows() -%}
    {%- set terms = {} -%}
    {%- for term in amokpi.kpi_terms() if term.name in ('deals_won_count', 'revenue_amount') -%}
        {%- do terms.update({term.name: term.expression}) -%}
    {%- endfor -%}
    select
        kpi_facts.account_id,
        kpi_facts.manager_id,
        kpi_facts.month_start,
        {{ amokpi.week_of(amokpi.to_local('lead_milestones.closed_at', 'as_of.timezone')) }} as week_start,
        {{ terms['deals_won_count'] }} as deals_won_count,
        {{ terms['revenue_amount'] }} as revenue_amount
    from kpi_facts
    inner join lead_milestones
        on kpi_facts.account_id = lead_milestones.account_id
        and kpi_facts.lead_id = lead_milestones.lead_id
    inner join as_of
        on kpi_facts.account_id = as_of.account_id
    where kpi_facts.fact_type = 'lead_closed'
{%- endmacro %}

{#- the Monday of the week holding a date -#}
{% macro week_of(day) -%}
    cast({{ dbt.date_trunc('week', day) }} as date)
{%- endmacro %}

{#- The week so far against its plan: plan_fulfillment_rate (the registry's revenue_amount /
    plan_revenue_amount) over the plan pro-rated to date; NULL without a plan to date. One
    definition for the manager and department weekly marts. -#}
{% macro plan_fulfillment_to_date(revenue, plan_to_date) -%}
    {{ amokpi.safe_divide('coalesce(' ~ revenue ~ ', 0)', plan_to_date) }}
{%- endmacro %}
