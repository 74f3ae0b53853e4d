{#- One row per person `amokpi notify` writes to: the notification_recipients seed joined to the
    account's users, so a user id the account does not have (a typo, a demo row in another account)
    is left out rather than written to. -#}
with

recipients as (
    select * from {{ ref('notification_recipients') }}
),

managers as (
    select * from {{ ref('dim_managers') }}
),

final as (
    select
        cast(recipients.account_id as bigint) as account_id,
        cast(recipients.user_id as bigint) as user_id,
        managers.manager_name as user_name,
        cast(recipients.recipient_role as {{ dbt.type_string() }}) as recipient_role,
        cast(recipients.language as {{ dbt.type_string() }}) as language,
        cast(nullif(trim(recipients.telegram_chat_id), '') as {{ dbt.type_string() }}) as telegram_chat_id,
        cast(nullif(trim(recipients.email), '') as {{ dbt.type_string() }}) as email
    from recipients
    inner join managers
        on recipients.account_id = managers.account_id
        and recipients.user_id = managers.manager_id
)

select * from final
