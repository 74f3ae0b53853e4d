{#- is_lead_alert, the flag the report and the digests filter on, marks exactly the alerts about a lead: a lead
    and no month, where a manager alert has a month and no lead. -#}
select account_id, alert_id, is_lead_alert, lead_id, month_start
from {{ ref('mart_alerts') }}
where is_lead_alert <> (lead_id is not null)
    or is_lead_alert <> (month_start is null)
