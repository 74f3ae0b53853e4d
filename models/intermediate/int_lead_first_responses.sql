{#- One row per lead that got a response: the first outgoing contact at or after creation — an
    outgoing call (answered or not) or a completed task of the call role (int_task_types), on the
    lead's card or on a card of its contact or company (amoCRM puts a call on the contact or
    company card when that card has no or several open leads). -#}
with

lead_cards as (
    select * from {{ ref('int_lead_cards') }}
),

calls as (
    select * from {{ ref('int_calls_deduplicated') }}
),

tasks as (
    select * from {{ ref('int_tasks') }}
),

outgoing_contacts as (
    select account_id, card_type, card_id, called_at as contacted_at
    from calls
    where is_outgoing and card_id is not null
    union all
    select account_id, card_type, entity_id as card_id, completed_at as contacted_at
    from tasks
    where is_call_task and is_completed and entity_id is not null
),

final as (
    select
        lead_cards.account_id,
        lead_cards.lead_id,
        min(outgoing_contacts.contacted_at) as first_response_at
    from lead_cards
    inner join outgoing_contacts
        on lead_cards.account_id = outgoing_contacts.account_id
        and lead_cards.card_type = outgoing_contacts.card_type
        and lead_cards.card_id = outgoing_contacts.card_id
        and outgoing_contacts.contacted_at >= lead_cards.lead_created_at
    group by 1, 2
)

select * from final
