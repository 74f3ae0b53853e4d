"""The only module that opens DuckDB: read-only, parameterised selects from schema `marts`.

Every query is fixed SQL text; filters arrive only as bound parameters. Optional filters use the
`(? is null or column = ?)` form, so one statement serves "all" and "one" without building SQL.

Every function that reads account data takes the reader's `Access` first and filters by it in the SQL
(bound parameters, never by hiding widgets): a head of sales sees every manager, a team lead the managers
of their team, a manager only themself, by name and by lead; team and department totals and averages
are figures of no one person and stay visible to whoever may see the account. `Access.everyone()` is the
open, single-user report (no sign-in configured, loopback only: streamlit_app/signin.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from amokpi.kpis import registry
from amokpi.settings import report_file

# The marts the report cannot open without; the others are optional and their pages explain absence.
MARTS = ("mart_department_kpi_monthly", "mart_manager_kpi_monthly", "mart_funnel_stages")
QUALITY_MART = "data_quality_runs"

KPI_COLUMNS = (
    "revenue_amount", "deals_won_count", "avg_deal_amount", "win_rate", "lead_conversion_rate",
    "calls_count", "meetings_count", "first_response_minutes_median",
)
PLAN_COLUMNS = ("plan_revenue_amount", "plan_deals_count", "plan_fulfillment_rate")
# The overview's KPIs that add up across managers (the registry's is_additive): what a team's overview can
# show without a team mart, as sums of its managers' rows, since a rate or a median cannot be summed.
ADDITIVE_COLUMNS = tuple(
    c for c in (*KPI_COLUMNS, "new_leads_count", *PLAN_COLUMNS) if c in registry() and registry()[c].is_additive
)
FUNNEL_COLUMNS = (
    "status_name", "stage_role", "leads_entered_count", "leads_advanced_count", "leads_lost_count",
    "stage_conversion_rate", "cohort_leads_count", "leads_reached_count", "cumulative_conversion_rate",
    "median_hours_in_stage", "p90_hours_in_stage", "open_leads_count", "pipeline_open_amount",
)
MANAGER_COLUMNS = (
    "manager_name", "group_name", "calls_count", "meetings_count", "new_leads_count", "deals_won_count",
    "revenue_amount", "avg_deal_amount", "win_rate", "lead_conversion_rate", "call_to_meeting_rate",
    "first_response_minutes_median", "lead_processing_hours", "time_to_close_days",
)
COMPARISON_COLUMNS = (
    "manager_name", "group_name", "scorecard_role", "calls_count", "meetings_count", "new_leads_count",
    "deals_won_count", "revenue_amount", "avg_deal_amount", "win_rate", "lead_conversion_rate",
    "call_to_meeting_rate", "first_response_minutes_median", "total_score", "score_rank", "kpi_met_rate",
)
TREND_COLUMNS = (
    "revenue_amount", "plan_revenue_amount", "deals_won_count", "calls_count", "meetings_count",
    "new_leads_count", "win_rate", "lead_conversion_rate", "first_response_minutes_median",
    "plan_fulfillment_rate",
)
SCORECARD_COLUMNS = (
    "manager_id", "manager_name", "group_name", "scorecard_role", "kpi", "direction", "weight", "target",
    "actual", "attainment", "weighted_points", "total_score", "score_rank", "is_kpi_met",
)
ALERT_COLUMNS = (
    "severity", "alert_type", "manager_id", "manager_name", "lead_id", "lead_name", "pipeline_name", "status_name",
    "month_start", "months_in_window", "metric_name", "metric_value", "comparison_value", "threshold_value",
    "deviation_rate", "calls_per_month", "team_calls_per_month", "detected_at",
)
# the parameters an alert's sentence is worded from (streamlit_app/alert_text.py), not columns of their own
ALERT_PARAMETERS = ("manager_id", "lead_name", "months_in_window", "deviation_rate", "calls_per_month",
                    "team_calls_per_month")

# `(? is null or x = ?)` filters take each value twice.
_TEAM = "(? is null or group_id = ?)"
_MANAGER = "(? is null or manager_id = ?)"
_TEAM_BY_MANAGER = (
    "(? is null or manager_id in (select manager_id from marts.dim_managers where account_id = ? and group_id = ?))"
)


# ---------------------------------------------------------------- who may see what

SCOPES = ("head", "team_lead", "manager")


@dataclass(frozen=True)
class Grant:
    """One account's row of dim_report_access, resolved: whom the reader may see there."""

    account_id: int
    scope: str  # SCOPES
    user_id: int | None  # the reader's own amoCRM user
    team_id: int | None  # their user's current team: the team whose totals they see (None: none; head: any)
    managers: tuple[int, ...] | None  # the managers they may see by name and lead; None: every manager

    def sees_team(self, team: int | None) -> bool:
        return self.scope == "head" or (team is not None and team == self.team_id)


@dataclass(frozen=True)
class Access:
    """What the reader may see: the signed-in e-mail's grants, or everything in the open report."""

    email: str | None  # None: the open report (sign-in not configured)
    grants: tuple[Grant, ...] | None  # None: every account and manager (the open report); (): nothing

    @classmethod
    def everyone(cls) -> Access:
        return cls(None, None)

    @property
    def is_open(self) -> bool:
        return self.grants is None

    @property
    def sees_nothing(self) -> bool:
        return self.grants == ()

    @property
    def is_head(self) -> bool:
        """The open report, or a head of sales of some account: the data-quality details are theirs."""
        return self.grants is None or any(g.scope == "head" for g in self.grants)

    def grant(self, account_id: int) -> Grant | None:
        if self.grants is None:
            return Grant(int(account_id), "head", None, None, None)
        return next((g for g in self.grants if g.account_id == int(account_id)), None)


def _account(access: Access, account_id: int) -> bool:
    """`and ?`: the account's department-level figures (totals, averages, funnels, marketing) are the reader's."""
    return access.grant(account_id) is not None


def _sees(access: Access, account_id: int, column: str) -> tuple[str, list[object]]:
    """The condition that `column` (a manager id) is a manager the reader may see, with its parameters."""
    grant = access.grant(account_id)
    everyone = grant is not None and grant.managers is None
    ids = [] if grant is None or grant.managers is None else list(grant.managers)
    return f"(? or list_contains(?::bigint[], {column}))", [everyone, ids]


