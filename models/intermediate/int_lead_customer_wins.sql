{#- One row per won lead (deleted ones excepted) with its customer — the lead's main contact, or
    the lead itself when it has none — and whether the win is the customer's first (a new
    customer) or an upsell: a later win of the same customer, or a lead tagged upsell /
    cross-sell / допродажа. -#}
with

lead_milestones as (
    select * from {{ ref('int_lead_milestones') }} where is_won and not is_deleted
),

main_contacts as (
    select account_id, lead_id, min(contact_id) as contact_id
    from {{ ref('stg_amocrm__lead_contacts') }}
    where is_main_contact
    group by 1, 2
),

upsell_tagged as (
    select distinct account_id, lead_id
    from {{ ref('stg_amocrm__lead_tags') }}
    where lower(tag_name) in ('upsell', 'cross-sell', 'допродажа', 'кросс-продажа')
),

customers as (
    select
        lead_milestones.account_id,
        lead_milestones.lead_id,
        lead_milestones.won_at,
        lead_milestones.won_month_start,
        lead_milestones.price_amount,
        lead_milestones.manager_at_close_id,
        coalesce(
            'contact:' || cast(main_contacts.contact_id as varchar),
            'lead:' || cast(lead_milestones.lead_id as varchar)
        ) as customer_key
    from lead_milestones
    left join main_contacts
        on lead_milestones.account_id = main_contacts.account_id
        and lead_milestones.lead_id = main_contacts.lead_id
),

numbered as (
    select
        customers.*,
        row_number() over (
            partition by customers.account_id, customers.customer_key
            order by customers.won_at, customers.lead_id
        ) as win_number
    from customers
),

final as (
    select
        numbered.account_id,
        numbered.lead_id,
        numbered.customer_key,
        numbered.won_at,
        numbered.won_month_start,
        numbered.price_amount,
        numbered.manager_at_close_id,
        numbered.win_number,
        numbered.win_number = 1 as is_new_customer,
        numbered.win_number > 1 or upsell_tagged.lead_id is not null as is_upsell
    from numbered
    left join upsell_tagged
        on numbered.account_id = upsell_tagged.account_id
        and numbered.lead_id = upsell_tagged.lead_id
)

select * from final
