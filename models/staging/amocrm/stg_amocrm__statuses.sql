with

source as (
    select * from {{ source('amocrm', 'statuses') }}
),

final as (
    select
        account_id,
        pipeline_id,
        id as status_id,
        name as status_name,
        sort as status_sort,
        type as status_type,
        type = 1 as is_unsorted_stage,
        id = 142 as is_won_status,
        id = 143 as is_lost_status
    from source
)

select * from final
