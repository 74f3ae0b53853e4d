"""The Streamlit report shows the figures the marts hold, on every page, and explains a missing warehouse."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from streamlit_app import navigation

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"
MARTS = ("mart_department_kpi_monthly", "mart_manager_kpi_monthly", "mart_funnel_stages")


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    # AppTest runs the script in this process, so cached query results would leak between tests.
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture()
def serving(demo_warehouse, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AMOKPI_SERVING", str(demo_warehouse.serving))
    return demo_warehouse.serving


def run_app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=30).run()


def go(at: AppTest, page: str) -> AppTest:
    """Click a page in the navigation (a file under report_pages/, registered by st.navigation)."""
    return at.switch_page(f"report_pages/{page}.py").run()


def mart(path: Path, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchdf()


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def newest_month(path: Path) -> date:
    frame = mart(path, "select max(month_start) as m from marts.mart_department_kpi_monthly")
    return pd.Timestamp(frame["m"].iloc[0]).date()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_overview_shows_newest_month_department_kpis(serving: Path) -> None:
    rows = mart(
        serving,
        "select month_start, currency, revenue_amount, deals_won_count, calls_count, win_rate"
        " from marts.mart_department_kpi_monthly order by month_start desc limit 2",
    )
    assert len(rows) == 2, "the demo warehouse should span several months"
    latest, previous = rows.iloc[0], rows.iloc[1]
    # The app's delta uses the calendar previous month; the demo has no gaps, so that is the second row.
    newest = pd.Timestamp(latest["month_start"])
    assert pd.Timestamp(previous["month_start"]) == newest - pd.DateOffset(months=1)

    at = run_app()
    assert_clean(at)
    assert at.selectbox(key="month").value == newest.date()
    cards = {m.label: m for m in at.metric}
    revenue = cards["Выручка"]
    assert "₽" in revenue.value and latest["currency"] == "RUB"
    assert digits(revenue.value) == f"{latest['revenue_amount']:.0f}"
    assert digits(cards["Выиграно сделок"].value) == str(latest["deals_won_count"])
    assert digits(cards["Звонки"].value) == str(latest["calls_count"])
    if pd.notna(latest["win_rate"]):  # rates are fractions in the mart and shown as percentages
        assert cards["Доля выигранных"].value == f"{latest['win_rate'] * 100:.1f}\u00a0%".replace(".", ",")
    change = latest["revenue_amount"] - previous["revenue_amount"]
    if round(change) != 0:
        assert digits(str(revenue.delta)) == f"{abs(change):.0f}"
        assert str(revenue.delta).startswith("-" if change < 0 else "+")


def test_funnel_page_shows_stages_of_the_chosen_pipeline(serving: Path) -> None:
    month = newest_month(serving)
    stages = mart(
        serving,
        "select pipeline_id, status_name, leads_entered_count from marts.mart_funnel_stages"
        " where month_start = ? order by pipeline_name, pipeline_id, stage_sort, status_id",
        [month],
    )
    assert not stages.empty, "the demo warehouse should have funnel movement in its newest month"
    pipeline_id = int(stages["pipeline_id"].iloc[0])
    expected = stages[stages["pipeline_id"] == pipeline_id]

    at = run_app()
    go(at, "funnel")
    at.selectbox(key="pipeline").set_value(pipeline_id).run()
    assert_clean(at)
    shown = at.dataframe[0].value
    assert list(shown["status_name"]) == list(expected["status_name"])  # ordered by stage_sort
    assert shown["leads_entered_count"].iloc[0] == expected["leads_entered_count"].iloc[0]


def test_managers_page_lists_every_manager_of_the_month(serving: Path) -> None:
    month = newest_month(serving)
    names = mart(
        serving, "select manager_name from marts.mart_manager_kpi_monthly where month_start = ?", [month]
    )["manager_name"]
    assert not names.empty

    at = run_app()
    go(at, "managers")
    assert_clean(at)
    shown = at.dataframe[0].value
    assert sorted(shown["manager_name"]) == sorted(names)
    revenue = shown["revenue_amount"].dropna().tolist()
    assert revenue == sorted(revenue, reverse=True)  # leaderboard order


def test_english_labels(serving: Path) -> None:
    at = run_app()
    at.radio(key="lang").set_value("en").run()
    assert_clean(at)
    assert "Revenue" in [m.label for m in at.metric]
    assert at.title[0].value == "amoCRM sales · Overview"
    assert list(navigation.titles("en").values()) == [
        "Overview", "Funnel", "Pipeline by day", "Managers", "Manager drill-down", "Onboarding", "Scorecard",
        "Scorecard targets", "Marketing", "Alerts", "Data quality"]
    assert list(navigation.titles("ru").values())[:2] == ["Обзор", "Воронка"]
    # a page's file and URL path are its name, the same in either language
    assert all((navigation.PAGES_DIR / f"{name}.py").is_file() for name in navigation.PAGES)
    month = newest_month(serving)
    english = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")[month.month - 1]
    assert at.selectbox(key="month").options[0] == f"{english} {month.year}"  # newest month first


def test_missing_warehouse_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nowhere.serving.duckdb"
    monkeypatch.setenv("AMOKPI_SERVING", str(missing))
    at = run_app()
    assert_clean(at)
    assert not at.metric
    (message,) = [w.value for w in at.warning]
    assert str(missing) in message and "amokpi run" in message


def test_warehouse_without_marts_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    monkeypatch.setenv("AMOKPI_SERVING", str(empty))
    at = run_app()
    assert_clean(at)
    (message,) = [w.value for w in at.warning]
    assert all(name in message for name in MARTS)


def copy_marts(source: Path, target: Path, full: Sequence[str]) -> None:
    """A serving file with the real marts' schema, holding the rows of `full` marts only."""
    with duckdb.connect(str(target)) as con:
        con.execute("attach ? as src (read_only)", [str(source)])
        con.execute("create schema marts")
        for name in MARTS:
            limit = "" if name in full else " limit 0"
            con.execute(f"create table marts.{name} as select * from src.marts.{name}{limit}")


def test_empty_filters_show_info(serving: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    partial = tmp_path / "partial.duckdb"
    copy_marts(serving, partial, full=["mart_department_kpi_monthly"])
    monkeypatch.setenv("AMOKPI_SERVING", str(partial))
    at = run_app()
    assert_clean(at)
    assert at.metric  # the department mart still feeds the overview
    for page in ("funnel", "managers"):
        go(at, page)
        assert_clean(at)
        assert not at.dataframe
        assert len(at.info) == 1


def test_swapped_in_serving_file_is_picked_up(
    serving: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = tmp_path / "live.duckdb"
    shutil.copyfile(serving, live)
    monkeypatch.setenv("AMOKPI_SERVING", str(live))
    at = run_app()
    assert_clean(at)
    assert at.metric
    # Publish an empty build the way the pipeline does (atomic replace); the cache must not hide it.
    fresh = tmp_path / "fresh.duckdb"
    copy_marts(serving, fresh, full=[])
    fresh.replace(live)
    at.run()
    assert_clean(at)
    assert not at.metric and len(at.info) == 1
