"""Stand-ins for the project's dbt macros, so sqlfluff's jinja templater can render the models:
each returns SQL of the same shape (an expression, or a column list) without dispatching."""


def type_double():
    return "double"


def safe_divide(numerator, denominator):
    return f"({numerator}) / nullif({denominator}, 0)"


def from_unix(column):
    return f"to_timestamp({column})"


def to_unix(ts):
    return f"cast(epoch({ts}) as bigint)"


def json_bigint(column, path):
    return f"cast(json_value({column}, '{path}') as bigint)"


def json_text(column, path):
    return f"json_value({column}, '{path}')"


def json_path_value(column, path):
    return f"json_value({column}, '{path}')"


def month_of(local_ts):
    return f"date_trunc('month', {local_ts})"


def day_of(local_ts):
    return f"cast({local_ts} as date)"


def next_month(month_start):
    return f"({month_start} + interval 1 month)"


def to_local(ts, tz):
    return f"timezone({tz}, {ts})"


def local_to_utc(ts, tz):
    return f"timezone({tz}, {ts})"


def percentile(expression, fraction):
    return f"quantile_cont({expression}, {fraction})"


def join_json_array_elements(json_expr, alias):
    return f"cross join unnest({json_expr}) as {alias}"


def minutes_between(start_ts, end_ts):
    return f"datediff('minute', {start_ts}, {end_ts})"


def hours_between(start_ts, end_ts):
    return f"datediff('hour', {start_ts}, {end_ts})"


def days_between(start_ts, end_ts):
    return f"datediff('day', {start_ts}, {end_ts})"


def period_covers(periods, ts):
    return f"({ts} between {periods}.starts_at and {periods}.ends_at)"


def card_type(entity_type):
    return f"lower({entity_type})"


def iso_weekday(day):
    return f"isodow({day})"


def as_of_timestamp(fallback_expression):
    return f"({fallback_expression})"


def kpi_fact_columns(values=None):
    return "null as kpi_fact_columns"


def kpi_monthly_columns(relation=None):
    return "null as kpi_monthly_columns"


def funnel_stage_columns(relation=None):
    return "null as funnel_stage_columns"


def scorecard_kpi_columns():
    return "null as scorecard_kpi_columns"


def scorecard_kpi_value(relation, kpi_column, kpis):
    return f"{relation}.{kpi_column}"


def settings_for_account(settings, account_id):
    return f"({settings}.account_id = {account_id} or {settings}.account_id is null)"


def kpi_registry():
    # the registry's rows with the fields the models read (this module is itself named amokpi, so it
    # reads the CSV rather than importing amokpi.kpis)
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "seeds" / "kpi_registry.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [dict(row, name=row["kpi_name"], data_type="bigint" if row["unit"] == "count" else "double")
            for row in rows]



def kpi_monthly_values():
    values = [
        (safe_divide(k["numerator"], k["denominator"]) if k["numerator"] else f"cast({k['name']} as {k['data_type']})")
        + f" as {k['name']}"
        for k in kpi_registry()
    ]
    return ",\n        ".join(values)


def comparison_kpi_columns(relation, is_team_average):
    return "".join(f"cast({relation}.{k['name']} as double) as {k['name']},\n        "
                   for k in kpi_registry() if k["is_compared"] == "true")


def kpi_direction(kpi_column):
    return f"case {kpi_column} when 'revenue_amount' then 'up' end"


def kpi(kpi_name):
    return next(entry for entry in kpi_registry() if entry["name"] == kpi_name)


def kpi_expression(expression, relation):
    import re

    return re.sub(r"([a-z_][a-z0-9_]*)", rf"{relation}.\1", expression)


def kpi_ratio(kpi_name, relation):
    entry = kpi(kpi_name)
    return safe_divide(kpi_expression(entry["numerator"], relation), kpi_expression(entry["denominator"], relation))


