with

source as (
    select * from {{ source('amocrm', 'tasks') }}
),

final as (
    select
        account_id,
        id as task_id,
        -- the card the task sits on: a lead, a contact, a company (or a customer), or nothing
        entity_type,
        {{ amokpi.card_type('entity_type') }} as card_type,
        entity_id,
        case when entity_type = 'leads' then entity_id end as lead_id,
        case when entity_type = 'contacts' then entity_id end as contact_id,
        case when entity_type = 'companies' then entity_id end as company_id,
        responsible_user_id,
        created_by,
        task_type_id,
        coalesce(is_completed, false) as is_completed,
        {{ amokpi.from_unix('created_at') }} as created_at,
        {{ amokpi.from_unix('updated_at') }} as updated_at,
        {{ amokpi.from_unix('complete_till') }} as complete_till_at,
        -- amoCRM keeps no completion time: a completed task was last updated when it was closed
        case when is_completed then {{ amokpi.from_unix('updated_at') }} end as completed_at
    from source
)

select * from final
