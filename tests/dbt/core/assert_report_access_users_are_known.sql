{#- A team lead or manager in the report_access seed whose amoCRM user the account does not have (a typo, a
    deleted user) signs in to an empty report: warn, so whoever edits the seed hears of it. -#}
{{ config(severity='warn') }}

select account_id, email, user_id, access_scope
from {{ ref('dim_report_access') }}
where access_scope in ('team_lead', 'manager') and not is_user_known
