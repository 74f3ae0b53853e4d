{#- One row per lead × card the lead belongs to: its own lead card, each linked contact and each
    linked company. Calls and tasks sit on any of these cards; this says which leads a card holds,
    with each lead's open period (from creation to closing). -#}
with

leads as (
    select * from {{ ref('stg_amocrm__leads') }}
),

lead_contacts as (
    select * from {{ ref('stg_amocrm__lead_contacts') }}
),

lead_companies as (
    select * from {{ ref('stg_amocrm__lead_companies') }}
),

cards as (
    select account_id, lead_id, 'lead' as card_type, lead_id as card_id from leads
    union all
    select account_id, lead_id, 'contact' as card_type, contact_id as card_id from lead_contacts
    union all
    select account_id, lead_id, 'company' as card_type, company_id as card_id from lead_companies
),

final as (
    select distinct
        cards.account_id,
        cards.card_type,
        cards.card_id,
        cards.lead_id,
        leads.created_at as lead_created_at,
        leads.closed_at as lead_closed_at
    from cards
    inner join leads
        on cards.account_id = leads.account_id
        and cards.lead_id = leads.lead_id
    where cards.card_id is not null
)

select * from final
