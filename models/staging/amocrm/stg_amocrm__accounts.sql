with

source as (
    select * from {{ source('amocrm', 'account') }}
),

final as (
    select
        id as account_id,
        name as account_name,
        subdomain,
        currency,
        coalesce({{ amokpi.json_text('_embedded', '$.datetime_settings.timezone') }}, 'UTC') as timezone,
        {{ amokpi.from_unix('created_at') }} as created_at
    from source
)

select * from final
