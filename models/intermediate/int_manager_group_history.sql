{#- One row per manager and day the build saw a new group or role (amoCRM keeps no history of
    either): each build adds a row for a manager whose group or role differs from the last one
    stored, dated by the snapshot day (var as_of), never the wall clock. Protected from
    --full-refresh, so a reorganisation does not rewrite the months before it. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['account_id', 'manager_id', 'observed_day'],
    full_refresh=false,
) }}

with

users as (
    select * from {{ ref('stg_amocrm__users') }}
),

as_of as (
    select * from {{ ref('int_account_as_of') }}
),

observed as (
    select
        users.account_id,
        users.user_id as manager_id,
        as_of.as_of_day as observed_day,
        users.group_id,
        users.group_name,
        users.role_id,
        users.role_name
    from users
    inner join as_of
        on users.account_id = as_of.account_id
),

{% if is_incremental() %}
    stored as (
        select *
        from (
            select
                history.*,
                row_number() over (partition by account_id, manager_id order by observed_day desc) as recency
            from {{ this }} as history
        ) as ranked
        where recency = 1
    ),

    final as (
        select observed.*
        from observed
        left join stored
            on observed.account_id = stored.account_id
            and observed.manager_id = stored.manager_id
        where stored.manager_id is null
            or stored.observed_day = observed.observed_day
            or stored.group_id is distinct from observed.group_id
            or stored.role_id is distinct from observed.role_id
    )
{% else %}
    final as (
        select * from observed
    )
{% endif %}

select * from final
