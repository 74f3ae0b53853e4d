{#- One row per open lead per snapshot day (account timezone): the pipeline as each build saw
    it. Incremental and protected from --full-refresh, so "the pipeline at the end of month X"
    keeps the prices and stages of that day after leads change. A build replaces only its own
    day (the day of the snapshot time, var as_of). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['account_id', 'snapshot_day', 'lead_id'],
    full_refresh=false,
    on_schema_change='append_new_columns',
) }}

with

leads as (
    select * from {{ ref('stg_amocrm__leads') }}
),

deletions as (
    select * from {{ ref('int_lead_deletions') }}
),

as_of as (
    select * from {{ ref('int_account_as_of') }}
),

final as (
    select
        leads.account_id,
        as_of.as_of_day as snapshot_day,
        leads.lead_id,
        leads.pipeline_id,
        leads.status_id,
        leads.responsible_user_id as manager_id,
        leads.price_amount,
        as_of.as_of_at as captured_at
    from leads
    inner join as_of
        on leads.account_id = as_of.account_id
    inner join deletions
        on leads.account_id = deletions.account_id
        and leads.lead_id = deletions.lead_id
    where leads.status_id not in (142, 143)
        and not deletions.is_deleted
)

select * from final
