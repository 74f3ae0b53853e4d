{#- One row per lead: is it deleted now? amoCRM drops deleted leads from its lists; the source
    reads the trash back with `with=only_deleted` (trimmed records: id, updated_at, updated_by),
    and amoCRM records every deletion and restoring as an event. The latest signal decides: a
    deletion event, or the trash listing when it is at least as new as the stored lead (a lead
    seen live after it was listed as deleted was restored); against a restoring event. -#}
with

leads as (
    select * from {{ ref('stg_amocrm__leads') }}
),

events as (
    select * from {{ ref('stg_amocrm__events') }}
),

trash as (
    select * from {{ ref('stg_amocrm__deleted_leads') }}
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

signals as (
    select
        leads.account_id,
        leads.lead_id,
        leads.is_deleted as is_deleted_in_record,
        case when trash.updated_at >= leads.updated_at then trash.updated_at end as listed_in_trash_at,
        deletion_events.last_deleted_at as last_deleted_event_at,
        deletion_events.last_restored_at
    from leads
    left join trash
        on leads.account_id = trash.account_id
        and leads.lead_id = trash.lead_id
    left join deletion_events
        on leads.account_id = deletion_events.account_id
        and leads.lead_id = deletion_events.lead_id
),

final as (
    select
        account_id,
        lead_id,
        case
            when listed_in_trash_at is null then last_deleted_event_at
            when last_deleted_event_at is null then listed_in_trash_at
            when listed_in_trash_at > last_deleted_event_at then listed_in_trash_at
            else last_deleted_event_at
        end as last_deleted_at,
        last_restored_at,
        listed_in_trash_at,
        case
            when listed_in_trash_at is null and last_deleted_event_at is null then is_deleted_in_record
            when last_restored_at is null then true
            else coalesce(listed_in_trash_at > last_restored_at, false)
                or coalesce(last_deleted_event_at > last_restored_at, false)
        end as is_deleted
    from signals
)

select * from final
