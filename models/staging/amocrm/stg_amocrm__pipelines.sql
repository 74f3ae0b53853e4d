with

source as (
    select * from {{ source('amocrm', 'pipelines') }}
),

final as (
    select
        account_id,
        id as pipeline_id,
        name as pipeline_name,
        sort as pipeline_sort,
        coalesce(is_main, false) as is_main,
        coalesce(is_archive, false) as is_archived
    from source
)

select * from final
