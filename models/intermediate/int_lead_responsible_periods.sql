{#- One row per lead × period with one responsible manager, from entity_responsible_changed events.
    The first period starts at lead creation with the manager the first change moved away from
    (or the current one when the lead was never reassigned). -#}
with

leads as (
    select * from {{ ref('stg_amocrm__leads') }}
),

events as (
    select * from {{ ref('stg_amocrm__events') }}
),

changes as (
    select
        account_id,
        lead_id,
        event_id,
        created_at,
        responsible_before_id,
        responsible_after_id,
        row_number() over (partition by account_id, lead_id order by created_at, event_id) as change_number
    from events
    where event_type = 'entity_responsible_changed'
        and lead_id is not null
        and responsible_after_id is not null
),

first_periods as (
    select
        leads.account_id,
        leads.lead_id,
        0 as change_number,
        coalesce(changes.responsible_before_id, leads.responsible_user_id) as manager_id,
        leads.created_at as valid_from
    from leads
    left join changes
        on leads.account_id = changes.account_id
        and leads.lead_id = changes.lead_id
        and changes.change_number = 1
),

later_periods as (
    select account_id, lead_id, change_number, responsible_after_id as manager_id, created_at as valid_from
    from changes
),

periods as (
    select * from first_periods
    union all
    select * from later_periods
),

final as (
    select
        account_id,
        lead_id,
        change_number + 1 as period_number,
        manager_id,
        valid_from,
        lead(valid_from) over (partition by account_id, lead_id order by change_number) as valid_to
    from periods
)

select * from final
