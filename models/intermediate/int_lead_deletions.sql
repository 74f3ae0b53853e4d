{#- One row per lead: is it deleted now? amoCRM drops deleted leads from its lists (the source
    reads them back with `with=only_deleted`), and records every deletion and restoring as an
    event; the later of the two decides. -#}
with

leads as (
    select * from {{ ref('stg_amocrm__leads') }}
),

events as (
    select * from {{ ref('stg_amocrm__events') }}
),

deletion_events as (
    select
        account_id,
        lead_id,
        max(case when event_type = 'lead_deleted' then created_at end) as last_deleted_at,
        max(case when event_type = 'lead_restored' then created_at end) as last_restored_at
    from events
    where event_type in ('lead_deleted', 'lead_restored')
        and lead_id is not null
    group by 1, 2
),

final as (
    select
        leads.account_id,
        leads.lead_id,
        deletion_events.last_deleted_at,
        deletion_events.last_restored_at,
        case
            when deletion_events.last_deleted_at is null then leads.is_deleted
            when deletion_events.last_restored_at is null then true
            else deletion_events.last_deleted_at > deletion_events.last_restored_at
        end as is_deleted
    from leads
    left join deletion_events
        on leads.account_id = deletion_events.account_id
        and leads.lead_id = deletion_events.lead_id
)

select * from final
