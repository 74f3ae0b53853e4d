with

source as (
    select * from {{ source('amocrm', 'loss_reasons') }}
),

final as (
    select
        account_id,
        id as loss_reason_id,
        name as loss_reason_name,
        sort as loss_reason_sort
    from source
)

select * from final
