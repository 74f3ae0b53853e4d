{#- One row per alert the head of sales should look at, as of the build's snapshot time
    (int_account_as_of; never the wall clock). Thresholds come from the alert_thresholds seed and
    the first-response SLA from response_slas. Five rules:
    - no_first_response (per lead): an open lead still waiting for a first response longer than
      the SLA, or a lead first answered later than the SLA during the snapshot month;
    - stuck_deal (per lead): an open lead with no stage change, call or task for more than N days;
    - below_team_average (per manager × KPI): the latest complete month's KPI more than X % below
      the department's (rates) or the department's per-manager average (counts, amounts);
    - month_over_month_drop (per manager × KPI): the KPI fell more than X % from the month before;
    - high_activity_low_conversion (per manager): over the last complete months together, far more
      calls than the team's per-manager average but a much lower call-to-deal or win rate.
    Every rule fires strictly past its threshold: a value exactly at it does not alert. -#}

{#- Message text templates ('@' stands for the expression): a rate in percent with one decimal, a
    count or an amount whole when it is whole (else one decimal, e.g. a team average of 3.2
    deals), a fraction as a whole percent, a month as YYYY-MM. -#}
{%- set rate_text = "cast(round(100 * (@), 1) as varchar) || ' %'" -%}
{%- set whole_text = "case when (@) = round(@, 0) then cast(cast(@ as bigint) as varchar)"
    ~ " else cast(round(@, 1) as varchar) end" -%}
{%- set percent_text = "cast(cast(round(100 * (@), 0) as bigint) as varchar) || ' %'" -%}
{%- set month_text = "substr(cast(@ as varchar), 1, 7)" -%}
{%- set double = amokpi.type_double() | trim -%}

{#- The manager KPIs the two comparison rules watch (all ↑ better). `base` is the count a rate
    stands on (its denominator), or the deals behind a count or amount; `kind` says how the team
    value is formed, `text` how a value reads in the message. -#}
{%- set watched_kpis = [
    {'name': 'win_rate', 'kind': 'rate', 'text': rate_text, 'base': 'deals_won_count + deals_lost_count',
     'label': 'доля выигранных сделок (win rate)'},
    {'name': 'lead_conversion_rate', 'kind': 'rate', 'text': rate_text, 'base': 'new_leads_count',
     'label': 'конверсия лидов в сделки'},
    {'name': 'revenue_amount', 'kind': 'amount', 'text': whole_text, 'base': 'deals_won_count',
     'label': 'выручка'},
    {'name': 'deals_won_count', 'kind': 'count', 'text': whole_text, 'base': 'deals_won_count',
     'label': 'выигранные сделки'},
] -%}

with

leads as (
    select * from {{ ref('fct_leads') }}
),

stage_history as (
    select * from {{ ref('int_lead_stage_history') }}
),

calls as (
    select * from {{ ref('int_calls_deduplicated') }}
),

tasks as (
    select * from {{ ref('stg_amocrm__tasks') }}
),

as_of as (
    select * from {{ ref('int_account_as_of') }}
),

manager_kpis as (
    select * from {{ ref('mart_manager_kpi_monthly') }}
),

department_kpis as (
    select * from {{ ref('mart_department_kpi_monthly') }}
),

alert_thresholds as (
    select * from {{ ref('alert_thresholds') }}
),

response_slas as (
    select * from {{ ref('response_slas') }}
),

-- every setting as a column, per account_id (empty: every account; the seed holds key/value rows)
threshold_sets as (
    select
        alert_thresholds.account_id,
        max(
            case when alert_thresholds.key = 'stuck_deal_days' then alert_thresholds.value end
        ) as stuck_deal_days,
        max(
            case when alert_thresholds.key = 'below_team_average_pct' then alert_thresholds.value end
        ) / 100.0 as below_team_average_fraction,
        max(
            case when alert_thresholds.key = 'month_over_month_drop_pct' then alert_thresholds.value end
        ) / 100.0 as month_over_month_drop_fraction,
        max(
            case when alert_thresholds.key = 'min_base_count' then alert_thresholds.value end
        ) as min_base_count,
        max(
            case when alert_thresholds.key = 'high_activity_calls_above_pct' then alert_thresholds.value end
        ) / 100.0 as high_activity_calls_above_fraction,
        max(
            case when alert_thresholds.key = 'high_activity_conversion_below_pct' then alert_thresholds.value end
        ) / 100.0 as high_activity_conversion_below_fraction,
        max(
            case when alert_thresholds.key = 'high_activity_window_months' then alert_thresholds.value end
        ) as high_activity_window_months,
        max(
            case when alert_thresholds.key = 'severity_high_factor' then alert_thresholds.value end
        ) as severity_high_factor
    from alert_thresholds
    group by 1
),

sla_sets as (
    select account_id, max(max_minutes) as sla_minutes
    from response_slas
    where sla_key = 'sla'
    group by 1
),

-- one row per account: its own value of each setting where it has one, else the shared value
thresholds as (
    select
        as_of.account_id,
        coalesce(own_thresholds.stuck_deal_days, shared_thresholds.stuck_deal_days)
            as stuck_deal_days,
        coalesce(own_thresholds.below_team_average_fraction, shared_thresholds.below_team_average_fraction)
            as below_team_average_fraction,
        coalesce(own_thresholds.month_over_month_drop_fraction, shared_thresholds.month_over_month_drop_fraction)
            as month_over_month_drop_fraction,
        coalesce(own_thresholds.min_base_count, shared_thresholds.min_base_count)
            as min_base_count,
        coalesce(
            own_thresholds.high_activity_calls_above_fraction,
            shared_thresholds.high_activity_calls_above_fraction
        ) as high_activity_calls_above_fraction,
        coalesce(
            own_thresholds.high_activity_conversion_below_fraction,
            shared_thresholds.high_activity_conversion_below_fraction
        ) as high_activity_conversion_below_fraction,
        coalesce(own_thresholds.high_activity_window_months, shared_thresholds.high_activity_window_months)
            as high_activity_window_months,
        coalesce(own_thresholds.severity_high_factor, shared_thresholds.severity_high_factor)
            as severity_high_factor,
        coalesce(own_slas.sla_minutes, shared_slas.sla_minutes) as sla_minutes
    from as_of
    left join threshold_sets as own_thresholds
        on as_of.account_id = own_thresholds.account_id
    left join threshold_sets as shared_thresholds
        on shared_thresholds.account_id is null
    left join sla_sets as own_slas
        on as_of.account_id = own_slas.account_id
    left join sla_sets as shared_slas
        on shared_slas.account_id is null
),

snapshot as (
    select
        as_of.account_id,
        as_of.timezone,
        as_of.as_of_at,
        as_of.as_of_month_start,
        -- the latest complete month is the one before the snapshot's month
        cast({{ dbt.dateadd('month', -1, 'as_of.as_of_month_start') }} as date) as latest_month_start,
        cast({{ dbt.dateadd('month', -2, 'as_of.as_of_month_start') }} as date) as previous_month_start
    from as_of
),

-- ── no_first_response ───────────────────────────────────────────────────────────────────────

waiting_leads as (
    -- open leads nobody has answered yet, waiting longer than the SLA at the snapshot time
    select
        leads.*,
        snapshot.as_of_at,
        thresholds.sla_minutes,
        thresholds.severity_high_factor,
        {{ amokpi.minutes_between('leads.created_at', 'snapshot.as_of_at') }} as waiting_minutes
    from leads
    inner join snapshot
        on leads.account_id = snapshot.account_id
    inner join thresholds
        on leads.account_id = thresholds.account_id
    where leads.is_open
        and not leads.is_deleted
        and leads.first_response_at is null
        and {{ amokpi.minutes_between('leads.created_at', 'snapshot.as_of_at') }} > thresholds.sla_minutes
),

late_answered_leads as (
    -- leads first answered during the snapshot month, later than the SLA
    select
        leads.*,
        snapshot.as_of_at,
        thresholds.sla_minutes,
        thresholds.severity_high_factor
    from leads
    inner join snapshot
        on leads.account_id = snapshot.account_id
    inner join thresholds
        on leads.account_id = thresholds.account_id
    where not leads.is_deleted
        and leads.first_response_minutes > thresholds.sla_minutes
        and {{ amokpi.month_of(amokpi.to_local('leads.first_response_at', 'snapshot.timezone')) }}
        = snapshot.as_of_month_start
),

no_first_response_alerts as (
    select
        account_id,
        'no_first_response' as alert_type,
        'high' as severity,
        manager_id,
        manager_name,
        lead_id,
        pipeline_id,
        pipeline_name,
        status_id,
        status_name,
        cast(null as date) as month_start,
        cast(null as bigint) as months_in_window,
        'waiting_minutes' as metric_name,
        waiting_minutes as metric_value,
        sla_minutes as threshold_value,
        cast(null as {{ double }}) as comparison_value,
        cast(null as {{ double }}) as deviation_rate,
        as_of_at as detected_at,
        'Нет первого ответа по сделке «' || coalesce(lead_name, '') || '» (#' || cast(lead_id as varchar)
        || ') уже ' || cast(cast(floor(waiting_minutes) as bigint) as varchar) || ' мин при SLA '
        || cast(cast(sla_minutes as bigint) as varchar) || ' мин; ответственный: '
        || coalesce(manager_name, cast(manager_id as varchar)) as message
    from waiting_leads

    union all

    select
        account_id,
        'no_first_response' as alert_type,
        case when first_response_minutes >= severity_high_factor * sla_minutes then 'high' else 'medium' end
            as severity,
        manager_id,
        manager_name,
        lead_id,
        pipeline_id,
        pipeline_name,
        status_id,
        status_name,
        cast(null as date) as month_start,
        cast(null as bigint) as months_in_window,
        'first_response_minutes' as metric_name,
        first_response_minutes as metric_value,
        sla_minutes as threshold_value,
        cast(null as {{ double }}) as comparison_value,
        cast(null as {{ double }}) as deviation_rate,
        as_of_at as detected_at,
        'Первый ответ по сделке «' || coalesce(lead_name, '') || '» (#' || cast(lead_id as varchar)
        || ') через ' || cast(cast(floor(first_response_minutes) as bigint) as varchar) || ' мин при SLA '
        || cast(cast(sla_minutes as bigint) as varchar) || ' мин; ответственный: '
        || coalesce(manager_name, cast(manager_id as varchar)) as message
    from late_answered_leads
),

-- ── stuck_deal ──────────────────────────────────────────────────────────────────────────────

lead_activity as (
    select account_id, lead_id, entered_at as activity_at from stage_history
    union all
    select account_id, lead_id, called_at as activity_at from calls where lead_id is not null
    union all
    select account_id, lead_id, created_at as activity_at from tasks where lead_id is not null
    union all
    select account_id, lead_id, completed_at as activity_at from tasks where lead_id is not null
),

last_activity as (
    select account_id, lead_id, max(activity_at) as last_activity_at
    from lead_activity
    group by 1, 2
),

idle_leads as (
    select
        leads.*,
        snapshot.as_of_at,
        thresholds.stuck_deal_days,
        thresholds.severity_high_factor,
        -- the lead's creation counts as activity (it opens the first stage visit anyway)
        {{ amokpi.days_between(
            'coalesce(last_activity.last_activity_at, leads.created_at)', 'snapshot.as_of_at'
        ) }} as idle_days
    from leads
    inner join snapshot
        on leads.account_id = snapshot.account_id
    left join last_activity
        on leads.account_id = last_activity.account_id
        and leads.lead_id = last_activity.lead_id
    inner join thresholds
        on leads.account_id = thresholds.account_id
    where leads.is_open
        and not leads.is_deleted
),

stuck_deal_alerts as (
    select
        account_id,
        'stuck_deal' as alert_type,
        case when idle_days >= severity_high_factor * stuck_deal_days then 'high' else 'medium' end as severity,
        manager_id,
        manager_name,
        lead_id,
        pipeline_id,
        pipeline_name,
        status_id,
        status_name,
        cast(null as date) as month_start,
        cast(null as bigint) as months_in_window,
        'idle_days' as metric_name,
        idle_days as metric_value,
        stuck_deal_days as threshold_value,
        cast(null as {{ double }}) as comparison_value,
        cast(null as {{ double }}) as deviation_rate,
        as_of_at as detected_at,
        'Сделка «' || coalesce(lead_name, '') || '» (#' || cast(lead_id as varchar) || ') на этапе «'
        || coalesce(status_name, cast(status_id as varchar)) || '» воронки «'
        || coalesce(pipeline_name, cast(pipeline_id as varchar)) || '» без активности '
        || cast(round(idle_days, 1) as varchar) || ' дн. (порог '
        || cast(cast(stuck_deal_days as bigint) as varchar) || ' дн.); ответственный: '
        || coalesce(manager_name, cast(manager_id as varchar)) as message
    from idle_leads
    where idle_days > stuck_deal_days
),

-- ── manager KPIs: below_team_average and month_over_month_drop ─────────────────────────────

manager_values as (
    {%- for kpi in watched_kpis %}
        select
            account_id,
            manager_id,
            manager_name,
            month_start,
            '{{ kpi.name }}' as metric_name,
            '{{ kpi.kind }}' as metric_kind,
            cast({{ kpi.name }} as {{ double }}) as metric_value,
            {{ kpi.base }} as base_count
        from manager_kpis
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

team_values as (
    -- rates: the department's rate; counts and amounts: the department total per manager
    {%- for kpi in watched_kpis %}
        select
            account_id,
            month_start,
            '{{ kpi.name }}' as metric_name,
            {%- if kpi.kind == 'rate' %}
                cast({{ kpi.name }} as {{ double }}) as team_value
            {%- else %}
                {{ amokpi.safe_divide(kpi.name, 'managers_count') }} as team_value
            {%- endif %}
        from department_kpis
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

below_team_candidates as (
    select
        manager_values.*,
        snapshot.as_of_at,
        team_values.team_value,
        thresholds.below_team_average_fraction,
        thresholds.severity_high_factor,
        (manager_values.metric_value - team_values.team_value) / team_values.team_value as deviation_rate
    from manager_values
    inner join snapshot
        on manager_values.account_id = snapshot.account_id
        and manager_values.month_start = snapshot.latest_month_start
    inner join team_values
        on manager_values.account_id = team_values.account_id
        and manager_values.month_start = team_values.month_start
        and manager_values.metric_name = team_values.metric_name
    inner join thresholds
        on manager_values.account_id = thresholds.account_id
    where team_values.team_value > 0
        and manager_values.metric_value is not null
        -- a rate needs a base to mean anything; a count or an amount is exact
        and (manager_values.metric_kind <> 'rate' or manager_values.base_count >= thresholds.min_base_count)
),

below_team_average_alerts as (
    select
        account_id,
        'below_team_average' as alert_type,
        case when -deviation_rate >= severity_high_factor * below_team_average_fraction then 'high' else 'medium' end
            as severity,
        manager_id,
        manager_name,
        cast(null as bigint) as lead_id,
        cast(null as bigint) as pipeline_id,
        cast(null as varchar) as pipeline_name,
        cast(null as bigint) as status_id,
        cast(null as varchar) as status_name,
        month_start,
        cast(1 as bigint) as months_in_window,
        metric_name,
        metric_value,
        team_value * (1 - below_team_average_fraction) as threshold_value,
        team_value as comparison_value,
        deviation_rate,
        as_of_at as detected_at,
        coalesce(manager_name, cast(manager_id as varchar)) || ': '
        || case metric_name
            {%- for kpi in watched_kpis %}
                when '{{ kpi.name }}' then '{{ kpi.label }} за '
                    || {{ month_text | replace('@', 'month_start') }} || ' — '
                    || {{ kpi.text | replace('@', 'metric_value') }} || ' против '
                    || {{ kpi.text | replace('@', 'team_value') }}
                    || '{{ " по отделу" if kpi.kind == "rate" else " в среднем на менеджера отдела" }}'
            {%- endfor %}
        end
        || ' (ниже на ' || {{ percent_text | replace('@', '-deviation_rate') }} || ', порог '
        || {{ percent_text | replace('@', 'below_team_average_fraction') }} || ')' as message
    from below_team_candidates
    where deviation_rate < -below_team_average_fraction
),

month_over_month_candidates as (
    select
        current_month.*,
        snapshot.as_of_at,
        previous_month.metric_value as previous_value,
        previous_month.month_start as previous_month_start,
        thresholds.month_over_month_drop_fraction,
        thresholds.severity_high_factor,
        (current_month.metric_value - previous_month.metric_value) / previous_month.metric_value as deviation_rate
    from manager_values as current_month
    inner join snapshot
        on current_month.account_id = snapshot.account_id
        and current_month.month_start = snapshot.latest_month_start
    inner join manager_values as previous_month
        on current_month.account_id = previous_month.account_id
        and current_month.manager_id = previous_month.manager_id
        and current_month.metric_name = previous_month.metric_name
        and previous_month.month_start = snapshot.previous_month_start
    inner join thresholds
        on current_month.account_id = thresholds.account_id
    where previous_month.metric_value > 0
        and current_month.metric_value is not null
        -- the previous month must stand on enough deals or leads; a rate needs that in both months
        and previous_month.base_count >= thresholds.min_base_count
        and (current_month.metric_kind <> 'rate' or current_month.base_count >= thresholds.min_base_count)
),

month_over_month_drop_alerts as (
    select
        account_id,
        'month_over_month_drop' as alert_type,
        case when -deviation_rate >= severity_high_factor * month_over_month_drop_fraction then 'high' else 'medium' end
            as severity,
        manager_id,
        manager_name,
        cast(null as bigint) as lead_id,
        cast(null as bigint) as pipeline_id,
        cast(null as varchar) as pipeline_name,
        cast(null as bigint) as status_id,
        cast(null as varchar) as status_name,
        month_start,
        cast(1 as bigint) as months_in_window,
        metric_name,
        metric_value,
        previous_value * (1 - month_over_month_drop_fraction) as threshold_value,
        previous_value as comparison_value,
        deviation_rate,
        as_of_at as detected_at,
        coalesce(manager_name, cast(manager_id as varchar)) || ': '
        || case metric_name
            {%- for kpi in watched_kpis %}
                when '{{ kpi.name }}' then '{{ kpi.label }} — '
                    || {{ kpi.text | replace('@', 'previous_value') }}
                    || ' за ' || {{ month_text | replace('@', 'previous_month_start') }}
                    || ' → ' || {{ kpi.text | replace('@', 'metric_value') }}
                    || ' за ' || {{ month_text | replace('@', 'month_start') }}
            {%- endfor %}
        end
        || ' (падение на ' || {{ percent_text | replace('@', '-deviation_rate') }} || ', порог '
        || {{ percent_text | replace('@', 'month_over_month_drop_fraction') }} || ')' as message
    from month_over_month_candidates
    where deviation_rate < -month_over_month_drop_fraction
),

-- ── high_activity_low_conversion ────────────────────────────────────────────────────────────

window_months as (
    -- the complete months the rule sums over, ending with the latest complete month
    select
        manager_kpis.*,
        snapshot.latest_month_start,
        snapshot.as_of_at
    from manager_kpis
    inner join snapshot
        on manager_kpis.account_id = snapshot.account_id
    inner join thresholds
        on manager_kpis.account_id = thresholds.account_id
    where {{ dbt.datediff('manager_kpis.month_start', 'snapshot.latest_month_start', 'month') }}
        between 0 and thresholds.high_activity_window_months - 1
),

window_managers as (
    select
        account_id,
        manager_id,
        max(manager_name) as manager_name,
        max(latest_month_start) as month_start,
        max(as_of_at) as as_of_at,
        count(*) as months_count,
        sum(calls_count) as calls_count,
        sum(deals_won_count) as deals_won_count,
        sum(deals_won_count + deals_lost_count) as deals_closed_count
    from window_months
    group by 1, 2
),

window_team as (
    -- the department over the same months: calls per manager-month, rates from summed counts
    select
        department_kpis.account_id,
        sum(department_kpis.managers_count) as manager_months_count,
        sum(department_kpis.calls_count) as calls_count,
        sum(department_kpis.deals_won_count) as deals_won_count,
        sum(department_kpis.deals_won_count + department_kpis.deals_lost_count) as deals_closed_count
    from department_kpis
    inner join snapshot
        on department_kpis.account_id = snapshot.account_id
    inner join thresholds
        on department_kpis.account_id = thresholds.account_id
    where {{ dbt.datediff('department_kpis.month_start', 'snapshot.latest_month_start', 'month') }}
        between 0 and thresholds.high_activity_window_months - 1
    group by 1
),

window_rates as (
    select
        window_managers.account_id,
        window_managers.manager_id,
        window_managers.manager_name,
        window_managers.month_start,
        window_managers.as_of_at,
        window_managers.months_count,
        {{ amokpi.safe_divide('window_managers.calls_count', 'window_managers.months_count') }}
            as calls_per_month,
        {{ amokpi.safe_divide('window_team.calls_count', 'window_team.manager_months_count') }}
            as team_calls_per_month,
        {{ amokpi.safe_divide('window_managers.deals_won_count', 'window_managers.calls_count') }}
            as call_to_deal_rate,
        {{ amokpi.safe_divide('window_team.deals_won_count', 'window_team.calls_count') }}
            as team_call_to_deal_rate,
        case when window_managers.deals_closed_count >= thresholds.min_base_count
                then {{ amokpi.safe_divide('window_managers.deals_won_count', 'window_managers.deals_closed_count') }}
        end as win_rate,
        {{ amokpi.safe_divide('window_team.deals_won_count', 'window_team.deals_closed_count') }} as team_win_rate,
        thresholds.high_activity_calls_above_fraction,
        thresholds.high_activity_conversion_below_fraction,
        thresholds.high_activity_window_months,
        thresholds.severity_high_factor
    from window_managers
    inner join window_team
        on window_managers.account_id = window_team.account_id
    inner join thresholds
        on window_managers.account_id = thresholds.account_id
),

window_deviations as (
    select
        window_rates.*,
        (calls_per_month - team_calls_per_month) / team_calls_per_month as calls_deviation_rate,
        case when team_call_to_deal_rate > 0
                then (call_to_deal_rate - team_call_to_deal_rate) / team_call_to_deal_rate
        end as call_to_deal_deviation_rate,
        case when team_win_rate > 0
                then (win_rate - team_win_rate) / team_win_rate
        end as win_rate_deviation_rate
    from window_rates
    where team_calls_per_month > 0
),

high_activity_candidates as (
    -- the conversion that is low: call_to_deal_rate when it is, else win_rate
    select
        window_deviations.*,
        case
            when call_to_deal_deviation_rate < -high_activity_conversion_below_fraction then 'call_to_deal_rate'
            when win_rate_deviation_rate < -high_activity_conversion_below_fraction then 'win_rate'
        end as metric_name
    from window_deviations
    where calls_deviation_rate > high_activity_calls_above_fraction
),

high_activity_low_conversion_alerts as (
    select
        account_id,
        'high_activity_low_conversion' as alert_type,
        case
            when -(case metric_name when 'call_to_deal_rate' then call_to_deal_deviation_rate
                    else win_rate_deviation_rate
                end)
                >= severity_high_factor * high_activity_conversion_below_fraction then 'high'
            else 'medium'
        end as severity,
        manager_id,
        manager_name,
        cast(null as bigint) as lead_id,
        cast(null as bigint) as pipeline_id,
        cast(null as varchar) as pipeline_name,
        cast(null as bigint) as status_id,
        cast(null as varchar) as status_name,
        month_start,
        cast(months_count as bigint) as months_in_window,
        metric_name,
        case metric_name when 'call_to_deal_rate' then call_to_deal_rate else win_rate end as metric_value,
        case metric_name when 'call_to_deal_rate' then team_call_to_deal_rate else team_win_rate end
        * (1 - high_activity_conversion_below_fraction) as threshold_value,
        case metric_name when 'call_to_deal_rate' then team_call_to_deal_rate else team_win_rate end
            as comparison_value,
        case metric_name when 'call_to_deal_rate' then call_to_deal_deviation_rate else win_rate_deviation_rate end
            as deviation_rate,
        as_of_at as detected_at,
        coalesce(manager_name, cast(manager_id as varchar)) || ': '
        || cast(cast(round(calls_per_month, 0) as bigint) as varchar) || ' звонков в месяц против '
        || cast(cast(round(team_calls_per_month, 0) as bigint) as varchar)
        || ' в среднем на менеджера отдела (+' || {{ percent_text | replace('@', 'calls_deviation_rate') }}
        || '), но '
        || case metric_name
            when 'call_to_deal_rate'
                then 'конверсия звонков в сделки '
                    || {{ rate_text | replace('@', 'call_to_deal_rate') }} || ' против '
                    || {{ rate_text | replace('@', 'team_call_to_deal_rate') }}
                    || ' (ниже на ' || {{ percent_text | replace('@', '-call_to_deal_deviation_rate') }} || ')'
            else 'доля выигранных сделок ' || {{ rate_text | replace('@', 'win_rate') }} || ' против '
                || {{ rate_text | replace('@', 'team_win_rate') }}
                || ' (ниже на ' || {{ percent_text | replace('@', '-win_rate_deviation_rate') }} || ')'
        end
        || ' за ' || cast(months_count as varchar) || ' мес. по '
        || {{ month_text | replace('@', 'month_start') }}
        || ': много активности, мало результата — нужен разбор звонков и обучение' as message
    from high_activity_candidates
    where metric_name is not null
),

alerts as (
    select * from no_first_response_alerts
    union all
    select * from stuck_deal_alerts
    union all
    select * from below_team_average_alerts
    union all
    select * from month_over_month_drop_alerts
    union all
    select * from high_activity_low_conversion_alerts
),

final as (
    select
        account_id,
        alert_type || ':' || case
            when lead_id is not null then 'lead:' || cast(lead_id as varchar)
            else 'manager:' || cast(manager_id as varchar) || ':' || metric_name || ':' || cast(month_start as varchar)
        end as alert_id,
        alert_type,
        severity,
        manager_id,
        manager_name,
        lead_id,
        pipeline_id,
        pipeline_name,
        status_id,
        status_name,
        month_start,
        months_in_window,
        metric_name,
        cast(metric_value as {{ double }}) as metric_value,
        cast(threshold_value as {{ double }}) as threshold_value,
        cast(comparison_value as {{ double }}) as comparison_value,
        cast(deviation_rate as {{ double }}) as deviation_rate,
        detected_at,
        message
    from alerts
)

select * from final
