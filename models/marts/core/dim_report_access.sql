{#- One row per account and e-mail of the report_access seed: who may sign in to the report, as which amoCRM
    user, with which scope, and that user's current team (the team a team lead sees). The report reads only
    this mart to decide what a signed-in person may see (streamlit_app/data.py). -#}
with

access as (
    select * from {{ ref('report_access') }}
),

managers as (
    select * from {{ ref('dim_managers') }}
),

final as (
    select
        access.account_id,
        -- providers differ in the case they return; the comparison is on the lower-cased, trimmed address
        lower(trim(access.email)) as email,
        access.user_id,
        access.access_scope,
        managers.manager_name as user_name,
        managers.group_id,
        managers.group_name,
        managers.manager_id is not null as is_user_known
    from access
    left join managers
        on access.account_id = managers.account_id and access.user_id = managers.manager_id
)

select * from final
