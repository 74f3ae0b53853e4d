{#- A team lead or manager in the report_access seed whose amoCRM user the account does not have (a typo, a
    deleted user) signs in to an empty report: warn, so whoever edits the seed hears of it. Rows of an account
    this warehouse does not load are another warehouse's (the demo account's list in a test build). -#}
{{ config(severity='warn') }}

select account_id, email, user_id, access_scope
from {{ ref('dim_report_access') }}
where access_scope in ('team_lead', 'manager') and not is_user_known
    and account_id in (select account_id from {{ ref('dim_accounts') }})
