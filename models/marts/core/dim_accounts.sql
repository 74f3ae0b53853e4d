{#- One row per amoCRM account in the warehouse: its currency and timezone, which every *_amount
    column and every day and month of the marts are in, and the address of its web interface. -#}
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
        timezone,
        -- the host the connector read the account from when it is an amoCRM or Kommo one (amocrm.ru,
        -- amocrm.com, kommo.com); otherwise (a demo or proxy address, or not recorded) the default
        -- https://<subdomain>.amocrm.ru. Only scheme and host: a lead's card is
        -- crm_base_url || '/leads/detail/' || lead_id
        case
            when lower(api_base_url) like 'https://%.amocrm.ru'
                or lower(api_base_url) like 'https://%.amocrm.com'
                or lower(api_base_url) like 'https://%.kommo.com'
                then lower(api_base_url)
            when subdomain is not null and subdomain <> '' then 'https://' || lower(subdomain) || '.amocrm.ru'
        end as crm_base_url
    from accounts
)

select * from final