def _sees_team(access: Access, account_id: int, column: str) -> tuple[str, list[object]]:
    """The condition that `column` (a team id, or `?` for a bound one) is a team whose totals the reader sees."""
    grant = access.grant(account_id)
    everyone = grant is not None and grant.scope == "head"
    ids = [grant.team_id] if grant is not None and grant.team_id is not None and not everyone else []
    return f"(? or list_contains(?::bigint[], {column}))", [everyone, ids]


def access_for(email: str | None) -> Access:
    """The signed-in e-mail's access from dim_report_access (None: the open report, everything). An e-mail
    without a row, or a serving copy without the mart, sees nothing."""
    if email is None:
        return Access.everyone()
    if not has("dim_report_access"):
        return Access(email, ())
    rows = select(
        "select account_id, access_scope, user_id, group_id, is_user_known from marts.dim_report_access"
        " where email = lower(trim(?)) order by account_id",
        [email],
    )
    grants = []
    for row in rows.itertuples(index=False):
        account_id, scope = int(row.account_id), str(row.access_scope)
        user = None if pd.isna(row.user_id) or not row.is_user_known else int(row.user_id)
        team = None if pd.isna(row.group_id) else int(row.group_id)
        if scope == "head":
            grants.append(Grant(account_id, scope, user, None, None))
        elif scope == "team_lead" and user is not None and team is not None:
            # the team as dim_managers has it now: a manager who moves teams moves between team leads
            members = select("select manager_id from marts.dim_managers where account_id = ? and group_id = ?"
                             " order by manager_id", [account_id, team])
            grants.append(Grant(account_id, scope, user, team, tuple(int(m) for m in members["manager_id"])))
        elif scope in ("team_lead", "manager") and user is not None:  # a manager, or a lead with no team: themself
            grants.append(Grant(account_id, scope, user, team, (user,)))
        # a team lead or manager whose amoCRM user the account lacks gets nothing (dbt warns of the row)
    return Access(email, tuple(grants))


class WarehouseUnavailable(Exception):
    """The serving file is missing, unreadable or lacks the marts; `reason` is a labels key."""

    def __init__(self, reason: str, path: Path, **detail: str) -> None:
        super().__init__(reason)
        self.reason, self.path, self.detail = reason, path, detail


def serving_file() -> Path:
    """The file the report reads: its own published copy, or the file AMOKPI_REPORT / AMOKPI_SERVING name
    (amokpi.settings.report_file); never the warehouse nor, by default, the BI users' serving copy."""
    return report_file()


_connections: dict[str, tuple[tuple[int, ...], duckdb.DuckDBPyConnection]] = {}
_connections_lock = threading.Lock()


def _connection(path: str, version: tuple[int, ...]) -> duckdb.DuckDBPyConnection:
    """One read-only connection per published file, shared by every session and query (opening a
    database reads its catalog: most of a small query's cost). A newly published copy (another inode,
    size or time) gets a new connection, and the old one is closed first: DuckDB hands a second connect
    to an open path the same database instance, which would keep reading the replaced file. (A query
    another session was running on it fails; `select` retries it once on the new file.) The pipeline
    swaps files by rename, so a handle on the replaced file never blocks a publish."""
    with _connections_lock:
        known = _connections.get(path)
        if known is not None and known[0] == version:
            return known[1]
        if known is not None:
            known[1].close()
        con = duckdb.connect(path, read_only=True)
        _connections[path] = (version, con)
        return con


def release() -> None:
    """Close every cached connection (a test that reuses file names across cases; the report never needs it)."""
    with _connections_lock:
        for _, con in _connections.values():
            con.close()
        _connections.clear()
    _select.clear()


@st.cache_data(ttl=60, show_spinner=False, max_entries=512)
def _select(path: str, version: tuple[int, ...], sql: str, params: tuple[object, ...]) -> pd.DataFrame:
    # a cursor per query: DuckDB connections are not for concurrent use across threads (sessions),
    # a cursor is a cheap handle on the same open database
    with _connection(path, version).cursor() as cur:
        frame = cur.execute(sql, list(params)).fetchdf()
    for column in ("month_start", "week_start", "hired_on"):  # DuckDB DATE arrives as a timestamp
        if column in frame.columns:
            frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def _version(path: Path) -> tuple[int, ...]:
    """The file's identity, part of every cache key, so a freshly published copy is read at once."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise WarehouseUnavailable("no_warehouse", path) from None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def select(sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
    path = serving_file()
    version = _version(path)
    try:
        return _select(str(path), version, sql, tuple(params))
    except duckdb.Error as error:
        failure = error
    newer = _version(path)
    if newer != version:  # published meanwhile: the connection was swapped under the query; retry once
        try:
            return _select(str(path), newer, sql, tuple(params))
        except duckdb.Error as error:
            failure = error
    raise WarehouseUnavailable("unreadable", path, error=str(failure).splitlines()[0]) from failure


def tables(schema: str = "marts") -> set[str]:
    found = select("select table_name from information_schema.tables where table_schema = ?", [schema])
    return set(found["table_name"])


def check_marts() -> None:
    """Raise WarehouseUnavailable unless the serving file holds every mart the report needs."""
    missing = sorted(set(MARTS) - tables())
    if missing:
        raise WarehouseUnavailable("no_marts", serving_file(), missing=", ".join(missing))


def has(mart: str) -> bool:
    return mart in tables()


def accounts(access: Access) -> pd.DataFrame:
    """The accounts the reader may see."""
    ids = [] if access.grants is None else [g.account_id for g in access.grants]
    return select(
        "select distinct account_id, currency from marts.mart_department_kpi_monthly"
        " where ? or list_contains(?::bigint[], account_id) order by account_id",
        [access.is_open, ids],
    )


def timezone(access: Access, account_id: int) -> str:
    """The account's IANA timezone (amoCRM's datetime_settings); UTC when the warehouse does not say."""
    if "dim_accounts" not in tables("marts"):
        return "UTC"
    found = select("select timezone from marts.dim_accounts where account_id = ? and ?",
                   [account_id, _account(access, account_id)])
    value = found["timezone"].dropna()
    return str(value.iloc[0]) if not value.empty else "UTC"


# ---------------------------------------------------------------- filter options


def months(access: Access, account_id: int) -> list[date]:
    """Months the department mart holds, newest first: the period filter's options."""
    found = select(
        "select distinct month_start from marts.mart_department_kpi_monthly where account_id = ? and ?"
        " order by month_start desc",
        [account_id, _account(access, account_id)],
    )
    return list(found["month_start"])


