{#- One row per alert the head of sales should look at, as of the build's snapshot time: the union
    of the alert rules, one intermediate model each (models/intermediate/alerts/int_alerts__*, all
    projected through amokpi.alert_columns, so the columns line up). An alert carries parameters
    (metric, values, threshold, period), not sentences: the report words it in the reader's
    language (streamlit_app/alert_text.py). -#}
with

no_first_response as (
    select * from {{ ref('int_alerts__no_first_response') }}
),

stuck_deal as (
    select * from {{ ref('int_alerts__stuck_deal') }}
),

below_team_average as (
    select * from {{ ref('int_alerts__below_team_average') }}
),

month_over_month_drop as (
    select * from {{ ref('int_alerts__month_over_month_drop') }}
),

high_activity_low_conversion as (
    select * from {{ ref('int_alerts__high_activity_low_conversion') }}
),

final as (
    select * from no_first_response
    union all
    select * from stuck_deal
    union all
    select * from below_team_average
    union all
    select * from month_over_month_drop
    union all
    select * from high_activity_low_conversion
)

select * from final
