"""What the messages say, selected by SQL from the published marts (the report's copy): nothing here
computes a KPI. Each function returns plain rows (dicts of mart columns) for `messages` to word.

Periods: "the month so far" is the latest month of mart_department_kpi_monthly (the build's snapshot
month), "the week so far" the week of mart_department_plan_weekly holding the build's snapshot day
(is_current_week), against its pro-rated plan to date; the funnel's drop-off is read for the latest
complete month, the month the comparison alerts evaluate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from amokpi.settings import PROJECT_ROOT, demo_seeds

Row = dict[str, Any]
SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"
RECIPIENTS = "notification_recipients.csv"


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> list[Row]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> Row | None:
    rows = _rows(con, sql, params)
    return rows[0] if rows else None


@dataclass
class Account:
    account_id: int
    account_name: str
    currency: str | None
    timezone: str
    month_start: date | None  # the month so far
    week_start: date | None  # the week so far
    complete_month_start: date | None  # the latest complete month


@dataclass
class HeadDigest:
    month: Row | None  # mart_department_kpi_monthly, the month so far
    weeks: list[Row]  # mart_department_plan_weekly: the week so far (its plan to date) and the week before
    behind: list[Row]  # managers behind: plan fulfilment below the department's, or a manager alert
    manager_alerts: list[Row]  # their manager-level alerts (mart_alerts)
    lead_alert_counts: list[Row]  # lead alerts per manager and rule
    drop_off: Row | None  # mart_funnel_stages: the stage that lost the most entering leads


@dataclass
class ManagerDigest:
    manager: Row | None  # mart_manager_kpi_monthly row of the month so far (plan, fulfilment)
    week: Row | None  # mart_manager_plan_weekly: the week so far against the pro-rated plan to date
    compared: Row | None  # mart_manager_comparison: the manager's row
    team: Row | None  # and the team-average row
    scorecard: list[Row] = field(default_factory=list)  # mart_manager_scorecard: KPI, target, actual
    lead_alerts: list[Row] = field(default_factory=list)  # lead alerts (SLA, stuck deals) with the card URL
    lead_alerts_total: int = 0


def recipients_csv() -> Path:
    """The recipients seed dbt loads: the demo account's under `AMOKPI_DEMO_SEEDS`, else the account's own."""
    return SEEDS / "demo" / RECIPIENTS if demo_seeds() else SEEDS / RECIPIENTS


def recipients(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> list[Row]:
    """The seed's rows for users the account has (dim_managers), read from the seed file itself: the
    addresses are contact details, which the published marts never carry (dbt tests the seed)."""
    return _rows(con, """
        select cast(r.account_id as bigint) as account_id, cast(r.user_id as bigint) as user_id,
            m.manager_name as user_name, r.recipient_role, r.language,
            nullif(trim(r.telegram_chat_id), '') as telegram_chat_id, nullif(trim(r.email), '') as email
        from read_csv(?, header = true, all_varchar = true) r
        inner join marts.dim_managers m
            on cast(r.account_id as bigint) = m.account_id and cast(r.user_id as bigint) = m.manager_id
        order by account_id, r.recipient_role, user_id""", [str(path or recipients_csv())])


def account(con: duckdb.DuckDBPyConnection, account_id: int) -> Account:
    row = _one(con, """
        select
            a.account_id, a.account_name, a.currency, a.timezone,
            (select max(month_start) from marts.mart_department_kpi_monthly d where d.account_id = a.account_id)
                as month_start,
            (select max(week_start) from marts.mart_department_plan_weekly w
             where w.account_id = a.account_id and w.is_current_week) as week_start,
            (select cast(max(month_start) - interval 1 month as date) from marts.mart_department_kpi_monthly d
             where d.account_id = a.account_id) as complete_month_start
        from marts.dim_accounts a
        where a.account_id = ?""", [account_id])
    if row is None:
        raise LookupError(f"account {account_id} is not in dim_accounts")
    return Account(int(row["account_id"]), str(row["account_name"]), row["currency"], str(row["timezone"]),
                   row["month_start"], row["week_start"], row["complete_month_start"])


def high_alerts(con: duckdb.DuckDBPyConnection, account_id: int) -> list[Row]:
    """Every high-severity alert of the build, lead alerts with their amoCRM card."""
    return _rows(con, """
        select a.*, l.lead_url
        from marts.mart_alerts a
        left join marts.fct_leads l on a.account_id = l.account_id and a.lead_id = l.lead_id
        where a.account_id = ? and a.severity = 'high'
        order by a.alert_type, a.manager_id, a.alert_id""", [account_id])


def head_digest(con: duckdb.DuckDBPyConnection, acc: Account) -> HeadDigest:
    a, month = acc.account_id, acc.month_start
    month_row = _one(con, "select * from marts.mart_department_kpi_monthly where account_id = ? and month_start = ?",
                     [a, month])
    weeks = _rows(con, """
        select * from marts.mart_department_plan_weekly
        where account_id = ? and week_start in (?, cast(? as date) - interval 7 day)
        order by week_start desc""", [a, acc.week_start, acc.week_start])
    behind = _rows(con, """
        with department as (
            select plan_fulfillment_rate from marts.mart_department_kpi_monthly
            where account_id = ? and month_start = ?
        ),
        alerted as (
            select distinct manager_id from marts.mart_alerts
            where account_id = ? and not is_lead_alert
        )
        select m.manager_id, m.manager_name, m.revenue_amount, m.plan_revenue_amount, m.plan_fulfillment_rate,
            department.plan_fulfillment_rate as department_plan_fulfillment_rate
        from marts.mart_manager_kpi_monthly m
        cross join department
        where m.account_id = ? and m.month_start = ?
            and (m.plan_fulfillment_rate < department.plan_fulfillment_rate
                 or m.manager_id in (select manager_id from alerted))
        order by m.plan_fulfillment_rate nulls last, m.manager_name""", [a, month, a, a, month])
    manager_alerts = _rows(con, """
        select * from marts.mart_alerts
        where account_id = ? and not is_lead_alert
        order by manager_id, severity, deviation_rate, alert_type, metric_name""", [a])
    lead_counts = _rows(con, """
        select manager_id, alert_type, count(*) as alerts_count
        from marts.mart_alerts
        where account_id = ? and is_lead_alert
        group by manager_id, alert_type""", [a])
    drop_off = _one(con, """
        select pipeline_id, pipeline_name, status_id, status_name, month_start, leads_entered_count,
            leads_advanced_count, stage_conversion_rate
        from marts.mart_funnel_stages
        where account_id = ? and month_start = ? and stage_conversion_rate is not null
        order by leads_entered_count - leads_advanced_count desc, stage_conversion_rate, stage_sort
        limit 1""", [a, acc.complete_month_start])
    return HeadDigest(month_row, weeks, behind, manager_alerts, lead_counts, drop_off)


def manager_digest(con: duckdb.DuckDBPyConnection, acc: Account, manager_id: int, limit: int = 10) -> ManagerDigest:
    a, month = acc.account_id, acc.month_start
    manager = _one(con, """
        select * from marts.mart_manager_kpi_monthly where account_id = ? and month_start = ? and manager_id = ?""",
                   [a, month, manager_id])
    week = _one(con, """
        select * from marts.mart_manager_plan_weekly where account_id = ? and week_start = ? and manager_id = ?""",
                [a, acc.week_start, manager_id])
    compared = _rows(con, """
        select * from marts.mart_manager_comparison
        where account_id = ? and month_start = ? and (manager_id = ? or is_team_average)""", [a, month, manager_id])
    own = next((r for r in compared if not r["is_team_average"]), None)
    team = next((r for r in compared if r["is_team_average"]), None)
    scorecard = _rows(con, """
        select kpi, target, actual, attainment, total_score, is_kpi_met from marts.mart_manager_scorecard
        where account_id = ? and month_start = ? and manager_id = ?
        order by weight desc, kpi""", [a, month, manager_id])
    lead_sql = """
        from marts.mart_alerts a
        left join marts.fct_leads l on a.account_id = l.account_id and a.lead_id = l.lead_id
        where a.account_id = ? and a.manager_id = ? and a.is_lead_alert"""
    # still waiting first, then stuck deals, then answers that came late; the worst of each first
    leads = _rows(con, f"select a.*, l.lead_url {lead_sql} order by a.metric_name = 'waiting_minutes' desc, "
                       "a.alert_type desc, a.severity, a.metric_value desc, a.lead_id limit ?", [a, manager_id, limit])
    total = _one(con, f"select count(*) as n {lead_sql}", [a, manager_id])
    return ManagerDigest(manager, week, own, team, scorecard, leads, int(total["n"]) if total else 0)
