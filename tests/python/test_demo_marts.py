"""The marts of the demo warehouse (a generated account through the whole pipeline): plausible
figures for every manager and pipeline, and the generator's planted patterns visible in them."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.demo.account import PLANTED


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_marts_cover_every_manager_and_pipeline(demo_warehouse) -> None:
    serving = demo_warehouse.serving
    managers = {u["id"] for u in demo_warehouse.account.users if u["rights"]["group_id"]}
    with_rows = {m for (m,) in query(serving, "select distinct manager_id from marts.mart_manager_kpi_monthly")}
    assert with_rows == managers
    for manager_id, calls, leads, won in query(serving, """
            select manager_id, sum(calls_count), sum(new_leads_count), sum(deals_won_count)
            from marts.mart_manager_kpi_monthly group by 1"""):
        assert calls > 0 and leads > 0 and won > 0, manager_id
    pipelines = {p["id"]: p["is_archive"] for p in demo_warehouse.account.pipelines}
    funnel = dict(query(serving, """select pipeline_id, sum(leads_entered_count)
                                    from marts.mart_funnel_stages group by 1"""))
    assert set(funnel) == set(pipelines)
    assert all(n > 0 for p, n in funnel.items() if not pipelines[p])  # the archived one has no leads
    months = query(serving, """select month_start, revenue_amount, win_rate, lead_conversion_rate
                               from marts.mart_department_kpi_monthly order by 1""")
    assert len(months) == 12
    for month, revenue, win_rate, conversion in months[1:]:  # the first month is still ramping up
        assert revenue > 0 and 0.05 < win_rate < 0.6 and 0 < conversion < 0.5, month


def test_department_counts_equal_the_sum_of_manager_rows(demo_warehouse) -> None:
    mismatches = query(demo_warehouse.serving, """
        select d.month_start
        from marts.mart_department_kpi_monthly as d
        join (select month_start, sum(calls_count) as calls, sum(deals_won_count) as won,
                     sum(new_leads_count) as leads, sum(revenue_amount) as revenue
              from marts.mart_manager_kpi_monthly group by 1) as m using (month_start)
        where d.calls_count <> m.calls or d.deals_won_count <> m.won
           or d.new_leads_count <> m.leads or abs(d.revenue_amount - m.revenue) > 0.001""")
    assert mismatches == []


def test_planted_patterns_show_in_the_marts(demo_warehouse) -> None:
    rows = query(demo_warehouse.serving, """
        select manager_id,
               median(first_response_minutes_median) as typical_first_response,
               sum(calls_count) * 1.0 / nullif(sum(deals_won_count), 0) as calls_per_win,
               sum(calls_count) as calls
        from marts.mart_manager_kpi_monthly group by 1""")
    by_response = max(rows, key=lambda r: r[1])
    assert by_response[0] == PLANTED["slow_responder_manager_id"]
    assert by_response[1] > 60  # hours, not minutes
    by_calls_per_win = max(rows, key=lambda r: r[2] or 0)
    assert by_calls_per_win[0] == PLANTED["busy_unproductive_manager_id"]
    assert max(rows, key=lambda r: r[3])[0] == PLANTED["busy_unproductive_manager_id"]
