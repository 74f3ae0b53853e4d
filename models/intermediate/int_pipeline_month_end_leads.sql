{#- One row per open lead at the end of each month (account timezone): the stage it stood in at
    that moment, rebuilt from the stage history (events never change, so past months stay
    reproducible). The current month is cut at the snapshot time. The amount is the price stored
    by the daily snapshot for that day when one exists, else the lead's current price. -#}
with

stage_history as (
    select * from {{ ref('int_lead_stage_history') }}
),

deletions as (
    select * from {{ ref('int_lead_deletions') }}
),

leads as (
    select * from {{ ref('stg_amocrm__leads') }}
),

as_of as (
    select * from {{ ref('int_account_as_of') }}
),

daily_snapshots as (
    select * from {{ ref('fct_pipeline_daily_snapshots') }}
),

account_months as (
    select distinct account_id, entered_month_start as month_start
    from stage_history
),

cut_offs as (
    -- the first moment after the month, in local time; the running month ends at the snapshot time
    select
        account_months.account_id,
        account_months.month_start,
        case
            when account_months.month_start = as_of.as_of_month_start
                then {{ amokpi.to_local('as_of.as_of_at', 'as_of.timezone') }}
            else cast({{ amokpi.next_month('account_months.month_start') }} as timestamp)
        end as cut_off_local,
        case
            when account_months.month_start = as_of.as_of_month_start then as_of.as_of_day
            else cast({{ dbt.dateadd('day', -1, amokpi.next_month('account_months.month_start')) }} as date)
        end as last_day,
        as_of.timezone
    from account_months
    inner join as_of
        on account_months.account_id = as_of.account_id
    where account_months.month_start <= as_of.as_of_month_start
),

visits_local as (
    select
        stage_history.*,
        {{ amokpi.to_local('stage_history.entered_at', 'as_of.timezone') }} as entered_local,
        {{ amokpi.to_local('stage_history.exited_at', 'as_of.timezone') }} as exited_local
    from stage_history
    inner join as_of
        on stage_history.account_id = as_of.account_id
    where stage_history.is_working_stage
),

open_at_cut_off as (
    select
        cut_offs.account_id,
        cut_offs.month_start,
        cut_offs.last_day,
        visits_local.lead_id,
        visits_local.pipeline_id,
        visits_local.status_id,
        visits_local.manager_id
    from cut_offs
    inner join visits_local
        on cut_offs.account_id = visits_local.account_id
        and visits_local.entered_local < cut_offs.cut_off_local
        and (visits_local.exited_local is null or visits_local.exited_local >= cut_offs.cut_off_local)
),

final as (
    select
        open_at_cut_off.account_id,
        open_at_cut_off.month_start,
        open_at_cut_off.lead_id,
        open_at_cut_off.pipeline_id,
        open_at_cut_off.status_id,
        open_at_cut_off.manager_id,
        coalesce(daily_snapshots.price_amount, leads.price_amount) as price_amount,
        daily_snapshots.lead_id is not null as is_price_from_snapshot
    from open_at_cut_off
    inner join deletions
        on open_at_cut_off.account_id = deletions.account_id
        and open_at_cut_off.lead_id = deletions.lead_id
        and not deletions.is_deleted
    inner join leads
        on open_at_cut_off.account_id = leads.account_id
        and open_at_cut_off.lead_id = leads.lead_id
    left join daily_snapshots
        on open_at_cut_off.account_id = daily_snapshots.account_id
        and open_at_cut_off.lead_id = daily_snapshots.lead_id
        and open_at_cut_off.last_day = daily_snapshots.snapshot_day
)

select * from final