def pipelines(access: Access, account_id: int) -> pd.DataFrame:
    return select(
        "select distinct pipeline_id, pipeline_name from marts.mart_funnel_stages"
        " where account_id = ? and ? order by pipeline_id",  # creation order: the main pipeline first
        [account_id, _account(access, account_id)],
    )


def teams(access: Access, account_id: int) -> pd.DataFrame:
    """The teams whose totals the reader may see: every team for a head, their own for anyone else."""
    if not has("dim_managers"):
        return pd.DataFrame({"group_id": [], "group_name": []})
    seen, seen_params = _sees_team(access, account_id, "group_id")
    return select(
        "select distinct group_id, group_name from marts.dim_managers"
        f" where account_id = ? and group_id is not null and {seen} order by group_name, group_id",
        [account_id, *seen_params],
    )


def manager_options(access: Access, account_id: int, team: int | None) -> pd.DataFrame:
    seen, seen_params = _sees(access, account_id, "manager_id")
    return select(
        "select distinct manager_id, manager_name from marts.mart_manager_kpi_monthly"
        f" where account_id = ? and {_TEAM} and {seen} order by manager_name, manager_id",
        [account_id, team, team, *seen_params],
    )


# ---------------------------------------------------------------- overview


def department_kpis(access: Access, account_id: int) -> pd.DataFrame:
    """Every month of the department mart for one account, newest first."""
    return select(
        f"select month_start, currency, {', '.join(KPI_COLUMNS)}, {', '.join(PLAN_COLUMNS)}"
        " from marts.mart_department_kpi_monthly where account_id = ? and ? order by month_start desc",
        [account_id, _account(access, account_id)],
    )


def manager_kpis(access: Access, account_id: int, manager: int) -> pd.DataFrame:
    """Every month of one manager's KPIs (the overview and the drill-down), newest first."""
    seen, seen_params = _sees(access, account_id, "manager_id")
    return select(
        f"select month_start, manager_name, {', '.join(KPI_COLUMNS)}, {', '.join(PLAN_COLUMNS)}"
        f" from marts.mart_manager_kpi_monthly where account_id = ? and manager_id = ? and {seen}"
        " order by month_start desc",
        [account_id, manager, *seen_params],
    )


def team_kpis(access: Access, account_id: int, team: int) -> pd.DataFrame:
    """A team's KPIs per month, newest first: mart_team_kpi_monthly when built; otherwise only the
    KPIs that add up (sums of the team's manager rows), since a rate cannot be summed."""
    seen, seen_params = _sees_team(access, account_id, "group_id")
    if has("mart_team_kpi_monthly"):
        return select(
            f"select month_start, {', '.join(KPI_COLUMNS)}, {', '.join(PLAN_COLUMNS)}"
            f" from marts.mart_team_kpi_monthly where account_id = ? and group_id = ? and {seen}"
            " order by month_start desc",
            [account_id, team, *seen_params],
        )
    sums = ", ".join(f"sum({c}) as {c}" for c in ADDITIVE_COLUMNS)
    # plan fulfilment is the one ratio a team gets here: revenue over plan, both sums (as the mart defines it)
    return select(
        f"select month_start, {sums},"
        " sum(revenue_amount) / nullif(sum(plan_revenue_amount), 0) as plan_fulfillment_rate"
        f" from marts.mart_manager_kpi_monthly where account_id = ? and group_id = ? and {seen}"
        " group by month_start order by month_start desc",
        [account_id, team, *seen_params],
    )


def pipeline_month(access: Access, account_id: int, pipeline: int) -> pd.DataFrame:
    if not has("mart_pipeline_monthly"):
        return pd.DataFrame()
    return select(
        "select month_start, leads_created_count, deals_won_count, deals_lost_count, revenue_amount,"
        " avg_sales_cycle_days, open_leads_count, pipeline_open_amount from marts.mart_pipeline_monthly"
        " where account_id = ? and pipeline_id = ? and ? order by month_start desc",
        [account_id, pipeline, _account(access, account_id)],
    )


# ---------------------------------------------------------------- funnel


def funnel(access: Access, account_id: int, pipeline_id: int, month: date) -> pd.DataFrame:
    return select(
        f"select {', '.join(FUNNEL_COLUMNS)} from marts.mart_funnel_stages"
        " where account_id = ? and pipeline_id = ? and month_start = ? and ? order by stage_sort, status_id",
        [account_id, pipeline_id, month, _account(access, account_id)],
    )


def manager_funnel(access: Access, account_id: int, pipeline_id: int, month: date, manager: int) -> pd.DataFrame:
    seen, seen_params = _sees(access, account_id, "manager_id")
    return select(
        f"select {', '.join(FUNNEL_COLUMNS)} from marts.mart_manager_funnel_stages"
        f" where account_id = ? and pipeline_id = ? and month_start = ? and manager_id = ? and {seen}"
        " order by stage_sort, status_id",
        [account_id, pipeline_id, month, manager, *seen_params],
    )


def team_funnel(access: Access, account_id: int, pipeline_id: int, month: date, team: int) -> pd.DataFrame:
    """A team's stage counts (sums over its managers); rates and times are per manager only."""
    counts = ("leads_entered_count", "leads_advanced_count", "leads_lost_count", "open_leads_count")
    seen, seen_params = _sees_team(access, account_id, "?")
    return select(
        "select status_name, stage_role, " + ", ".join(f"sum({c}) as {c}" for c in counts)
        + ", sum(pipeline_open_amount) as pipeline_open_amount from marts.mart_manager_funnel_stages"
        f" where account_id = ? and pipeline_id = ? and month_start = ? and {_TEAM_BY_MANAGER} and {seen}"
        " group by status_id, status_name, stage_role, stage_sort order by stage_sort, status_id",
        [account_id, pipeline_id, month, team, account_id, team, *seen_params, team],
    )


def loss_reasons(access: Access, account_id: int, pipeline_id: int, month: date) -> pd.DataFrame:
    if not has("mart_funnel_loss_reasons"):
        return pd.DataFrame()
    return select(
        "select loss_reason_name, status_name, leads_lost_count, loss_reason_share"
        " from marts.mart_funnel_loss_reasons where account_id = ? and pipeline_id = ? and month_start = ? and ?"
        " order by leads_lost_count desc, stage_sort, loss_reason_name",
        [account_id, pipeline_id, month, _account(access, account_id)],
    )


