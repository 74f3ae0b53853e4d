with

source as (
    select * from {{ source('amocrm', 'leads') }}
),

final as (
    select
        account_id,
        id as lead_id,
        name as lead_name,
        cast(coalesce(price, 0) as {{ amokpi.type_double() }}) as price_amount,
        responsible_user_id,
        group_id,
        pipeline_id,
        status_id,
        loss_reason_id,
        created_by,
        updated_by,
        {{ amokpi.from_unix('created_at') }} as created_at,
        {{ amokpi.from_unix('updated_at') }} as updated_at,
        {{ amokpi.from_unix('closed_at') }} as closed_at,
        coalesce(is_deleted, false) as is_deleted
    from source
)

select * from final
