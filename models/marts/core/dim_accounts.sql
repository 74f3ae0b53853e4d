{#- One row per amoCRM account in the warehouse: its currency and timezone, which every *_amount
    column and every day and month of the marts are in. -#}
with

accounts as (
    select * from {{ ref('stg_amocrm__accounts') }}
),

final as (
    select
        account_id,
        account_name,
        subdomain,
        currency,
        timezone
    from accounts
)

select * from final
