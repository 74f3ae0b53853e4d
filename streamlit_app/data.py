"""The only module that opens DuckDB: read-only, parameterised selects from schema `marts`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from ingestion.settings import serving_path

MARTS = ("mart_department_kpi_monthly", "mart_manager_kpi_monthly", "mart_funnel_stages")

KPI_COLUMNS = (
    "revenue_amount", "deals_won_count", "avg_deal_amount", "win_rate", "lead_conversion_rate",
    "calls_count", "meetings_count", "first_response_minutes_median",
)
FUNNEL_COLUMNS = (
    "status_name", "stage_role", "leads_entered_count", "leads_advanced_count", "leads_lost_count",
    "stage_conversion_rate", "median_hours_in_stage",
)
MANAGER_COLUMNS = (
    "manager_name", "group_name", "calls_count", "meetings_count", "new_leads_count", "deals_won_count",
    "revenue_amount", "avg_deal_amount", "win_rate", "lead_conversion_rate", "call_to_meeting_rate",
    "first_response_minutes_median", "lead_processing_hours", "time_to_close_days",
)


class WarehouseUnavailable(Exception):
    """The serving file is missing, unreadable or lacks the marts; `reason` is a labels key."""

    def __init__(self, reason: str, path: Path, **detail: str) -> None:
        super().__init__(reason)
        self.reason, self.path, self.detail = reason, path, detail


def serving_file() -> Path:
    value = os.environ.get("AMOKPI_SERVING")
    return Path(value) if value else serving_path()


@st.cache_data(ttl=60, show_spinner=False)
def _select(path: str, version: tuple[int, ...], sql: str, params: tuple[object, ...]) -> pd.DataFrame:
    # A connection per query: the pipeline swaps the file in atomically, and a short-lived
    # read-only handle never blocks that nor keeps reading a replaced file.
    with duckdb.connect(path, read_only=True) as con:
        frame = con.execute(sql, list(params)).fetchdf()
    if "month_start" in frame.columns:  # DuckDB DATE arrives as a timestamp; widgets want plain dates
        frame["month_start"] = pd.to_datetime(frame["month_start"]).dt.date
    return frame


def select(sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
    path = serving_file()
    try:
        # The file's identity is part of the cache key, so a freshly published copy is read at once.
        stat = path.stat()
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        raise WarehouseUnavailable("no_warehouse", path) from None
    try:
        return _select(str(path), version, sql, tuple(params))
    except duckdb.Error as error:
        raise WarehouseUnavailable("unreadable", path, error=str(error).splitlines()[0]) from error


def check_marts() -> None:
    """Raise WarehouseUnavailable unless the serving file holds every mart the report reads."""
    found = select(
        "select table_name from information_schema.tables"
        " where table_schema = 'marts' and table_name in (?, ?, ?)",
        MARTS,
    )
    missing = sorted(set(MARTS) - set(found["table_name"]))
    if missing:
        raise WarehouseUnavailable("no_marts", serving_file(), missing=", ".join(missing))


def accounts() -> pd.DataFrame:
    return select(
        "select distinct account_id, currency from marts.mart_department_kpi_monthly order by account_id"
    )


def department_kpis(account_id: int) -> pd.DataFrame:
    """Every month of the department mart for one account, newest first."""
    return select(
        f"select month_start, currency, {', '.join(KPI_COLUMNS)} from marts.mart_department_kpi_monthly"
        " where account_id = ? order by month_start desc",
        [account_id],
    )


def pipelines(account_id: int) -> pd.DataFrame:
    return select(
        "select distinct pipeline_id, pipeline_name from marts.mart_funnel_stages"
        " where account_id = ? order by pipeline_id",  # creation order: the main pipeline first
        [account_id],
    )


def funnel(account_id: int, pipeline_id: int, month: date) -> pd.DataFrame:
    return select(
        f"select {', '.join(FUNNEL_COLUMNS)} from marts.mart_funnel_stages"
        " where account_id = ? and pipeline_id = ? and month_start = ? order by stage_sort, status_id",
        [account_id, pipeline_id, month],
    )


def managers(account_id: int, month: date) -> pd.DataFrame:
    return select(
        f"select {', '.join(MANAGER_COLUMNS)} from marts.mart_manager_kpi_monthly"
        " where account_id = ? and month_start = ? order by revenue_amount desc nulls last, manager_name",
        [account_id, month],
    )
