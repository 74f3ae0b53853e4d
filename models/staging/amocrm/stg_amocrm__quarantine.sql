{#- Raw records (or whole pages) the source kept aside because they broke their entity's
    contract; one row per distinct payload. -#}
with

source as (
    select * from {{ source('amocrm', 'quarantine') }}
),

final as (
    select
        account_id,
        payload_hash,
        entity,
        record_id,
        problem,
        payload,
        source_url,
        {{ amokpi.from_unix('quarantined_at') }} as quarantined_at
    from source
)

select * from final