# ---------------------------------------------------------------- managers


def managers(access: Access, account_id: int, month: date, team: int | None = None,
             manager: int | None = None) -> pd.DataFrame:
    """The leaderboard: one row per manager, best revenue first."""
    seen, seen_params = _sees(access, account_id, "manager_id")
    return select(
        f"select manager_id, {', '.join(MANAGER_COLUMNS)} from marts.mart_manager_kpi_monthly"
        f" where account_id = ? and month_start = ? and {_TEAM} and {_MANAGER} and {seen}"
        " order by revenue_amount desc nulls last, manager_name",
        [account_id, month, team, team, manager, manager, *seen_params],
    )


def comparison(access: Access, account_id: int, month: date, team: int | None = None,
               manager: int | None = None) -> pd.DataFrame:
    """Managers side by side, with the mart's team-average row last (an average: anyone with the account)."""
    if not has("mart_manager_comparison"):
        return pd.DataFrame()
    seen, seen_params = _sees(access, account_id, "manager_id")
    return select(
        f"select is_team_average, {', '.join(COMPARISON_COLUMNS)} from marts.mart_manager_comparison"
        " where account_id = ? and month_start = ? and ?"
        f" and (is_team_average or ({_TEAM} and {_MANAGER} and {seen}))"
        " order by is_team_average, score_rank nulls last, manager_name",
        [account_id, month, _account(access, account_id), team, team, manager, manager, *seen_params],
    )


def manager_weekly(access: Access, account_id: int, manager: int, until: date) -> pd.DataFrame:
    if not has("mart_manager_activity_weekly"):
        return pd.DataFrame()
    seen, seen_params = _sees(access, account_id, "manager_id")
    return select(
        "select week_start, calls_count, meetings_count, new_leads_count, proposals_sent_count,"
        " tasks_completed_count from marts.mart_manager_activity_weekly"
        f" where account_id = ? and manager_id = ? and week_start < ? and {seen} order by week_start",
        [account_id, manager, until, *seen_params],
    )


# ---------------------------------------------------------------- scorecard


def scorecard(access: Access, account_id: int, month: date, team: int | None = None,
              manager: int | None = None) -> pd.DataFrame:
    if not has("mart_manager_scorecard"):
        return pd.DataFrame()
    seen, seen_params = _sees(access, account_id, "manager_id")
    return select(
        f"select {', '.join(SCORECARD_COLUMNS)} from marts.mart_manager_scorecard"
        f" where account_id = ? and month_start = ? and {_TEAM} and {_MANAGER} and {seen}"
        " order by score_rank nulls last, manager_name, kpi",
        [account_id, month, team, team, manager, manager, *seen_params],
    )


# ---------------------------------------------------------------- alerts


def alerts(access: Access, account_id: int, month: date, pipeline: int | None, team: int | None,
           manager: int | None, leads: bool = True) -> pd.DataFrame:
    """Current lead alerts (no month; `leads` False leaves them out) plus the manager alerts of the newest month up
    to `month` (the mart judges managers on complete months), most severe first."""
    if not has("mart_alerts"):
        return pd.DataFrame()
    # a lead alert links to the lead's card (fct_leads.lead_url)
    url = ("(select l.lead_url from marts.fct_leads l where l.account_id = a.account_id and l.lead_id = a.lead_id)"
           if has_columns("fct_leads", ["lead_url"]) else "cast(null as varchar)")
    # an alert without a manager (a lead nobody is responsible for) is the head's alone
    seen, seen_params = _sees(access, account_id, "manager_id")
    return select(
        f"with a as (select account_id, {', '.join(ALERT_COLUMNS)} from marts.mart_alerts"
        " where account_id = ? and (month_start is null or month_start ="
        " (select max(month_start) from marts.mart_alerts where account_id = ? and month_start <= ?))"
        " and (? is null or pipeline_id is null or pipeline_id = ?) and (? or not is_lead_alert)"
        f" and {_MANAGER} and {_TEAM_BY_MANAGER} and {seen})"
        f" select {', '.join(f'a.{c}' for c in ALERT_COLUMNS)}, {url} as lead_url from a"
        " order by case a.severity when 'high' then 0 when 'medium' then 1 else 2 end, a.alert_type,"
        " a.manager_name, a.lead_id",
        [account_id, account_id, month, pipeline, pipeline, leads, manager, manager, team, account_id, team,
         *seen_params],
    )


def lead_alert_counts(access: Access, account_id: int, team: int | None) -> pd.DataFrame:
    """The current lead alerts (no month) counted per manager and alert type: the first screen's short words (a
    large account holds tens of thousands of them)."""
    if not has("mart_alerts"):
        return pd.DataFrame(columns=["manager_id", "alert_type", "alerts_count"])
    seen, seen_params = _sees(access, account_id, "manager_id")
    return select(
        "select manager_id, alert_type, count(*) as alerts_count from marts.mart_alerts"
        f" where account_id = ? and is_lead_alert and manager_id is not null"
        f" and {_TEAM_BY_MANAGER} and {seen}"
        " group by manager_id, alert_type order by manager_id, min(case severity when 'high' then 0"
        " when 'medium' then 1 else 2 end), alert_type",
        [account_id, team, account_id, team, *seen_params],
    )


# ---------------------------------------------------------------- data quality


QUALITY_COLUMNS = ("run_id", "checked_at", "tool", "suite", "check_name", "table_name", "column_name",
                   "severity", "status", "failing_rows", "rows_checked", "message")


def quality_columns() -> set[str]:
    found = select("select column_name from information_schema.columns where table_schema = 'marts'"
                   " and table_name = ?", [QUALITY_MART])
    return set(found["column_name"])


# The checks' messages and the quarantine's records may quote any lead or manager: a head's (or the open
# report's) alone. Which tables were loaded when (last_load, freshness) names no one.


