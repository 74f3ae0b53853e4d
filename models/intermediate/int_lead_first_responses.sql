{#- One row per lead that got a response: the first outgoing contact at or after creation —
    an outgoing call (answered or not) or a completed call task on the lead. -#}
with

leads as (
    select * from {{ ref('stg_amocrm__leads') }}
),

calls as (
    select * from {{ ref('int_calls_deduplicated') }}
),

tasks as (
    select * from {{ ref('stg_amocrm__tasks') }}
),

outgoing_contacts as (
    select account_id, lead_id, called_at as contacted_at
    from calls
    where is_outgoing and lead_id is not null
    union all
    select account_id, lead_id, completed_at as contacted_at
    from tasks
    where is_call_task and is_completed and lead_id is not null
),

final as (
    select
        leads.account_id,
        leads.lead_id,
        min(outgoing_contacts.contacted_at) as first_response_at
    from leads
    inner join outgoing_contacts
        on leads.account_id = outgoing_contacts.account_id
        and leads.lead_id = outgoing_contacts.lead_id
        and outgoing_contacts.contacted_at >= leads.created_at
    group by 1, 2
)

select * from final
