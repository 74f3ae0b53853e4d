{#- One row per account: the snapshot time the build describes. var('as_of') (unix seconds) when
    given, else the newest lead update — never the wall clock, so a build is reproducible. -#}
with

leads as (
    select * from {{ ref('stg_amocrm__leads') }}
),

accounts as (
    select * from {{ ref('stg_amocrm__accounts') }}
),

newest as (
    select account_id, {{ amokpi.as_of_timestamp('max(updated_at)') }} as as_of_at
    from leads
    group by 1
),

final as (
    select
        accounts.account_id,
        accounts.timezone,
        newest.as_of_at,
        {{ amokpi.day_of(amokpi.to_local('newest.as_of_at', 'accounts.timezone')) }} as as_of_day,
        {{ amokpi.month_of(amokpi.to_local('newest.as_of_at', 'accounts.timezone')) }} as as_of_month_start
    from accounts
    inner join newest
        on accounts.account_id = newest.account_id
)

select * from final