def quality_latest(access: Access) -> pd.DataFrame | None:
    """Each tool's latest run (dbt tests, GX expectations) from marts.data_quality_runs, problems first;
    None while the mart does not exist."""
    if not has(QUALITY_MART):
        return None
    if not set(QUALITY_COLUMNS) <= quality_columns():  # an unexpected shape: show it as it is
        return select(f"select * from marts.{QUALITY_MART} where ?", [access.is_head])
    return select(
        f"with latest as (select tool, arg_max(run_id, checked_at) as run_id from marts.{QUALITY_MART}"
        " group by tool)"
        f" select {', '.join(QUALITY_COLUMNS)} from marts.{QUALITY_MART} join latest using (tool, run_id) where ?"
        " order by case status when 'fail' then 0 when 'warn' then 1 else 2 end, tool, table_name, check_name",
        [access.is_head],
    )


def quality_history(access: Access) -> pd.DataFrame:
    """Checks per run, tool and status: how data quality moved over the recent runs."""
    if not has(QUALITY_MART) or not set(QUALITY_COLUMNS) <= quality_columns():
        return pd.DataFrame()
    return select(
        "select run_id, tool, min(checked_at) as checked_at, count(*) as checks_count,"
        " count(*) filter (where status = 'fail') as failed_count,"
        " count(*) filter (where status = 'warn') as warned_count"
        f" from marts.{QUALITY_MART} where ? group by run_id, tool order by checked_at desc, tool limit 50",
        [access.is_head],
    )


def quarantine(access: Access) -> pd.DataFrame | None:
    """Records kept aside for breaking a data rule (mart_quarantine), newest first; None without the mart."""
    if not has("mart_quarantine"):
        return None
    return select(
        "select detected_at, entity, record_id, rule, detail, detected_by from marts.mart_quarantine where ?"
        " order by detected_at desc, entity, record_id limit 1000",
        [access.is_head],
    )


def last_load(access: Access) -> pd.Timestamp | None:
    """When dlt last finished loading the raw layer successfully (UTC), if the serving copy says: from
    meta.publication (a published copy), or raw_amocrm._dlt_loads (a whole-warehouse file, e.g. an old copy)."""
    if "publication" in tables("meta"):
        found = select("select last_loaded_at as loaded_at from meta.publication where ?", [not access.sees_nothing])
    elif "_dlt_loads" in tables("raw_amocrm"):
        found = select("select max(inserted_at) as loaded_at from raw_amocrm._dlt_loads where status = 0 and ?",
                       [not access.sees_nothing])
    else:
        return None
    value = found["loaded_at"].max() if not found.empty else None
    return None if value is None or pd.isna(value) else pd.Timestamp(value)


# ---- drill-down and first screen

RANKING_COLUMNS = ("manager_id", "manager_name", "group_name", "plan_fulfillment_rate", "revenue_amount",
                   "plan_revenue_amount", "team_revenue_amount", "win_rate", "team_win_rate", "alerts_count")
# the alerts the alerts page shows for a month: current lead alerts, and manager alerts of the newest month up to it
_ALERTS_OF_MONTH = (
    "select manager_id, count(*) as alerts_count from marts.mart_alerts where account_id = ?"
    " and (month_start is null or month_start ="
    " (select max(month_start) from marts.mart_alerts where account_id = ? and month_start <= ?))"
    " group by manager_id"
)
# "most behind" for the first screen, a month's or a period's: lowest plan fulfilment first (no plan last), then
# most alerts, then least revenue; the name and id only make the order stable
_MOST_BEHIND_FIRST = ("k.plan_fulfillment_rate asc nulls last, alerts_count desc, k.revenue_amount asc nulls first,"
                      " {name}, k.manager_id")
_NO_ALERTS = "select cast(null as bigint) as manager_id, cast(0 as bigint) as alerts_count where false"
_TEAM_ROW = (
    "select revenue_amount as team_revenue_amount, win_rate as team_win_rate from marts.mart_manager_comparison"
    " where account_id = ? and month_start = ? and is_team_average"
)
_NO_TEAM_ROW = "select cast(null as double) as team_revenue_amount, cast(null as double) as team_win_rate"


def manager_ranking(access: Access, account_id: int, month: date, team: int | None = None) -> pd.DataFrame:
    """The month's managers, most behind first: the mart's plan fulfilment, lowest first (no plan last), then
    the number of their alerts, most first; beside each, the comparison mart's team-average row (revenue per
    manager, the department's win rate). Sorting only: every figure is a mart value."""
    alerts_sql, alerts_params = ((_ALERTS_OF_MONTH, [account_id, account_id, month]) if has("mart_alerts")
                                 else (_NO_ALERTS, []))
    team_sql, team_params = ((_TEAM_ROW, [account_id, month]) if has("mart_manager_comparison")
                             else (_NO_TEAM_ROW, []))
    seen, seen_params = _sees(access, account_id, "k.manager_id")
    return select(
        f"with alerts as ({alerts_sql}), team as ({team_sql})"
        " select k.manager_id, k.manager_name, k.group_name, k.plan_fulfillment_rate, k.revenue_amount,"
        " k.plan_revenue_amount, team.team_revenue_amount, k.win_rate, team.team_win_rate,"
        " coalesce(alerts.alerts_count, 0) as alerts_count"
        " from marts.mart_manager_kpi_monthly k left join alerts on alerts.manager_id = k.manager_id"
        " left join team on true"
        f" where k.account_id = ? and k.month_start = ? and (? is null or k.group_id = ?) and {seen}"
        f" order by {_MOST_BEHIND_FIRST.format(name='k.manager_name')}",
        [*alerts_params, *team_params, account_id, month, team, team, *seen_params],
    )


LEAD_MARTS = ("fct_kpi_leads", "fct_funnel_stage_leads")
_LEAD_MANAGER = "(? is null or d.manager_id = ?)"
LEAD_COLUMNS = ("lead_id", "lead_url", "lead_name", "pipeline_name", "status_name", "price_amount", "created_at",
                "won_at", "lost_at", "loss_reason_name", "manager_name")


def has_columns(table: str, wanted: Sequence[str]) -> bool:
    found = select("select column_name from information_schema.columns where table_schema = 'marts'"
                   " and table_name = ?", [table])
    return set(wanted) <= set(found["column_name"])


def _lead_url_sql() -> str:
    """The lead's card in amoCRM (fct_leads.lead_url, made in dbt); null from a serving copy built before it."""
    return "l.lead_url" if has_columns("fct_leads", ["lead_url"]) else "cast(null as varchar)"


