"""Drill-down and period marts on the demo warehouse: the lead lists behind a figure count exactly
the figure (fct_kpi_leads, fct_funnel_stage_leads), quarters are their months' counts summed with
ratios re-formed from the sums (mart_manager_kpi_periods), and a lead's card link comes from
dim_accounts.crm_base_url, which keeps only a scheme and host."""

from __future__ import annotations

import duckdb
import pytest

from amokpi.kpis import registry
from ingestion.amocrm.urls import origin_url

LEAD_KPIS = [kpi.name for kpi in registry().values() if kpi.lead_condition]
FUNNEL_COUNTS = ("leads_entered_count", "leads_advanced_count", "leads_lost_count", "leads_reached_count")


def _connect(path):
    return duckdb.connect(str(path), read_only=True)


def test_origin_url_keeps_only_scheme_and_host() -> None:
    assert origin_url("https://acme.amocrm.ru/api/v4?access_token=secret") == "https://acme.amocrm.ru"
    assert origin_url("https://user:pw@acme.kommo.com:443/x") == "https://acme.kommo.com"
    assert origin_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert origin_url("not a url") is None


def test_lead_count_kpis_are_declared_with_their_condition() -> None:
    assert {"new_leads_count", "deals_won_count", "deals_lost_count", "leads_won_from_cohort_count",
            "leads_qualified_count", "proposals_sent_count", "presentations_count",
            "leads_lost_from_cohort_count", "leads_answered_within_sla_count"} <= set(LEAD_KPIS)
    assert registry()["deals_won_count"].lead_condition == "is_win_rate_eligible and is_deal_won"


def test_manager_lead_lists_equal_the_manager_kpis(demo_warehouse) -> None:
    with _connect(demo_warehouse.serving) as con:
        # the busiest manager-months: their figures are the ones a reader drills into
        months = con.execute("""
            select manager_id, month_start from marts.mart_manager_kpi_monthly
            order by new_leads_count + deals_won_count desc, manager_id, month_start limit 4""").fetchall()
        assert months
        checked = 0
        for manager_id, month_start in months:
            for kpi in LEAD_KPIS:
                figure = con.execute(f"""
                    select {kpi} from marts.mart_manager_kpi_monthly
                    where manager_id = ? and month_start = ?""", [manager_id, month_start]).fetchone()[0]
                leads = con.execute("""
                    select lead_id, facts_count from marts.fct_kpi_leads
                    where manager_id = ? and month_start = ? and kpi_name = ?""",
                                    [manager_id, month_start, kpi]).fetchall()
                assert sum(n for _, n in leads) == figure, (manager_id, month_start, kpi)
                assert len({lead for lead, _ in leads}) == len(leads)
                checked += figure
        assert checked > 0
        # the department's list is the union of its managers' rows
        latest = "select month_start from marts.mart_department_kpi_monthly order by month_start desc limit 2"
        for (month_start,) in con.execute(latest).fetchall():
            figure = con.execute("select deals_won_count from marts.mart_department_kpi_monthly where month_start = ?",
                                 [month_start]).fetchone()[0]
            listed = con.execute("""select coalesce(sum(facts_count), 0) from marts.fct_kpi_leads
                                    where month_start = ? and kpi_name = 'deals_won_count'""",
                                 [month_start]).fetchone()[0]
            assert listed == figure
        # every listed lead has a card in fct_leads (name, pipeline, stage for display)
        orphans = con.execute("""select count(*) from marts.fct_kpi_leads as kpi_leads
                                 left join marts.fct_leads as leads on kpi_leads.lead_id = leads.lead_id
                                 where leads.lead_id is null""").fetchone()[0]
        assert orphans == 0


