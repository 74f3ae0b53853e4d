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


def test_a_range_of_months_equal_to_a_period_gives_the_period_s_row(demo_warehouse) -> None:
    """mart_manager_kpi_ranges (a view in the published copy, computed for the range asked) and
    mart_manager_kpi_periods share one SQL (amokpi.kpi_over_periods): each quarter and year to date whose
    first month has data, asked as a range, gives the period mart's rows, every KPI (to float rounding)."""
    import math

    serving = demo_warehouse.serving
    ((kind,),) = query(serving, "select table_type from information_schema.tables"
                                " where table_name = 'mart_manager_kpi_ranges'")
    assert kind == "VIEW"  # not materialised: every range is there without storing every range
    with duckdb.connect(str(serving), read_only=True) as con:
        columns = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_name = 'mart_manager_kpi_periods'"
            " and column_name <> 'period_type' order by ordinal_position").fetchall()]
        keys = ("kpi_grain", "manager_id", "group_id")
        order = "order by kpi_grain, manager_id nulls first, group_id nulls first"
        # a range ends with its last month with data: a running quarter's range ends with the newest month
        periods = con.execute(
            "select distinct p.period_type, p.period_start, p.period_end,"
            " least(p.period_end, last_day(max(m.month_start) over ()))"
            " from marts.mart_manager_kpi_periods p, marts.mart_department_kpi_monthly m"
            " where p.period_start in (select month_start from marts.mart_department_kpi_monthly) order by 2, 3"
        ).fetchall()
        assert {p[0] for p in periods} == {"quarter", "year_to_date"}
        assert any(end != range_end for _, _, end, range_end in periods)  # the running quarter is among them
        compared = 0
        for period_type, start, end, range_end in periods:
            want = con.execute(f"select {', '.join(columns)} from marts.mart_manager_kpi_periods"
                               f" where period_type = ? and period_start = ? and period_end = ? {order}",
                               [period_type, start, end]).fetchall()
            got = con.execute(f"select {', '.join(columns)} from marts.mart_manager_kpi_ranges"
                              f" where period_start = ? and period_end = ? {order}", [start, range_end]).fetchall()
            assert len(got) == len(want) > 0, (period_type, start, end)
            for row_got, row_want in zip(got, want, strict=True):
                assert row_got[3:len(keys) + 3] == row_want[3:len(keys) + 3]  # the same rows, period_end aside
                for name, a, b in zip(columns[3:], row_got[3:], row_want[3:], strict=True):
                    same = a == b or (isinstance(a, float) and math.isclose(a, b, rel_tol=1e-9))
                    assert same, (period_type, start, name, row_got[:6], a, b)
            compared += len(got)
    assert compared > 100