def _lead_select(access: Access, account_id: int, source: str) -> tuple[str, list[object]]:
    """The lead list's select over `source` (rows `d`), with its parameters. A lead the reader's manager worked
    may have passed to another manager since: their name then stays blank."""
    named, named_params = _sees(access, account_id, "coalesce(l.manager_id, d.manager_id)")
    return (
        f"select distinct d.lead_id, {_lead_url_sql()} as lead_url, l.lead_name, l.pipeline_name, l.status_name,"
        " l.price_amount, l.created_at, l.won_at, l.lost_at, l.loss_reason_name,"
        f" case when {named} then coalesce(l.manager_name, m.manager_name) end as manager_name"
        f" from {source} d left join marts.fct_leads l on l.account_id = d.account_id and l.lead_id = d.lead_id"
        " left join (select distinct account_id, manager_id, manager_name from marts.mart_manager_kpi_monthly) m"
        " on m.account_id = d.account_id and m.manager_id = d.manager_id"
    ), named_params


def lead_kpis(access: Access, account_id: int, month: date, manager: int | None) -> list[str]:
    """The KPI names fct_kpi_leads lists leads for in the month (the lead counts of the registry)."""
    if not has("fct_kpi_leads"):
        return []
    seen, seen_params = _sees(access, account_id, "manager_id")
    found = select(
        f"select distinct kpi_name from marts.fct_kpi_leads where account_id = ? and month_start = ? and {_MANAGER}"
        f" and {seen} order by kpi_name",
        [account_id, month, manager, manager, *seen_params],
    )
    return [name for name in found["kpi_name"] if name in registry()]


def kpi_leads(access: Access, account_id: int, month: date, manager: int | None, kpi_name: str) -> pd.DataFrame:
    """The leads behind one manager's (or everyone's the reader may see) KPI count in the month."""
    leads, lead_params = _lead_select(access, account_id, "marts.fct_kpi_leads")
    seen, seen_params = _sees(access, account_id, "d.manager_id")
    return select(
        leads + f" where d.account_id = ? and d.month_start = ? and d.kpi_name = ? and {_LEAD_MANAGER} and {seen}"
        " order by l.created_at desc nulls last, d.lead_id",
        [*lead_params, account_id, month, kpi_name, manager, manager, *seen_params],
    )


def stage_lead_counts(access: Access, account_id: int, pipeline_id: int, month: date,
                      manager: int | None) -> pd.DataFrame:
    """Which (stage, count) pairs fct_funnel_stage_leads lists leads for: the funnel's drill-down options."""
    if not has("fct_funnel_stage_leads"):
        return pd.DataFrame({"status_id": [], "status_name": [], "kpi_name": []})
    seen, seen_params = _sees(access, account_id, "d.manager_id")
    return select(
        "with stages as (select distinct status_id, status_name, stage_sort from marts.mart_funnel_stages"
        " where account_id = ? and pipeline_id = ?)"
        " select distinct d.status_id, coalesce(s.status_name, cast(d.status_id as varchar)) as status_name,"
        " d.kpi_name, s.stage_sort from marts.fct_funnel_stage_leads d left join stages s on s.status_id = d.status_id"
        f" where d.account_id = ? and d.pipeline_id = ? and d.month_start = ? and {_LEAD_MANAGER} and {seen}"
        " order by s.stage_sort nulls last, d.status_id, d.kpi_name",
        [account_id, pipeline_id, account_id, pipeline_id, month, manager, manager, *seen_params],
    )


def stage_leads(access: Access, account_id: int, pipeline_id: int, status_id: int, month: date,
                manager: int | None, kpi_name: str) -> pd.DataFrame:
    """The leads behind one stage's count (entered, advanced, lost …) in the month."""
    leads, lead_params = _lead_select(access, account_id, "marts.fct_funnel_stage_leads")
    seen, seen_params = _sees(access, account_id, "d.manager_id")
    return select(
        leads + " where d.account_id = ? and d.pipeline_id = ? and d.status_id = ? and d.month_start = ?"
        f" and d.kpi_name = ? and {_LEAD_MANAGER} and {seen}"
        " order by l.created_at desc nulls last, d.lead_id",
        [*lead_params, account_id, pipeline_id, status_id, month, kpi_name, manager, manager, *seen_params],
    )


# ---- marketing, onboarding, targets, snapshots

MARKETING_COLUMNS = (
    "month_start", "lead_source", "is_all_sources", "leads_created_count", "deals_won_count", "new_customers_count",
    "revenue_amount", "marketing_spend_amount", "sales_cost_amount", "cac_amount", "marketing_roi_rate",
    "sales_profitability_rate",
)
ONBOARDING_COLUMNS = (
    "manager_id", "manager_name", "hired_on", "is_hire_date_inferred", "first_month_at_median", "onboarding_days",
)
TARGET_COLUMNS = (
    "scorecard_role", "kpi", "direction", "current_target", "suggested_target", "team_percentile_value",
    "best_manager_average", "is_capped_by_best", "managers_count", "values_count", "basis_from_month",
    "basis_to_month", "target_month_start",
)


def marketing(access: Access, account_id: int, until: date) -> pd.DataFrame:
    """mart_marketing_monthly up to `until`, newest month first, the all-sources row first in each month."""
    if not has("mart_marketing_monthly"):
        return pd.DataFrame()
    return select(
        f"select {', '.join(MARKETING_COLUMNS)} from marts.mart_marketing_monthly"
        " where account_id = ? and month_start <= ? and ?"
        " order by month_start desc, is_all_sources desc, revenue_amount desc, lead_source",
        [account_id, until, _account(access, account_id)],
    )


def onboarding(access: Access, account_id: int, team: int | None = None, manager: int | None = None) -> pd.DataFrame:
    """mart_manager_onboarding for the team or manager, the newest hires first."""
    if not has("mart_manager_onboarding"):
        return pd.DataFrame()
    seen, seen_params = _sees(access, account_id, "manager_id")
    frame = select(
        f"select {', '.join(ONBOARDING_COLUMNS)} from marts.mart_manager_onboarding"
        f" where account_id = ? and {_MANAGER} and {_TEAM_BY_MANAGER} and {seen}"
        " order by hired_on desc, manager_name",
        [account_id, manager, manager, team, account_id, team, *seen_params],
    )
    if "first_month_at_median" in frame.columns:
        frame["first_month_at_median"] = pd.to_datetime(frame["first_month_at_median"]).dt.date
    return frame


