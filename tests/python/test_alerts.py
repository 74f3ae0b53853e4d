"""mart_alerts on the real pipeline output: the generator's planted patterns raise the alerts they
should (and only for the planted managers), every alert honours the thresholds in the seeds, and
everything is measured at the build's snapshot time."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb

from ingestion.demo.account import PLANTED
from streamlit_app.alert_text import alert_message

BUSY = PLANTED["busy_unproductive_manager_id"]
SLOW = PLANTED["slow_responder_manager_id"]


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def alerts(path: Path, where: str = "true") -> list[dict[str, object]]:
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(f"select * from marts.mart_alerts where {where} order by alert_id")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def thresholds(path: Path) -> dict[str, float]:
    values = dict(query(path, "select key, value from staging.alert_thresholds"))
    ((sla,),) = query(path, "select max_minutes from staging.response_slas where sla_key = 'sla'")
    return {**values, "sla_minutes": sla}


def test_busy_unproductive_manager_alone_gets_the_high_activity_alert(demo_warehouse) -> None:
    serving = demo_warehouse.warehouse  # reads staging and intermediate too: not in the serving copy
    rows = query(serving, """
        select manager_id, metric_name, metric_value, comparison_value, months_in_window, calls_per_month,
            team_calls_per_month
        from marts.mart_alerts where alert_type = 'high_activity_low_conversion'""")
    assert [r[0] for r in rows] == [BUSY]
    _, metric, value, team, months, calls, team_calls = rows[0]
    limits = thresholds(serving)
    assert metric in ("call_to_deal_rate", "win_rate")
    assert value < team
    assert months == limits["high_activity_window_months"]
    assert calls > team_calls * (1 + limits["high_activity_calls_above_pct"] / 100)
    # the report words it from these parameters
    (alert,) = alerts(serving, "alert_type = 'high_activity_low_conversion'")
    assert "в месяц против" in alert_message(alert, "ru") and "calls a month" in alert_message(alert, "en")

    # the same figures recomputed from the manager mart: the window's calls per month and deals per call
    ((first_month, last_month),) = query(serving, """
        select cast(as_of_month_start - interval 3 month as date), cast(as_of_month_start - interval 1 month as date)
        from intermediate.int_account_as_of""")
    per_manager = query(serving, f"""
        select manager_id, sum(calls_count) * 1.0 / count(*), sum(deals_won_count) * 1.0 / sum(calls_count)
        from marts.mart_manager_kpi_monthly
        where month_start between '{first_month}' and '{last_month}'
        group by 1""")
    calls_per_month = {m: c for m, c, _ in per_manager}
    deals_per_call = {m: d for m, _, d in per_manager}
    assert max(calls_per_month, key=calls_per_month.get) == BUSY
    assert min(deals_per_call, key=deals_per_call.get) == BUSY
    if metric == "call_to_deal_rate":
        assert abs(value - deals_per_call[BUSY]) < 1e-12
    assert abs(calls - calls_per_month[BUSY]) < 1e-9


def test_every_alert_renders_in_both_languages(demo_warehouse) -> None:
    rows = alerts(demo_warehouse.warehouse)
    assert rows
    for alert in rows:
        for lang in ("ru", "en"):
            text = alert_message(alert, lang, "RUB")
            assert str(alert["manager_name"]) in text and "None" not in text and "nan" not in text, text


def test_slow_responder_has_the_most_first_response_alerts(demo_warehouse) -> None:
    serving = demo_warehouse.warehouse  # reads staging and intermediate too: not in the serving copy
    rows = query(serving, """
        select manager_id, metric_name, metric_value, severity
        from marts.mart_alerts where alert_type = 'no_first_response'""")
    assert rows, "the snapshot month has late first responses"
    alerts = Counter(r[0] for r in rows)
    late = Counter(r[0] for r in rows if r[1] == "first_response_minutes")
    (top, top_count), (_, runner_up_count) = alerts.most_common(2)
    assert top == SLOW and top_count > runner_up_count
    assert max(late, key=late.get) == SLOW
    # answered in hours, not minutes: typically over an hour late, and every one high severity
    slow = sorted(r[2] for r in rows if r[0] == SLOW and r[1] == "first_response_minutes")
    assert slow[len(slow) // 2] > 60
    assert {r[3] for r in rows if r[0] == SLOW} == {"high"}
    high = Counter(r[0] for r in rows if r[3] == "high")
    (top, top_count), (_, runner_up_count) = high.most_common(2)
    assert top == SLOW and top_count > runner_up_count

    # every late answer of the snapshot month is an alert, and nothing else is
    ((expected,),) = query(serving, f"""
        select count(*)
        from marts.fct_leads as leads
        cross join intermediate.int_account_as_of as as_of
        where not leads.is_deleted
          and leads.first_response_minutes > {thresholds(serving)['sla_minutes']}
          and date_trunc('month', timezone(as_of.timezone, timezone('UTC', leads.first_response_at)))
              = as_of.as_of_month_start""")
    assert sum(late.values()) == expected


def test_every_alert_honours_its_threshold(demo_warehouse) -> None:
    serving = demo_warehouse.warehouse  # reads staging and intermediate too: not in the serving copy
    limits = thresholds(serving)
    rows = query(serving, """
        select alert_type, metric_name, metric_value, threshold_value, deviation_rate from marts.mart_alerts""")
    assert {r[0] for r in rows} >= {"no_first_response", "high_activity_low_conversion"}
    for alert_type, metric, value, threshold, deviation in rows:
        if alert_type == "no_first_response":
            assert threshold == limits["sla_minutes"] and value > threshold, metric
        elif alert_type == "stuck_deal":
            assert threshold == limits["stuck_deal_days"] and value > threshold
        elif alert_type == "below_team_average":
            assert deviation < -limits["below_team_average_pct"] / 100 and value < threshold, metric
        elif alert_type == "month_over_month_drop":
            assert deviation < -limits["month_over_month_drop_pct"] / 100 and value < threshold, metric
        else:
            assert deviation < -limits["high_activity_conversion_below_pct"] / 100 and value < threshold


def test_alerts_are_measured_at_the_snapshot_time(demo_warehouse) -> None:
    serving = demo_warehouse.warehouse  # reads staging and intermediate too: not in the serving copy
    ((as_of_at, latest_month),) = query(serving, """
        select as_of_at, cast(as_of_month_start - interval 1 month as date) from intermediate.int_account_as_of""")
    detected = query(serving, "select distinct detected_at from marts.mart_alerts")
    assert detected == [(as_of_at,)]
    months = query(serving, """
        select distinct month_start from marts.mart_alerts
        where alert_type not in ('no_first_response', 'stuck_deal')""")
    assert months == [(latest_month,)]
    # a lead alert points at a lead; a manager alert at a month
    assert query(serving, """
        select count(*) from marts.mart_alerts
        where (alert_type in ('no_first_response', 'stuck_deal')) <> (lead_id is not null)
           or (lead_id is null) <> (month_start is not null)
           or is_lead_alert <> (alert_type in ('no_first_response', 'stuck_deal'))""") == [(0,)]