def kpi_base_columns(kpi_names):
    import re

    columns = []
    for name in kpi_names:
        entry = kpi(name)
        parts = [entry["numerator"], entry["denominator"], entry["alert_base"]] if entry["numerator"] else [name]
        for column in re.findall(r"[a-z_][a-z0-9_]*", " ".join(p for p in parts if p)):
            if column not in columns:
                columns.append(column)
    return columns


def alert_kpis():
    return [entry for entry in kpi_registry() if entry["alert_base"]]


def alert_columns(alert_type, subject, extra=()):
    taken = {"lead": ["lead_id", "lead_name", "pipeline_id", "pipeline_name", "status_id", "status_name"],
             "manager": ["month_start", "months_in_window", "comparison_value", "deviation_rate"]}[subject]
    names = ["account_id", "severity", "manager_id", "manager_name", *taken, "metric_name", "metric_value",
             "threshold_value", *extra, "detected_at"]
    return ",\n        ".join([f"'{alert_type}:' || cast(lead_id as varchar) as alert_id",
                               f"'{alert_type}' as alert_type"]
                              + [f"cast({name} as double) as {name}" for name in names])


def alert_kpi_values(relation):
    return "\n        union all\n        ".join(
        f"select account_id, manager_id, manager_name, month_start, '{k['name']}' as metric_name,"
        f" true as is_additive, cast({k['name']} as double) as metric_value, {k['alert_base']} as base_count"
        f" from {relation}"
        for k in alert_kpis()
    )


def kpi_lead_kpis():
    return [entry for entry in kpi_registry() if entry.get("lead_condition")]


def kpi_lead_count(kpi_name):
    return f"sum(case when {kpi(kpi_name)['lead_condition']} then 1 else 0 end)"


def funnel_lead_counts():
    return [{"name": "leads_entered_count", "condition": "is_entered"},
            {"name": "leads_reached_count", "condition": "is_cohort_member and is_reached"}]


def funnel_lead_count(count_name):
    return "sum(case when is_entered then 1 else 0 end)"


def kpi_lead_rows(relation):
    return ("select account_id, month_start, manager_id, 'deals_won_count' as kpi_name, lead_id,"
            f" count(*) as facts_count from {relation} group by 1, 2, 3, 4, 5")


def funnel_stage_lead_rows(relation):
    return (f"select account_id, pipeline_id, status_id, month_start, 'leads_entered_count' as kpi_name, lead_id,"
            f" manager_id from {relation}")


def column_or_null(relation, column, data_type):
    return f"cast({column} as {data_type})"


def kpi_aggregates():
    return "count(distinct manager_id) as managers_count, sum(case when is_call then 1 else 0 end) as calls_count"


def kpi_pipeline_aggregates():
    return "sum(case when is_deal_won then 1 else 0 end) as deals_won_count"


def kpi_pipeline_values():
    return "cast(deals_won_count as bigint) as deals_won_count"


def kpi_lead_any_condition():
    return "(is_new_lead or is_deal_won)"


def kpi_over_periods():
    # the period marts' body after their import CTEs: reads the four CTEs the caller defines, ends in `final`
    return ("final as (\n    select *\n    from period_months\n    inner join kpi_facts_all on 1 = 1\n"
            "    inner join kpi_components on 1 = 1\n"
            "    inner join sales_plans on 1 = 1\n    inner join customer_lifetime on 1 = 1\n)")


def kpi_component_aggregates():
    return ("cast(sum(case when fact_type = 'spine' then 1 else 0 end) as bigint) as spine_rows_count,\n"
            "        cast(sum(case when is_call then 1 else 0 end) as bigint) as calls_count")


def inline():
    return ""


def week_of(day):
    return f"cast(date_trunc('week', {day}) as date)"


def kpi_won_deal_week_rows():
    return ("select account_id, manager_id, month_start, week_start, 1 as deals_won_count,"
            " 0.0 as revenue_amount from kpi_facts inner join lead_milestones using (lead_id)"
            " inner join as_of using (account_id)")


def plan_fulfillment_to_date(revenue, plan_to_date):
    return safe_divide(f"coalesce({revenue}, 0)", plan_to_date)