def test_stage_lead_lists_equal_the_funnel_marts(demo_warehouse) -> None:
    with _connect(demo_warehouse.serving) as con:
        stages = con.execute("""
            select pipeline_id, status_id, month_start from marts.mart_funnel_stages
            where leads_entered_count > 0 order by leads_entered_count desc, pipeline_id, status_id, month_start
            limit 4""").fetchall()
        assert stages
        for pipeline_id, status_id, month_start in stages:
            for count in FUNNEL_COUNTS:
                key = [pipeline_id, status_id, month_start]
                figure = con.execute(f"""select {count} from marts.mart_funnel_stages
                    where pipeline_id = ? and status_id = ? and month_start = ?""", key).fetchone()[0]
                listed = con.execute("""select count(*) from marts.fct_funnel_stage_leads
                    where pipeline_id = ? and status_id = ? and month_start = ? and kpi_name = ?""",
                                     [*key, count]).fetchone()[0]
                assert listed == figure, (*key, count)
                by_manager = dict(con.execute(f"""select manager_id, {count} from marts.mart_manager_funnel_stages
                    where pipeline_id = ? and status_id = ? and month_start = ? and {count} > 0""", key).fetchall())
                listed_by_manager = dict(con.execute("""select manager_id, count(*) from marts.fct_funnel_stage_leads
                    where pipeline_id = ? and status_id = ? and month_start = ? and kpi_name = ?
                    group by 1""", [*key, count]).fetchall())
                assert listed_by_manager == by_manager, (*key, count)


def test_quarters_sum_their_months_and_form_ratios_from_the_sums(demo_warehouse) -> None:
    win_rate = registry()["win_rate"]
    assert (win_rate.numerator, win_rate.denominator) == ("deals_won_count", "deals_won_count + deals_lost_count")
    with _connect(demo_warehouse.serving) as con:
        quarters = con.execute("""
            select manager_id, period_start, period_end, new_leads_count, leads_won_from_cohort_count,
                deals_won_count, deals_lost_count, revenue_amount, win_rate, lead_conversion_rate, avg_deal_amount
            from marts.mart_manager_kpi_periods
            where period_type = 'quarter' and kpi_grain = 'manager' and months_count = 3
            order by deals_won_count desc, manager_id, period_start limit 5""").fetchall()
        assert quarters
        for manager_id, start, end, new, won_cohort, won, lost, revenue, rate, conversion, avg_deal in quarters:
            months = con.execute("""
                select sum(new_leads_count), sum(leads_won_from_cohort_count), sum(deals_won_count),
                    sum(deals_lost_count), sum(revenue_amount), count(*)
                from marts.mart_manager_kpi_monthly
                where manager_id = ? and month_start between ? and ?""", [manager_id, start, end]).fetchone()
            assert (new, won_cohort, won, lost) == months[:4]
            assert revenue == pytest.approx(months[4])
            assert rate == (None if won + lost == 0 else pytest.approx(won / (won + lost)))
            assert conversion == (None if new == 0 else pytest.approx(won_cohort / new))
            assert avg_deal == (None if won == 0 else pytest.approx(revenue / won))
        # the department's quarter equals the sum of its months too
        for start, end, won, lost in con.execute("""
                select period_start, period_end, deals_won_count, deals_lost_count from marts.mart_manager_kpi_periods
                where period_type = 'quarter' and kpi_grain = 'department'""").fetchall():
            assert (won, lost) == con.execute("""
                select sum(deals_won_count), sum(deals_lost_count) from marts.mart_department_kpi_monthly
                where month_start between ? and ?""", [start, end]).fetchone()


def test_lead_card_links_use_the_account_host_and_no_secret(demo_warehouse) -> None:
    with _connect(demo_warehouse.warehouse) as con:
        raw = con.execute("select _base_url, subdomain from raw_amocrm.account").fetchall()
        (crm_base_url,) = con.execute("select crm_base_url from marts.dim_accounts").fetchone()
        links = con.execute("select lead_id, lead_url from marts.fct_leads").fetchall()
    # the demo serves the API on a local address: recorded as its origin only
    assert all(base.startswith("http://127.0.0.1:") and base.count("/") == 2 for base, _ in raw)
    # not an amoCRM host, so the link falls back to the subdomain's amoCRM address
    assert crm_base_url == f"https://{raw[0][1]}.amocrm.ru"
    # every lead's card address is made once, in dbt (fct_leads.lead_url), from that host
    assert links and all(url == f"{crm_base_url}/leads/detail/{lead}" for lead, url in links)
