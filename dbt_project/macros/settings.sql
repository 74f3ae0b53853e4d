{#- Configuration seeds (working_hours, holidays, response_slas, alert_thresholds, manager_roles)
    hold rows for every account (account_id empty) and, where one account differs, rows of its
    own, so several accounts can share a warehouse. -#}

{#- Join condition for a seed whose rows form one set (a week of working hours, a holiday
    calendar): the account's own rows if the seed has any for it, else the rows for every account.
    `settings` is the seed's CTE (used as alias and relation), `account_id` the column to match. -#}
{% macro settings_for_account(settings, account_id) -%}
    ({{ settings }}.account_id = {{ account_id }}
        or ({{ settings }}.account_id is null
            and not exists (
                select 1 from {{ settings }} as own_settings where own_settings.account_id = {{ account_id }}
            )))
{%- endmacro %}