def target_months(access: Access, account_id: int) -> list[date]:
    if not has("mart_scorecard_target_suggestions"):
        return []
    found = select(
        "select distinct target_month_start from marts.mart_scorecard_target_suggestions where account_id = ?"
        " and ? order by target_month_start desc",
        [account_id, _account(access, account_id)],
    )
    return list(pd.to_datetime(found["target_month_start"]).dt.date)


def target_suggestions(access: Access, account_id: int, target_month: date) -> pd.DataFrame:
    """The scorecard's suggested targets for `target_month`, per role and KPI, beside the current ones (figures
    of a role, no one's name: anyone with the account)."""
    if not has("mart_scorecard_target_suggestions"):
        return pd.DataFrame()
    frame = select(
        f"select {', '.join(TARGET_COLUMNS)} from marts.mart_scorecard_target_suggestions"
        " where account_id = ? and target_month_start = ? and ? order by scorecard_role, kpi",
        [account_id, target_month, _account(access, account_id)],
    )
    for column in ("basis_from_month", "basis_to_month", "target_month_start"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def pipeline_snapshots(access: Access, account_id: int, pipeline: int, until: date, team: int | None = None,
                       manager: int | None = None) -> pd.DataFrame:
    """Open leads and their amount per snapshot day in one pipeline, up to `until` (exclusive), oldest first:
    the department's or a team's totals, or one manager's."""
    if not has("fct_pipeline_daily_snapshots"):
        return pd.DataFrame()
    seen, seen_params = _sees(access, account_id, "manager_id")
    team_seen, team_params = _sees_team(access, account_id, "?")
    frame = select(
        "select snapshot_day, count(*) as open_leads_count, sum(price_amount) as open_amount"
        " from marts.fct_pipeline_daily_snapshots"
        f" where account_id = ? and pipeline_id = ? and snapshot_day < ? and {_MANAGER} and {_TEAM_BY_MANAGER}"
        f" and ? and (? is null or {seen}) and (? is null or {team_seen})"
        " group by snapshot_day order by snapshot_day",
        [account_id, pipeline, until, manager, manager, team, account_id, team, _account(access, account_id),
         manager, *seen_params, team, *team_params, team],
    )
    frame["snapshot_day"] = pd.to_datetime(frame["snapshot_day"]).dt.date
    return frame


# ---------------------------------------------------------------- periods: quarter, year to date, a range

PERIOD_MART = "mart_manager_kpi_periods"
RANGE_MART = "mart_manager_kpi_ranges"  # a view: any range of whole months, computed for the range asked


def _period_relation(period_type: str) -> str:
    return f"marts.{RANGE_MART if period_type == 'range' else PERIOD_MART}"


def has_period(period_type: str) -> bool:
    return has(RANGE_MART if period_type == "range" else PERIOD_MART)


# the manager rows of the period marts have no team (a manager may change teams within a quarter): name and team
# are the manager's current ones, from dim_managers
_PERIOD_MANAGERS = (
    "{relation} k join marts.dim_managers d on d.account_id = k.account_id and d.manager_id = k.manager_id"
)
_PERIOD_MANAGER_ROWS = (
    "k.account_id = ? and k.period_type = ? and k.period_start = ? and k.period_end = ? and k.kpi_grain = 'manager'"
    " and (? is null or d.group_id = ?)"
)


def period_kpis(access: Access, account_id: int, period_type: str, bounds: tuple[date, date],
                previous: tuple[date, date], team: int | None = None, manager: int | None = None) -> pd.DataFrame:
    """The department's, a team's or a manager's row of the period mart for the period `bounds` (first and last
    day) and the period `previous`, newest first (the overview's cards and their change)."""
    if not has_period(period_type):
        return pd.DataFrame()
    grain = "manager" if manager is not None else "team" if team is not None else "department"
    shown = ", ".join((*KPI_COLUMNS, "new_leads_count", *PLAN_COLUMNS))
    # a manager's rows carry no team (a manager may change teams within a period): the team filters team rows only
    team = team if grain == "team" else None
    # one select per period: a filter that names a single range reaches the range view's list of ranges before
    # it aggregates anything (an OR of two ranges does not, and would aggregate every range)
    seen, seen_params = _sees(access, account_id, "manager_id")
    team_seen, team_params = _sees_team(access, account_id, "group_id")
    one = (f"select period_start, period_end, months_count, {shown} from {_period_relation(period_type)}"
           " where account_id = ? and period_type = ? and kpi_grain = ? and period_start = ? and period_end = ?"
           f" and {_MANAGER} and {_TEAM} and ? and (kpi_grain <> 'manager' or {seen})"
           f" and (kpi_grain <> 'team' or {team_seen})")
    frame = select(
        f"select * from ({one}) union all select * from ({one}) order by period_end desc",
        [*(p for bound in (bounds, previous)
           for p in (account_id, period_type, grain, *bound, manager, manager, team, team, _account(access, account_id),
                     *seen_params, *team_params))],
    )
    for column in ("period_start", "period_end"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def period_managers(access: Access, account_id: int, period_type: str, bounds: tuple[date, date],
                    team: int | None = None, manager: int | None = None) -> pd.DataFrame:
    """The leaderboard of a quarter, the year to date or a range: one row per manager, best revenue first."""
    if not has_period(period_type):
        return pd.DataFrame()
    kpis = ", ".join(f"k.{c}" for c in MANAGER_COLUMNS if c not in ("manager_name", "group_name"))
    seen, seen_params = _sees(access, account_id, "k.manager_id")
    return select(
        f"select k.manager_id, d.manager_name, d.group_name, {kpis}"
        f" from {_PERIOD_MANAGERS.format(relation=_period_relation(period_type))}"
        f" where {_PERIOD_MANAGER_ROWS} and (? is null or k.manager_id = ?) and {seen}"
        " order by k.revenue_amount desc nulls last, d.manager_name",
        [account_id, period_type, *bounds, team, team, manager, manager, *seen_params],
    )


def period_ranking(access: Access, account_id: int, period_type: str, bounds: tuple[date, date], month: date,
                   team: int | None = None) -> pd.DataFrame:
    """The first screen over a period: the managers, most behind the period's plan first, then by the alerts of
    `month` (the alerts are monthly), as manager_ranking orders a month."""
    if not has_period(period_type):
        return pd.DataFrame()
    alerts_sql, alerts_params = ((_ALERTS_OF_MONTH, [account_id, account_id, month]) if has("mart_alerts")
                                 else (_NO_ALERTS, []))
    seen, seen_params = _sees(access, account_id, "k.manager_id")
    return select(
        f"with alerts as ({alerts_sql})"
        " select k.manager_id, d.manager_name, d.group_name, k.plan_fulfillment_rate, k.revenue_amount,"
        " k.plan_revenue_amount, k.win_rate, coalesce(alerts.alerts_count, 0) as alerts_count"
        f" from {_PERIOD_MANAGERS.format(relation=_period_relation(period_type))}"
        f" left join alerts on alerts.manager_id = k.manager_id where {_PERIOD_MANAGER_ROWS} and {seen}"
        f" order by {_MOST_BEHIND_FIRST.format(name='d.manager_name')}",
        [*alerts_params, account_id, period_type, *bounds, team, team, *seen_params],
    )


# ---- manager KPIs by pipeline, the leads behind a loss reason

PIPELINE_KPI_MART = "mart_manager_pipeline_kpi_monthly"
# fct_leads' columns that place a lost lead where mart_funnel_loss_reasons counts it (a build before them lacks them)
LOSS_LEAD_COLUMNS = ("lost_month_start", "is_loss_reason_lead")


def pipeline_kpi_columns() -> list[str]:
    """The registry KPIs mart_manager_pipeline_kpi_monthly carries (the lead counts and the ratios made of them),
    in its column order: read from the catalog, so the report follows whatever the mart is built with."""
    if not has(PIPELINE_KPI_MART):
        return []
    found = select("select column_name from information_schema.columns where table_schema = 'marts'"
                   " and table_name = ? order by ordinal_position", [PIPELINE_KPI_MART])
    return [c for c in found["column_name"] if c in registry()]


def _pipeline_kpis(wanted: Sequence[str]) -> list[str]:
    # only column names the mart's catalog lists ever reach the SQL text
    have = pipeline_kpi_columns()
    return [c for c in wanted if c in have]


def manager_pipeline_kpis(access: Access, account_id: int, month: date, pipeline: int, wanted: Sequence[str],
                          team: int | None = None, manager: int | None = None) -> pd.DataFrame:
    """The leaderboard for one pipeline: each manager with leads in it that month, the `wanted` KPIs the pipeline
    mart has; name and team (the team of that month) from mart_manager_kpi_monthly. Most deals won first."""
    kpis = _pipeline_kpis(wanted)
    rank = [f"p.{c} desc nulls last" for c in ("deals_won_count", "new_leads_count") if c in kpis]
    seen, seen_params = _sees(access, account_id, "p.manager_id")
    return select(
        "select p.manager_id, k.manager_name, k.group_name" + "".join(f", p.{c}" for c in kpis)
        + f" from marts.{PIPELINE_KPI_MART} p join marts.mart_manager_kpi_monthly k"
        " on k.account_id = p.account_id and k.month_start = p.month_start and k.manager_id = p.manager_id"
        " where p.account_id = ? and p.month_start = ? and p.pipeline_id = ? and (? is null or k.group_id = ?)"
        f" and (? is null or p.manager_id = ?) and {seen}"
        f" order by {', '.join([*rank, 'k.manager_name', 'p.manager_id'])}",
        [account_id, month, pipeline, team, team, manager, manager, *seen_params],
    )


def manager_pipeline_history(access: Access, account_id: int, manager: int, pipeline: int, until: date,
                             wanted: Sequence[str]) -> pd.DataFrame:
    """One manager's `wanted` KPIs in one pipeline, every month up to `until`, newest first."""
    kpis = _pipeline_kpis(wanted)
    seen, seen_params = _sees(access, account_id, "manager_id")
    return select(
        "select month_start" + "".join(f", {c}" for c in kpis) + f" from marts.{PIPELINE_KPI_MART}"
        " where account_id = ? and manager_id = ? and pipeline_id = ? and month_start <= ?"
        f" and {seen} order by month_start desc",
        [account_id, manager, pipeline, until, *seen_params],
    )


def loss_reason_options(access: Access, account_id: int, pipeline_id: int, month: date) -> pd.DataFrame:
    """The month's loss reasons in one pipeline with their leads lost over all stages, most first."""
    if not has("mart_funnel_loss_reasons"):
        return pd.DataFrame({"loss_reason_id": [], "loss_reason_name": [], "leads_lost_count": []})
    return select(
        "select loss_reason_id, min(loss_reason_name) as loss_reason_name, sum(leads_lost_count) as leads_lost_count"
        " from marts.mart_funnel_loss_reasons where account_id = ? and pipeline_id = ? and month_start = ? and ?"
        " group by loss_reason_id order by leads_lost_count desc, loss_reason_name, loss_reason_id",
        [account_id, pipeline_id, month, _account(access, account_id)],
    )


def loss_reason_leads(access: Access, account_id: int, pipeline_id: int, month: date,
                      loss_reason_id: int) -> pd.DataFrame:
    """The leads mart_funnel_loss_reasons counts for one reason in the month (over all stages): the fct_leads
    rows it groups (is_loss_reason_lead, lost that month); -1 is the mart's 'no reason'."""
    leads, lead_params = _lead_select(access, account_id, "marts.fct_leads")
    seen, seen_params = _sees(access, account_id, "d.manager_id")
    return select(
        leads + " where d.account_id = ? and d.pipeline_id = ? and d.lost_month_start = ?"
        f" and coalesce(d.loss_reason_id, -1) = ? and d.is_loss_reason_lead and {seen}"
        " order by l.lost_at desc nulls last, d.lead_id",
        [*lead_params, account_id, pipeline_id, month, loss_reason_id, *seen_params],
    )


# ---- the sources' freshness (dbt source freshness, recorded by the quality gate)


def freshness(access: Access) -> pd.DataFrame:
    """Each source table's freshness from the newest run that measured it, stalest first (empty before any)."""
    if not has(QUALITY_MART) or not set(QUALITY_COLUMNS) <= quality_columns():
        return pd.DataFrame()
    return select(
        f"select table_name, status, severity, message, checked_at from marts.{QUALITY_MART}"
        f" where suite = 'freshness' and run_id = (select arg_max(run_id, checked_at) from marts.{QUALITY_MART}"
        " where suite = 'freshness') and ?"
        " order by case status when 'fail' then 0 when 'warn' then 1 else 2 end, table_name",
        [not access.sees_nothing],
    )
