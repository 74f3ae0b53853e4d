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
        {{ amokpi.from_unix('created_at') }} as created_at,
        -- the origin (scheme://host) the connector read the account from; NULL when loaded before it recorded one
        {{ amokpi.column_or_null(source('amocrm', 'account'), '_base_url', dbt.type_string()) }} as api_base_url
    from source
)

select * from final
