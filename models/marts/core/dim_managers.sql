{#- One row per account user who can own leads: the managers the KPI marts report on. -#}
with

users as (
    select * from {{ ref('stg_amocrm__users') }}
),

final as (
    select
        account_id,
        user_id as manager_id,
        user_name as manager_name,
        group_id,
        group_name,
        role_id,
        role_name,
        is_admin,
        is_active
    from users
)

select * from final
