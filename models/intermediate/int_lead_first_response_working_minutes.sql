{#- One row per lead with a first response: the minutes between creation and first response
    that fall within working hours (working_hours seed, account timezone) on days that are not
    holidays (holidays seed); an account with rows of its own in a seed uses only those. A lead created on Friday evening and answered on Monday at 09:10
    waited 10 working minutes. -#}
with

first_responses as (
    select * from {{ ref('int_lead_first_responses') }}
),

leads as (
    select * from {{ ref('stg_amocrm__leads') }}
),

accounts as (
    select * from {{ ref('stg_amocrm__accounts') }}
),

working_hours as (
    select * from {{ ref('working_hours') }}
),

holidays as (
    select * from {{ ref('holidays') }}
),

day_offsets as (
    -- 0 .. 399: enough for any first response (longer waits are capped at 400 days)
    select generated_number - 1 as day_offset from ({{ dbt.generate_series(400) }}) as numbers
),

waits as (
    select
        leads.account_id,
        leads.lead_id,
        {{ amokpi.to_local('leads.created_at', 'accounts.timezone') }} as started_local,
        {{ amokpi.to_local('first_responses.first_response_at', 'accounts.timezone') }} as ended_local
    from first_responses
    inner join leads
        on first_responses.account_id = leads.account_id
        and first_responses.lead_id = leads.lead_id
    inner join accounts
        on leads.account_id = accounts.account_id
),

wait_days as (
    select
        waits.account_id,
        waits.lead_id,
        waits.started_local,
        waits.ended_local,
        cast({{ dbt.dateadd('day', 'day_offsets.day_offset', amokpi.day_of('waits.started_local')) }} as date)
            as wait_day
    from waits
    inner join day_offsets
        on day_offsets.day_offset
        <= {{ dbt.datediff(amokpi.day_of('waits.started_local'), amokpi.day_of('waits.ended_local'), 'day') }}
),

working_windows as (
    select
        wait_days.*,
        wait_days.wait_day + cast(working_hours.start_time as time) as window_start,
        wait_days.wait_day + cast(working_hours.end_time as time) as window_end
    from wait_days
    inner join working_hours
        on working_hours.iso_weekday = {{ amokpi.iso_weekday('wait_days.wait_day') }}
        and {{ amokpi.settings_for_account('working_hours', 'wait_days.account_id') }}
    left join holidays
        on wait_days.wait_day = holidays.day
        and {{ amokpi.settings_for_account('holidays', 'wait_days.account_id') }}
    where holidays.day is null
),

working_overlaps as (
    select
        account_id,
        lead_id,
        case when least(ended_local, window_end) > greatest(started_local, window_start)
                then {{ amokpi.minutes_between('greatest(started_local, window_start)', 'least(ended_local, window_end)') }}  -- noqa: LT05
            else 0
        end as working_minutes
    from working_windows
),

final as (
    select
        waits.account_id,
        waits.lead_id,
        cast(coalesce(sum(working_overlaps.working_minutes), 0) as {{ amokpi.type_double() }})
            as first_response_working_minutes
    from waits
    left join working_overlaps
        on waits.account_id = working_overlaps.account_id
        and waits.lead_id = working_overlaps.lead_id
    group by 1, 2
)

select * from final
