"""Every report page and filter, checked against the figures in a warehouse built by the real pipeline."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest
import streamlit as st
from report_language import data_values, problems
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from streamlit_app import columns, formatting
from streamlit_app.labels import t
from streamlit_app.navigation import PAGES

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture()
def serving(demo_warehouse, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AMOKPI_SERVING", str(demo_warehouse.serving))
    return demo_warehouse.serving


class Downloads(dict):
    """Every download button's payload by file id (AppTest keeps them in a throwaway store); a deferred one's
    (made when the reader clicks) is made here when a test asks for it, as a click would."""

    def __init__(self) -> None:
        super().__init__()
        self.deferred: dict[str, Callable[[], bytes]] = {}

    def of(self, button) -> bytes:  # noqa: ANN001 - AppTest's DownloadButton
        if button.proto.deferred_file_id:
            return self.deferred[button.proto.deferred_file_id]()
        return self[Path(button.proto.url).stem]


@pytest.fixture()
def downloads(monkeypatch: pytest.MonkeyPatch) -> Downloads:
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import app_test

    files = Downloads()

    class Recording(MemoryMediaFileStorage):
        def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):  # noqa: ANN001
            file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
            files[file_id] = self.get_file(file_id).content
            return file_id

    add_deferred = MediaFileManager.add_deferred

    def recording_deferred(self, data_callable, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        file_id = add_deferred(self, data_callable, *args, **kwargs)
        files.deferred[file_id] = data_callable
        return file_id

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", Recording)
    monkeypatch.setattr(MediaFileManager, "add_deferred", recording_deferred)
    return files


def mart(path: Path, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchdf()


def scalar(path: Path, sql: str, params: Sequence[object] = ()) -> object:
    return mart(path, sql, params).iloc[0, 0]


def digits(text: object) -> str:
    return re.sub(r"\D", "", str(text))


def newest_month(path: Path) -> date:
    return pd.Timestamp(scalar(path, "select max(month_start) from marts.mart_department_kpi_monthly")).date()


def open_page(page_name: str, **query: object) -> AppTest:
    """The report at `/<page>?<query>`: a first run registers st.navigation's pages, then the page runs."""
    at = AppTest.from_file(str(APP), default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = str(value)
    at.run()
    if page_name != "overview":  # the home page
        go(at, page_name)
    assert not at.exception, [e.value for e in at.exception]
    return at


def go(at: AppTest, page: str) -> AppTest:
    """Click a page in the navigation."""
    return at.switch_page(f"report_pages/{page}.py").run()


def shown_text(at: AppTest, key: str) -> pd.DataFrame:
    """What the reader sees in the table of `key`: the display text over its raw values."""
    downloads = [b.key for b in at.download_button if b.key.startswith("csv_")]
    element = at.dataframe[downloads.index(f"csv_{key}")]
    return dataframe_util.convert_arrow_bytes_to_pandas_df(element.proto.arrow_data.styler.display_values)


def table(at: AppTest, key: str) -> pd.DataFrame:
    """The table whose CSV button is `csv_<key>`: every table is drawn with its button right after it."""
    downloads = [b.key for b in at.download_button if b.key.startswith("csv_")]
    assert len(downloads) == len(at.dataframe), "every table has its CSV download"
    return at.dataframe[downloads.index(f"csv_{key}")].value


def metrics(at: AppTest) -> dict[str, object]:
    return {m.label: m for m in at.metric}


def busiest_team_manager(path: Path, month: date) -> tuple[int, int, str]:
    """A (team, manager, name) with revenue in `month`, so filtered pages have figures to show."""
    row = mart(
        path,
        "select group_id, manager_id, manager_name from marts.mart_manager_kpi_monthly"
        " where month_start = ? and group_id is not null order by revenue_amount desc nulls last limit 1",
        [month],
    ).iloc[0]
    return int(row["group_id"]), int(row["manager_id"]), str(row["manager_name"])


# ---------------------------------------------------------------- every page, every table


def test_csv_download_holds_the_rows_shown(serving: Path, downloads: Downloads) -> None:
    files = downloads
    at = open_page("managers")
    for name in ("leaderboard", "comparison"):
        (button,) = [b for b in at.download_button if b.key == f"csv_{name}"]
        payload = files.of(button)
        assert payload.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so Excel reads Cyrillic names
        downloaded = pd.read_csv(io.BytesIO(payload), encoding="utf-8-sig")
        shown = table(at, name)
        assert list(downloaded.columns) == list(shown.columns)
        assert list(downloaded["manager_name"]) == list(shown["manager_name"])
        assert downloaded["revenue_amount"].tolist() == pytest.approx(shown["revenue_amount"].tolist(), nan_ok=True)


# ---------------------------------------------------------------- overview


def test_overview_compares_with_plan(serving: Path) -> None:
    month = newest_month(serving)
    row = mart(serving, "select revenue_amount, plan_revenue_amount, plan_fulfillment_rate, deals_won_count,"
               " plan_deals_count from marts.mart_department_kpi_monthly where month_start = ?", [month]).iloc[0]
    at = open_page("overview")
    cards = metrics(at)
    assert digits(cards["План по выручке"].value) == f"{row['plan_revenue_amount']:.0f}"
    fulfilment = cards["Выполнение плана"]
    assert fulfilment.value == f"{row['plan_fulfillment_rate'] * 100:.1f}\u00a0%".replace(".", ",")
    gap = row["revenue_amount"] - row["plan_revenue_amount"]
    assert digits(fulfilment.delta) == f"{abs(gap):.0f}" and str(fulfilment.delta).startswith("-" if gap < 0 else "+")
    history = table(at, "overview")
    assert list(history["month_start"])[0] == month
    assert history["revenue_amount"].iloc[0] == row["revenue_amount"]


def test_month_filter_from_the_url_shows_that_month(serving: Path) -> None:
    months = mart(serving, "select month_start, revenue_amount from marts.mart_department_kpi_monthly"
                  " order by month_start")
    first = months.iloc[0]
    month = pd.Timestamp(first["month_start"]).date()
    at = open_page("overview", month=month.isoformat())
    assert at.selectbox(key="month").value == month
    assert digits(metrics(at)["Выручка"].value) == f"{first['revenue_amount']:.0f}"
    assert "нет данных за прошлый месяц" in [c.value for c in at.caption]  # the first month has no predecessor


def test_pipeline_filter_on_overview(serving: Path) -> None:
    month = newest_month(serving)
    rows = mart(serving, "select pipeline_id, revenue_amount, leads_created_count from marts.mart_pipeline_monthly"
                " where month_start = ? order by pipeline_id", [month])
    for _, row in rows.iterrows():
        at = open_page("overview", pipeline=int(row["pipeline_id"]))
        cards = metrics(at)
        assert digits(cards["Выручка воронки"].value) == f"{row['revenue_amount']:.0f}"
        assert digits(cards["Лиды в воронке"].value) == str(int(row["leads_created_count"]))


@pytest.mark.parametrize("team_mart", [True, False], ids=["team-mart", "no-team-mart"])
def test_team_and_manager_filters_on_overview(
    serving: Path, team_mart: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    month = newest_month(serving)
    team, manager, name = busiest_team_manager(serving, month)
    if not team_mart:  # a warehouse built before mart_team_kpi_monthly existed
        older = tmp_path / "older.duckdb"
        shutil.copyfile(serving, older)
        with duckdb.connect(str(older)) as con:
            con.execute("drop table if exists marts.mart_team_kpi_monthly")
        monkeypatch.setenv("AMOKPI_SERVING", str(older))
        serving = older
    if team_mart:  # the team mart has every KPI, rates included
        team_row = mart(serving, "select revenue_amount as revenue, calls_count as calls, win_rate"
                        " from marts.mart_team_kpi_monthly where month_start = ? and group_id = ?",
                        [month, team]).iloc[0]
    else:  # without it, only what adds up over the team's managers
        team_row = mart(serving, "select sum(revenue_amount) as revenue, sum(calls_count) as calls"
                        " from marts.mart_manager_kpi_monthly where month_start = ? and group_id = ?",
                        [month, team]).iloc[0]
    at = open_page("overview", team=team)
    cards = metrics(at)
    assert digits(cards["Выручка"].value) == f"{team_row['revenue']:.0f}"
    assert digits(cards["Звонки"].value) == f"{team_row['calls']:.0f}"
    if team_mart:
        assert cards["Доля выигранных"].value == f"{team_row['win_rate'] * 100:.1f}\u00a0%".replace(".", ",")
    else:
        assert "Доля выигранных" not in cards  # a rate does not add up across a team

    person = mart(serving, "select revenue_amount, win_rate, plan_fulfillment_rate from marts.mart_manager_kpi_monthly"
                  " where month_start = ? and manager_id = ?", [month, manager]).iloc[0]
    at = open_page("overview", team=team, manager=manager)
    cards = metrics(at)
    assert f"Менеджер: {name}" in [c.value for c in at.caption]
    assert digits(cards["Выручка"].value) == f"{person['revenue_amount']:.0f}"
    if pd.notna(person["win_rate"]):
        assert cards["Доля выигранных"].value == f"{person['win_rate'] * 100:.1f}\u00a0%".replace(".", ",")


# ---------------------------------------------------------------- funnel


def test_funnel_shows_conversion_time_in_stage_and_loss_reasons(serving: Path) -> None:
    month = newest_month(serving)
    pipeline = int(scalar(serving, "select min(pipeline_id) from marts.mart_funnel_stages"))
    stages = mart(serving, "select status_name, leads_reached_count, stage_conversion_rate, median_hours_in_stage"
                  " from marts.mart_funnel_stages where month_start = ? and pipeline_id = ?"
                  " order by stage_sort, status_id", [month, pipeline])
    reasons = mart(serving, "select loss_reason_name, sum(leads_lost_count) as lost from marts.mart_funnel_loss_reasons"
                   " where month_start = ? and pipeline_id = ? group by all", [month, pipeline])
    at = open_page("funnel", pipeline=pipeline)
    shown = table(at, "funnel")
    assert list(shown["status_name"]) == list(stages["status_name"])
    pd.testing.assert_series_equal(shown["stage_conversion_rate"], stages["stage_conversion_rate"], check_names=False)
    pd.testing.assert_series_equal(shown["median_hours_in_stage"], stages["median_hours_in_stage"], check_names=False)
    text = shown_text(at, "funnel")  # the reader sees Russian percentages over the raw fractions
    no_base = columns.gap_reason("stage_conversion_rate", "ru")  # a stage nobody entered says so
    assert list(text["stage_conversion_rate"]) == [no_base if pd.isna(v) else formatting.percent(v, "ru")
                                                   for v in stages["stage_conversion_rate"]]
    assert any("\u00a0%" in v and "," in v for v in text["stage_conversion_rate"])
    subheaders = [s.value for s in at.subheader]
    assert {"Воронка: сколько лидов дошло до этапа", "Время на этапе, ч", "Причины отказа"} <= set(subheaders)
    lost = table(at, "loss_reasons").groupby("loss_reason_name")["leads_lost_count"].sum()
    assert lost.to_dict() == reasons.set_index("loss_reason_name")["lost"].to_dict()


def test_funnel_honours_team_and_manager(serving: Path) -> None:
    month = newest_month(serving)
    team, manager, _ = busiest_team_manager(serving, month)
    pipeline = int(scalar(serving, "select min(pipeline_id) from marts.mart_funnel_stages"))
    own = mart(serving, "select status_name, leads_entered_count from marts.mart_manager_funnel_stages"
               " where month_start = ? and pipeline_id = ? and manager_id = ? order by stage_sort, status_id",
               [month, pipeline, manager])
    at = open_page("funnel", pipeline=pipeline, team=team, manager=manager)
    shown = table(at, "funnel")
    assert list(shown["leads_entered_count"]) == list(own["leads_entered_count"])

    team_sum = scalar(serving, "select sum(leads_entered_count) from marts.mart_manager_funnel_stages f"
                      " join marts.dim_managers m using (account_id, manager_id)"
                      " where month_start = ? and pipeline_id = ? and m.group_id = ?", [month, pipeline, team])
    at = open_page("funnel", pipeline=pipeline, team=team)
    assert table(at, "funnel")["leads_entered_count"].sum() == team_sum


# ---------------------------------------------------------------- managers


def test_comparison_table_has_the_team_average(serving: Path) -> None:
    month = newest_month(serving)
    average = mart(serving, "select revenue_amount, calls_count from marts.mart_manager_comparison"
                   " where month_start = ? and is_team_average", [month]).iloc[0]
    managers = mart(serving, "select count(*) as n from marts.mart_manager_comparison"
                    " where month_start = ? and not is_team_average", [month])["n"].iloc[0]
    at = open_page("managers", lang="en")
    shown = table(at, "comparison")
    assert len(shown) == managers + 1
    last = shown.iloc[-1]
    assert last["manager_name"] == "Team average" and bool(last["is_team_average"])
    assert last["revenue_amount"] == pytest.approx(average["revenue_amount"])
    assert last["calls_count"] == pytest.approx(average["calls_count"])


def test_team_filter_narrows_managers(serving: Path) -> None:
    month = newest_month(serving)
    team, _, _ = busiest_team_manager(serving, month)
    names = mart(serving, "select manager_name from marts.mart_manager_kpi_monthly"
                 " where month_start = ? and group_id = ?", [month, team])["manager_name"]
    at = open_page("managers", team=team)
    assert sorted(table(at, "leaderboard")["manager_name"]) == sorted(names)
    compared = table(at, "comparison")
    assert sorted(compared.loc[~compared["is_team_average"], "manager_name"]) == sorted(names)
    # the manager filter only offers the team's people
    assert at.selectbox(key="manager").options[1:] == sorted(names)


def test_manager_drill_down_trends(serving: Path) -> None:
    month = newest_month(serving)
    team, manager, name = busiest_team_manager(serving, month)
    history = mart(serving, "select month_start, revenue_amount from marts.mart_manager_kpi_monthly"
                   " where manager_id = ? and month_start <= ? order by month_start desc", [manager, month])
    at = open_page("manager", manager=manager)
    assert at.subheader[0].value.startswith(name)
    assert digits(metrics(at)["Выручка"].value) == f"{history['revenue_amount'].iloc[0]:.0f}"
    monthly = table(at, f"manager_{manager}")
    assert list(monthly["month_start"]) == [pd.Timestamp(m).date() for m in history["month_start"]]
    assert list(monthly["revenue_amount"]) == list(history["revenue_amount"])
    kpis = scalar(serving, "select count(*) from marts.mart_manager_scorecard where manager_id = ? and month_start = ?",
                  [manager, month])
    assert len(table(at, f"scorecard_{manager}")) == kpis


# ---------------------------------------------------------------- scorecard


def test_scorecard_matrix(serving: Path) -> None:
    month = newest_month(serving)
    rows = mart(serving, "select manager_name, kpi, attainment, total_score, score_rank"
                " from marts.mart_manager_scorecard where month_start = ?", [month])
    at = open_page("scorecard")
    matrix = table(at, "scorecard_matrix")
    assert sorted(matrix["manager_name"]) == sorted(rows["manager_name"].unique())
    assert list(matrix["score_rank"]) == sorted(matrix["score_rank"])
    for _, row in rows.iterrows():
        cell = matrix.loc[matrix["manager_name"] == row["manager_name"]].iloc[0]
        assert cell[row["kpi"]] == pytest.approx(row["attainment"], nan_ok=True)
        assert cell["total_score"] == pytest.approx(row["total_score"])
    assert len(table(at, "scorecard")) == len(rows)


def test_scorecard_honours_team(serving: Path) -> None:
    month = newest_month(serving)
    team, _, _ = busiest_team_manager(serving, month)
    names = mart(serving, "select distinct manager_name from marts.mart_manager_scorecard"
                 " where month_start = ? and group_id = ?", [month, team])["manager_name"]
    at = open_page("scorecard", team=team)
    assert sorted(table(at, "scorecard_matrix")["manager_name"]) == sorted(names)


# ---------------------------------------------------------------- alerts


def test_alerts_count_and_local_time(serving: Path) -> None:
    month = newest_month(serving)
    pipeline = int(scalar(serving, "select min(pipeline_id) from marts.mart_funnel_stages"))
    judged = scalar(serving, "select max(month_start) from marts.mart_alerts where month_start <= ?", [month])
    expected = mart(serving, "select alert_type, detected_at from marts.mart_alerts"
                    " where (month_start is null or month_start = ?) and (pipeline_id is null or pipeline_id = ?)",
                    [judged, pipeline])
    assert set(expected["alert_type"]) > {"no_first_response"}, "lead and manager alerts both show"
    assert not expected.empty, "the demo account should raise alerts"
    at = open_page("alerts", pipeline=pipeline)
    assert digits(metrics(at)["Всего сигналов"].value) == str(len(expected))
    shown = table(at, "alerts")
    assert len(shown) == len(expected)
    timezone = str(scalar(serving, "select timezone from marts.dim_accounts"))
    utc = pd.Timestamp(expected["detected_at"].max()).tz_localize("UTC")
    assert shown["detected_at"].max() == utc.tz_convert(ZoneInfo(timezone)).tz_localize(None)
    assert f"Время указано в часовом поясе аккаунта: {timezone}." in [c.value for c in at.caption]


def test_alerts_honour_manager(serving: Path) -> None:
    month = newest_month(serving)
    manager, name = mart(serving, "select manager_id, manager_name from marts.mart_alerts where manager_id is not null"
                         " group by all order by count(*) desc limit 1").iloc[0]
    count = scalar(serving, "select count(*) from marts.mart_alerts where manager_id = ? and (month_start is null"
                   " or month_start = (select max(month_start) from marts.mart_alerts where month_start <= ?))",
                   [int(manager), month])
    at = open_page("alerts", manager=int(manager))
    shown = table(at, "alerts")
    assert len(shown) == count and set(shown["manager_name"]) == {name}


def test_alerts_empty_state_explains(serving: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    quiet = tmp_path / "quiet.duckdb"
    shutil.copyfile(serving, quiet)
    with duckdb.connect(str(quiet)) as con:
        con.execute("delete from marts.mart_alerts")
    monkeypatch.setenv("AMOKPI_SERVING", str(quiet))
    at = open_page("alerts", lang="en")
    assert not at.dataframe
    assert [i.value for i in at.info][0].startswith("No alerts for these filters")


# ---------------------------------------------------------------- data quality


QUALITY_DDL = """
create table if not exists marts.data_quality_runs (
    run_id varchar not null, checked_at timestamp not null, tool varchar not null, suite varchar,
    check_name varchar not null, table_name varchar, column_name varchar, severity varchar not null,
    status varchar not null, failing_rows bigint, rows_checked bigint, message varchar)"""


def account_time(path: Path, value: object) -> pd.Timestamp:
    timezone = str(scalar(path, "select timezone from marts.dim_accounts"))
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_convert("UTC") if stamp.tzinfo else stamp.tz_localize("UTC")
    return stamp.tz_convert(ZoneInfo(timezone))


def test_quality_shows_last_load_in_account_time(serving: Path, demo_warehouse) -> None:
    loaded = scalar(demo_warehouse.warehouse, "select max(inserted_at) from raw_amocrm._dlt_loads where status = 0")
    at = open_page("quality", lang="en")
    shown = formatting.moment(account_time(serving, loaded).tz_localize(None), "en")
    assert metrics(at)["Last load"].value == shown and str(account_time(serving, loaded).year) in shown


def test_quality_without_its_mart_says_not_available(
    serving: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "bare.duckdb"
    shutil.copyfile(serving, bare)
    with duckdb.connect(str(bare)) as con:
        con.execute("drop table if exists marts.data_quality_runs")
    monkeypatch.setenv("AMOKPI_SERVING", str(bare))
    at = open_page("quality", lang="en")
    assert any("not available yet" in i.value for i in at.info)
    assert "Last load" in metrics(at)


def test_quality_shows_each_tools_latest_run(serving: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checked = tmp_path / "checked.duckdb"
    shutil.copyfile(serving, checked)
    with duckdb.connect(str(checked)) as con:
        con.execute(QUALITY_DDL)
        newest = con.execute("select coalesce(max(checked_at), timestamp '2026-01-01') from marts.data_quality_runs"
                             ).fetchone()[0]
        later = pd.Timestamp(newest) + pd.Timedelta(hours=1)
        con.executemany(
            "insert into marts.data_quality_runs (run_id, checked_at, tool, check_name, table_name, severity, status,"
            " failing_rows, message) values (?, ?, ?, ?, ?, 'error', ?, ?, ?)",
            [("zz-new", later, "gx", "expect_a", "marts.fct_leads", "pass", 0, ""),
             ("zz-new", later, "gx", "expect_b", "marts.fct_leads", "fail", 3, "3 rows unexpected"),
             ("zz-new", later, "gx", "expect_c", "raw_amocrm.leads", "warn", 1, "1 row unexpected")],
        )
    dbt = mart(checked, "select count(*) as checks, count(*) filter (where status = 'fail') as failed"
               " from marts.data_quality_runs where tool = 'dbt' and run_id ="
               " (select arg_max(run_id, checked_at) from marts.data_quality_runs where tool = 'dbt')").iloc[0]
    monkeypatch.setenv("AMOKPI_SERVING", str(checked))
    at = open_page("quality", lang="en")
    cards = metrics(at)
    gx_card = cards["Great Expectations: failed / checks"]
    assert gx_card.value == "1 / 3" and gx_card.delta == "1 warnings"
    assert dbt["checks"] > 0, "the fixture's dbt build records its tests"
    assert cards["dbt tests: failed / checks"].value == f"{dbt['failed']} / {dbt['checks']:,}"
    latest = table(at, "quality_latest")
    assert list(latest["status"].iloc[:2]) == ["fail", "warn"]  # problems first
    gx = latest[latest["tool"] == "gx"]
    assert set(gx["run_id"]) == {"zz-new"} and len(gx) == 3
    assert gx["checked_at"].iloc[0] == account_time(checked, later).tz_localize(None)
    history = table(at, "quality_history")
    assert history.iloc[0]["run_id"] == "zz-new" and history.iloc[0]["failed_count"] == 1


# ---------------------------------------------------------------- URL state


def test_filters_live_in_the_url(serving: Path) -> None:
    month = newest_month(serving)
    team, manager, _ = busiest_team_manager(serving, month)
    pipeline = int(scalar(serving, "select max(pipeline_id) from marts.mart_funnel_stages"))
    at = open_page("funnel", lang="en", month=month.isoformat(), pipeline=pipeline, team=team, manager=manager)
    assert at.radio(key="lang").value == "en" and at.title[0].value.endswith("Funnel")
    assert at.selectbox(key="pipeline").value == pipeline
    assert at.selectbox(key="team").value == team and at.selectbox(key="manager").value == manager
    # a page switch keeps the filters (st.navigation clears the query string; the next run writes them back)
    go(at, "scorecard")
    assert at.title[0].value.endswith("Scorecard") and at.query_params["manager"] == str(manager)
    # a widget change is written back, so the address can be shared
    at.selectbox(key="manager").set_value(None).run()
    assert "page" not in at.query_params  # the page is the URL path now
    assert at.query_params["team"] == str(team) and "manager" not in at.query_params
    assert at.query_params["month"] == month.isoformat() and at.query_params["pipeline"] == str(pipeline)


def test_old_page_links_go_to_the_page(serving: Path) -> None:
    month = newest_month(serving)
    at = AppTest.from_file(str(APP), default_timeout=30)
    for key, value in {"page": "alerts", "lang": "en", "month": month.isoformat()}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "amoCRM sales · Alerts" and "alerts" in [b.key.removeprefix("csv_")
                                                                           for b in at.download_button]
    assert dict(at.query_params) == {"lang": "en", "month": month.isoformat()}


def test_bad_url_values_fall_back_to_defaults(serving: Path) -> None:
    at = open_page("overview", page="nonsense", month="yesterday", pipeline="-1", team="x", manager="123")
    assert at.title[0].value.endswith("Обзор") and "page" not in at.query_params
    assert at.selectbox(key="month").value == newest_month(serving)
    assert at.selectbox(key="team").value is None and at.selectbox(key="manager").value is None


def test_pipeline_filter_is_said_not_to_apply_to_manager_pages(serving: Path) -> None:
    pipelines = mart(serving, "select pipeline_id, pipeline_name from marts.mart_pipeline_monthly "
                              "order by pipeline_id limit 1", [])
    pipeline_id, name = int(pipelines["pipeline_id"][0]), str(pipelines["pipeline_name"][0])
    # the managers page shows the pipeline's lead KPIs (test_pipeline_filter_shows_the_pipelines_manager_kpis)
    for page in ("scorecard", "onboarding"):
        at = open_page(page, pipeline=pipeline_id)
        assert any(name in c.value and "не применяется" in c.value for c in at.caption), page
        assert not any("не применяется" in c.value for c in open_page(page).caption), page


# ---------------------------------------------------------------- downloads, empty cells, first screen


def test_first_screen_ranks_managers_most_behind_first(serving: Path) -> None:
    month = newest_month(serving)
    expected = mart(
        serving,
        "select k.manager_id from marts.mart_manager_kpi_monthly k left join (select manager_id, count(*) as n"
        " from marts.mart_alerts where month_start is null or month_start ="
        " (select max(month_start) from marts.mart_alerts where month_start <= ?) group by manager_id) a"
        " using (manager_id) where k.month_start = ?"
        " order by k.plan_fulfillment_rate nulls last, coalesce(a.n, 0) desc, k.revenue_amount nulls first,"
        " k.manager_name, k.manager_id",
        [month, month],
    )
    at = open_page("overview")
    ranked = table(at, "behind")
    assert list(ranked["manager_id"]) == list(expected["manager_id"])
    # the link opens the manager page with that manager, this month and language
    first = ranked.iloc[0]
    link = str(first["manager_link"])
    assert link.startswith("manager?") and link.endswith(f"#{first['manager_name']}")
    query = dict(pair.split("=") for pair in link.removeprefix("manager?").split("#")[0].split("&"))
    assert query == {"manager": str(first["manager_id"]), "month": month.isoformat(), "lang": "ru"}
    landed = open_page("manager", **query)
    assert landed.selectbox(key="manager").value == int(first["manager_id"])
    assert any(str(first["manager_name"]) in h.value for h in landed.subheader)
    texts = shown_text(at, "behind")
    assert all(str(v).strip() for v in texts["alerts_text"])
    # a manager's lead alerts are counted by type (in SQL: a large account holds tens of thousands)
    counts = mart(serving, "select manager_id, alert_type, count(*) as n from marts.mart_alerts"
                  " where month_start is null and lead_id is not null and manager_id is not null group by all")
    assert not counts.empty
    words = dict(zip(ranked["manager_id"].astype(int), texts["alerts_text"].astype(str), strict=True))
    for manager, kind, n in counts.itertuples(index=False):
        if int(manager) in words:
            assert f"{t('ru', kind)}: {formatting.number(n, 'ru')}" in words[int(manager)], (manager, kind)


def test_manager_page_opens_on_the_manager_who_needs_help(serving: Path) -> None:
    at = open_page("manager")
    ranked = table(open_page("overview"), "behind")
    name = str(ranked["manager_name"].iloc[0])
    assert any(name in c.value and ("помощь" in c.value) for c in at.caption)
    assert at.subheader[0].value.startswith(name)


def test_young_cohorts_are_marked(serving: Path) -> None:
    at = open_page("overview")  # the newest month: its cohort is still maturing
    assert any(c.value.startswith("\\* —") for c in at.caption)  # escaped: a marker, not a bullet
    assert "Конверсия лидов *" in metrics(at)
    months = list(table(at, "overview")["month_start"])
    shown = shown_text(at, "overview")
    marked = [i for i, v in enumerate(shown["lead_conversion_rate"]) if str(v).endswith(" *")]
    young = (months[0].replace(day=1) - pd.Timedelta(days=1)).replace(day=1)  # the snapshot month and the one before
    assert marked == [i for i, m in enumerate(months) if m >= young]
    old = open_page("overview", month=months[-1].isoformat())  # an old month has matured
    assert not any(str(m.label).endswith(" *") for m in old.metric)


# ---------------------------------------------------------------- drill-down to leads


def with_lead_marts(serving: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A serving copy with the drill-down marts (built here from fct_leads when the build lacks them)."""
    copy = tmp_path / "drill.duckdb"
    shutil.copyfile(serving, copy)
    with duckdb.connect(str(copy)) as con:
        have = {r[0] for r in con.execute("select table_name from information_schema.tables"
                                          " where table_schema = 'marts'").fetchall()}
        if "fct_kpi_leads" not in have:
            con.execute("""create table marts.fct_kpi_leads as
                select account_id, cast(date_trunc('month', created_at) as date) as month_start,
                       manager_at_creation_id as manager_id, 'new_leads_count' as kpi_name, lead_id
                from marts.fct_leads where not is_deleted and manager_at_creation_id is not null
                union all
                select account_id, cast(date_trunc('month', won_at) as date), manager_at_close_id,
                       'deals_won_count', lead_id
                from marts.fct_leads where is_won and manager_at_close_id is not null""")
        if "fct_funnel_stage_leads" not in have:
            con.execute("""create table marts.fct_funnel_stage_leads as
                select account_id, pipeline_id, status_id, cast(date_trunc('month', created_at) as date) as month_start,
                       manager_at_creation_id as manager_id, 'leads_entered_count' as kpi_name, lead_id
                from marts.fct_leads where not is_deleted""")
        found = con.execute("select column_name from information_schema.columns"
                            " where table_schema = 'marts' and table_name = 'dim_accounts'").fetchall()
        if "crm_base_url" not in {r[0] for r in found}:
            con.execute("alter table marts.dim_accounts add column crm_base_url varchar")
            con.execute("update marts.dim_accounts set crm_base_url = 'https://demo.amocrm.ru'")
    monkeypatch.setenv("AMOKPI_SERVING", str(copy))
    return copy


def test_drill_down_to_leads(serving: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = with_lead_marts(serving, tmp_path, monkeypatch)
    month = newest_month(copy)
    manager = int(scalar(copy, "select manager_id from marts.fct_kpi_leads where month_start = ?"
                         " and kpi_name = 'new_leads_count' group by manager_id order by count(*) desc limit 1",
                         [month]))
    at = open_page("manager", manager=manager)
    at.selectbox(key=f"drill_kpi_{manager}").set_value("new_leads_count").run()
    leads = table(at, f"kpi_leads_{manager}")
    expected = mart(copy, "select distinct lead_id from marts.fct_kpi_leads where month_start = ? and manager_id = ?"
                    " and kpi_name = 'new_leads_count'", [month, manager])
    assert sorted(leads["lead_id"]) == sorted(expected["lead_id"])
    base = str(scalar(copy, "select crm_base_url from marts.dim_accounts")).rstrip("/")
    assert all(url == f"{base}/leads/detail/{lead}" for url, lead in zip(leads["lead_url"], leads["lead_id"],
                                                                          strict=True))
    assert f"xlsx_kpi_leads_{manager}" in [b.key for b in at.download_button]

    funnel = open_page("funnel")
    keys = [s.key for s in funnel.selectbox]
    assert any(k.startswith("drill_stage_") for k in keys)
    stage_key = next(k for k in keys if k.startswith("drill_stage_"))
    pipeline = stage_key.removeprefix("drill_stage_")
    status = funnel.selectbox(key=stage_key).value
    funnel.selectbox(key=f"drill_count_{pipeline}").set_value("leads_entered_count").run()
    stage = table(funnel, f"stage_leads_{pipeline}")
    expected = mart(copy, "select distinct lead_id from marts.fct_funnel_stage_leads where month_start = ?"
                    " and pipeline_id = ? and status_id = ? and kpi_name = 'leads_entered_count'",
                    [month, int(pipeline), int(status)])
    assert sorted(stage["lead_id"]) == sorted(expected["lead_id"])

    alerts = open_page("alerts")
    shown = table(alerts, "alerts")
    linked = shown.dropna(subset=["lead_id"])
    assert not linked.empty and all(url == f"{base}/leads/detail/{int(lead)}"
                                    for url, lead in zip(linked["lead_url"], linked["lead_id"], strict=True))


def test_drill_down_without_its_marts_says_so(serving: Path) -> None:
    at = open_page("manager")
    if not scalar(serving, "select count(*) from information_schema.tables where table_name = 'fct_kpi_leads'"):
        assert any("fct_kpi_leads" in i.value for i in at.info)
# ---------------------------------------------------------------- marketing, onboarding, targets, snapshots


def currency(path: Path) -> str:
    return str(scalar(path, "select any_value(currency) from marts.mart_department_kpi_monthly"))


def source_name(source: str, lang: str) -> str:
    return {"(all sources)": {"ru": "Все источники", "en": "All sources"}[lang],
            "(not set)": {"ru": "Источник не указан", "en": "Source not set"}[lang]}.get(source, source)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_marketing_shows_the_mart(serving: Path, lang: str) -> None:
    month = newest_month(serving)
    rows = mart(serving, "select * from marts.mart_marketing_monthly where month_start = ?", [month])
    at = open_page("marketing", lang=lang)
    shown = table(at, "marketing_sources").set_index("lead_source")
    assert sorted(shown.index) == sorted(source_name(s, lang) for s in rows["lead_source"])
    for _, row in rows.iterrows():
        cell = shown.loc[source_name(row["lead_source"], lang)]
        for column in ("leads_created_count", "revenue_amount", "marketing_spend_amount", "cac_amount",
                       "marketing_roi_rate"):
            assert cell[column] == pytest.approx(row[column], nan_ok=True), (row["lead_source"], column)
    total = rows[rows["is_all_sources"]].iloc[0]
    cards = metrics(at)
    assert cards[columns.label("cac_amount", lang)].value == formatting.money(total["cac_amount"], currency(serving),
                                                                               lang)
    assert cards[columns.label("sales_profitability_rate", lang)].value == formatting.percent(
        total["sales_profitability_rate"], lang)
    history = table(at, "marketing_history")
    months = scalar(serving, "select count(*) from marts.mart_marketing_monthly where is_all_sources"
                    " and month_start <= ?", [month])
    assert len(history) == months


def test_onboarding_shows_the_mart_and_honours_the_team(serving: Path) -> None:
    rows = mart(serving, "select manager_id, manager_name, onboarding_days from marts.mart_manager_onboarding")
    at = open_page("onboarding")
    shown = table(at, "onboarding").set_index("manager_id")
    assert sorted(shown.index) == sorted(rows["manager_id"])
    for _, row in rows.iterrows():
        days = [shown.loc[row["manager_id"], "onboarding_days"], row["onboarding_days"]]
        assert [None if pd.isna(d) else int(d) for d in days][0] == [None if pd.isna(d) else int(d) for d in days][1]
    team, _, _ = busiest_team_manager(serving, newest_month(serving))
    members = mart(serving, "select manager_id from marts.dim_managers where group_id = ?", [team])
    narrowed = table(open_page("onboarding", team=team), "onboarding")
    assert set(narrowed["manager_id"]) == set(rows["manager_id"]) & set(members["manager_id"])


def test_targets_show_the_suggestions_beside_the_current_ones(serving: Path) -> None:
    month = newest_month(serving)
    target_month = (pd.Timestamp(month) + pd.offsets.MonthBegin(1)).date()
    rows = mart(serving, "select scorecard_role, kpi, current_target, suggested_target"
                " from marts.mart_scorecard_target_suggestions where target_month_start = ?", [target_month])
    assert not rows.empty
    for lang in ("ru", "en"):
        at = open_page("targets", lang=lang)
        shown = table(at, "targets")
        assert len(shown) == len(rows)
        texts = shown_text(at, "targets")
        assert set(texts["kpi"]) == {columns.label(k, lang) for k in rows["kpi"]}  # registry labels, not keys

        def triples(frame: pd.DataFrame) -> list[tuple[str, float, float]]:
            return sorted((str(r.kpi), round(float(r.current_target), 9), round(float(r.suggested_target), 9))
                          for r in frame.itertuples())

        assert triples(shown) == triples(rows)
        assert len(at.get("vega_lite_chart")) == rows["kpi"].nunique()


def test_pipeline_history_shows_the_open_pipeline_per_day(serving: Path) -> None:
    pipeline = int(scalar(serving, "select min(pipeline_id) from marts.mart_funnel_stages"))
    rows = mart(serving, "select snapshot_day, count(*) as n, sum(price_amount) as amount"
                " from marts.fct_pipeline_daily_snapshots where pipeline_id = ? group by 1 order by 1 desc",
                [pipeline])
    at = open_page("pipeline_history")
    shown = table(at, "pipeline_snapshots")
    assert list(shown["open_leads_count"]) == list(rows["n"])
    assert list(shown["open_amount"]) == pytest.approx(list(rows["amount"]))
    manager = int(scalar(serving, "select manager_id from marts.fct_pipeline_daily_snapshots"
                         " where pipeline_id = ? and manager_id is not null limit 1", [pipeline]))
    mine = mart(serving, "select count(*) as n from marts.fct_pipeline_daily_snapshots where pipeline_id = ?"
                " and manager_id = ? group by snapshot_day order by snapshot_day desc", [pipeline, manager])
    assert list(table(open_page("pipeline_history", manager=manager), "pipeline_snapshots")["open_leads_count"]) \
        == list(mine["n"])


def page_texts(at: AppTest) -> list[str]:
    """Everything a page draws in its main area as text: headings, notes, cards, tables (headers and the
    display text of every cell) and the charts' titles, legends and category names."""
    texts: list[str] = [e.value for kind in ("title", "subheader", "caption", "markdown", "info", "warning")
                        for e in getattr(at.main, kind)]
    for m in at.main.metric:
        texts += [m.label, m.value, str(m.proto.delta or "")]
    csv_keys = [b.key for b in at.download_button if b.key.startswith("csv_")]  # one per table
    for key in csv_keys:
        element = at.dataframe[csv_keys.index(key)]
        config = json.loads(element.proto.columns or "{}")
        # link cells show a name over an address: the address is not text a reader reads
        shown = [name for name in shown_text(at, key.removeprefix("csv_")).columns
                 if name not in columns.HIDDEN and not config.get(name, {}).get("hidden")
                 and config.get(name, {}).get("type_config", {}).get("type") != "link"]
        texts += shown_text(at, key.removeprefix("csv_"))[shown].astype(str).to_numpy().ravel().tolist()
        texts += [config.get(name, {}).get("label") or name for name in shown]
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        texts += [str(v) for v in _titles(spec)]
        for dataset in chart.proto.datasets:  # the long frames' measure names are the legend's entries
            frame = dataframe_util.convert_arrow_bytes_to_pandas_df(dataset.data.data)
            for column in frame.columns:
                if frame[column].dtype == object:
                    texts += frame[column].dropna().astype(str).tolist()
    return texts


def _titles(node: object) -> Iterator[object]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "title" and isinstance(value, str):
                yield value
            else:
                yield from _titles(value)
    elif isinstance(node, list):
        for value in node:
            yield from _titles(value)


# The checks' own words (dbt test names, GX messages) are shown as the tools wrote them: quality is left out.
# the quality page shows dbt's and GX's check names as the tools wrote them
LANGUAGE_PAGES = [p for p in PAGES if p != "quality"]


GAPS = {"None", "nan", "NaN", "NaT", "<NA>"}  # Python's and pandas' words for a gap
RAW_VALUES = {"high", "up", "down", "pass", "fail"}  # the marts' enum values, which a reader sees translated


def check_page(at: AppTest, page: str, lang: str, values: set[str], files: Downloads,
               narrowed: bool = False) -> int:
    """What every page owes its reader, in one pass over what it drew (`narrowed`: to one manager, whose
    figures a page may not have, when it says so). Returns how many empty cells said why."""
    where = (page, lang)
    assert not at.exception, (*where, [e.value for e in at.exception])
    assert not at.warning, (*where, [w.value for w in at.warning])
    keys = [b.key for b in at.download_button]
    csv = [k.removeprefix("csv_") for k in keys if k.startswith("csv_")]
    assert len(csv) == len(at.dataframe), where  # a CSV button under every table …
    assert sorted(k.removeprefix("xlsx_") for k in keys if k.startswith("xlsx_")) == sorted(csv), where  # … and Excel
    assert len(keys) == 2 * len(csv), where
    if page != "quality":  # the data-quality mart is optional and explained when absent
        assert at.dataframe or (narrowed and at.info), where
    for element in at.dataframe:
        assert element.proto.placeholder == formatting.MISSING  # the browser draws a gap as a dash
    reasons = 0
    for name in csv:  # a gap reads as its reason or a dash, an enum in the reader's words
        shown = shown_text(at, name)
        cells = set(shown.astype(str).to_numpy().ravel())
        assert not (GAPS | RAW_VALUES) & cells, (*where, name, (GAPS | RAW_VALUES) & cells)
        raw = at.dataframe[csv.index(name)].value
        for column in raw.columns:
            reason = columns.gap_reason(str(column), lang)
            if reason is None or column not in shown.columns:
                continue
            for text in shown.loc[raw[column].isna().to_numpy(), column].astype(str):
                assert text.removesuffix(" *") == reason, (*where, name, column, text)
                reasons += 1
    if page in LANGUAGE_PAGES:  # no key, no None, no other language, the language's number formats
        texts = page_texts(at)
        assert len(texts) > 10 or narrowed, where
        assert not problems(texts, lang, values), (*where, problems(texts, lang, values))
        for chart in at.get("vega_lite_chart"):  # axes in the reader's locale
            number = json.loads(chart.proto.spec)["config"]["locale"]["number"]
            assert (number["decimal"], number["thousands"]) == ((",", "\u00a0") if lang == "ru" else (".", ","))
    if page == "scorecard" and lang == "ru":
        (button,) = [b for b in at.download_button if b.key == "xlsx_scorecard"]
        sheet = pd.read_excel(io.BytesIO(files.of(button)))
        assert "Направление" in sheet.columns  # the reader's headers …
        assert set(sheet["Направление"]) <= {"up", "down", "none"}  # … over the mart's raw values
    return reasons


def test_every_page_in_both_languages_and_filtered(serving: Path, downloads: Downloads) -> None:
    """Every page, in Russian and English, then narrowed to a team, a manager and a quarter: it renders without an
    error or warning, every table has its CSV and Excel downloads and shows gaps as dashes, and the
    page speaks the reader's language in text, tables and charts (one sweep: a page run is the cost)."""
    files = downloads
    values = data_values(serving)
    at = open_page("overview")
    reasons = 0
    for lang in ("ru", "en"):
        at.radio(key="lang").set_value(lang)
        for page in PAGES:
            reasons += check_page(go(at, page), page, lang, values, files)
    assert reasons > 0  # the demo has empty figures, and each said why ("нет базы", "нет плана" …)
    team, manager, _ = busiest_team_manager(serving, newest_month(serving))
    at = open_page("overview", team=team, manager=manager, period="quarter")  # a shared address with filters
    for page in PAGES:
        check_page(go(at, page), page, "ru", values, files, narrowed=True)
        assert at.selectbox(key="team").value == team and at.selectbox(key="manager").value == manager, page


def test_a_long_table_draws_its_first_rows_and_says_how_many_there_are(
    serving: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit_app import ui

    monkeypatch.setattr(ui, "SHOWN_ROWS", 5)
    at = open_page("alerts")
    drawn = at.dataframe[0].value
    assert len(drawn) == 5
    month = newest_month(serving)
    alerts = int(scalar(serving, "select count(*) from marts.mart_alerts where month_start is null or month_start ="
                                 " (select max(month_start) from marts.mart_alerts where month_start <= ?)", [month]))
    assert alerts > 5
    assert any(formatting.number(alerts, "ru") in c.value for c in at.caption)  # "… first 5 of N rows …"


# ---------------------------------------------------------------- periods: quarter and year to date


@pytest.mark.parametrize("period", ["quarter", "year_to_date"])
def test_overview_over_a_quarter_and_the_year_to_date(serving: Path, period: str) -> None:
    from streamlit_app.context import period_bounds

    month = newest_month(serving)
    start, end = period_bounds(period, month)
    expected = mart(serving, "select * from marts.mart_manager_kpi_periods where period_type = ? and period_end = ?"
                             " and kpi_grain = 'department'", [period, end]).iloc[0]
    assert pd.Timestamp(expected["period_start"]).date() == start
    at = open_page("overview", period=period, month=month.isoformat())
    assert at.query_params["period"] == period  # the period is part of the shared address
    text = formatting.quarter(month, "ru") if period == "quarter" else formatting.month_span(start, month, "ru")
    assert any(text in s.value for s in at.subheader), [s.value for s in at.subheader]
    cards = metrics(at)
    currency = str(scalar(serving, "select currency from marts.dim_accounts limit 1"))
    revenue = cards[columns.label("revenue_amount", "ru")]
    assert revenue.value == formatting.money(expected["revenue_amount"], currency, "ru")
    assert cards[columns.label("deals_won_count", "ru")].value == formatting.number(expected["deals_won_count"], "ru")
    # the first screen ranks by the period's plan fulfilment, each manager's figure the period mart's
    ranked = table(at, "behind")
    period_rates = mart(serving, "select manager_id, plan_fulfillment_rate from marts.mart_manager_kpi_periods"
                                 " where period_type = ? and period_end = ? and kpi_grain = 'manager'", [period, end])
    want = dict(zip(period_rates["manager_id"].astype(int), period_rates["plan_fulfillment_rate"], strict=True))
    assert len(ranked) == len(want)
    for manager_id, rate in zip(ranked["manager_id"].astype(int), ranked["plan_fulfillment_rate"], strict=True):
        assert rate == pytest.approx(want[manager_id], nan_ok=True), manager_id
    rates = [r for r in ranked["plan_fulfillment_rate"] if not pd.isna(r)]
    assert rates == sorted(rates)  # most behind first
    # a page that shows a month says so, and which
    funnel = go(at, "funnel")
    assert any(formatting.month(month, "ru") in c.value and text in c.value for c in funnel.caption)


def test_the_month_is_the_default_period_and_stays_out_of_the_address(serving: Path) -> None:
    at = open_page("overview")
    assert at.selectbox(key="period").value is None and "period" not in at.query_params
    month = newest_month(serving)
    assert any(formatting.month(month, "ru") in s.value for s in at.subheader)


def test_a_running_quarter_is_not_compared_with_a_whole_one(serving: Path) -> None:
    from streamlit_app.context import period_bounds, previous_period_end

    month = newest_month(serving)
    end, before_end = period_bounds("quarter", month)[1], previous_period_end("quarter", month)
    months = dict(mart(serving, "select period_end, months_count from marts.mart_manager_kpi_periods"
                                " where period_type = 'quarter' and kpi_grain = 'department'").itertuples(index=False))
    at = open_page("overview", period="quarter", month=month.isoformat())
    from streamlit_app import data

    kpi_labels = {columns.label(c, "ru") for c in data.KPI_COLUMNS}  # the KPI cards; the plan cards compare with plan
    deltas = [m.proto.delta for m in at.metric if m.label.rstrip(" *") in kpi_labels]
    assert deltas
    if months.get(pd.Timestamp(end)) == months.get(pd.Timestamp(before_end)):
        assert any(deltas)
    else:  # the demo's newest quarter is running (fewer months than the one before): no change is drawn
        assert not any(deltas) and any("Изменение не показано" in c.value for c in at.caption)


# ---------------------------------------------------------------- pipeline filter on manager KPIs, leads by loss reason


def test_pipeline_filter_shows_the_pipelines_manager_kpis(serving: Path) -> None:
    month = newest_month(serving)
    pipelines = mart(serving, "select distinct pipeline_id, pipeline_name from marts.mart_funnel_stages"
                     " where pipeline_id in (select pipeline_id from marts.mart_manager_pipeline_kpi_monthly"
                     " where month_start = ?) order by pipeline_id", [month])
    assert len(pipelines) > 1, "the demo has leads in more than one pipeline"
    everyone = mart(serving, "select manager_id, deals_won_count from marts.mart_manager_kpi_monthly"
                    " where month_start = ?", [month]).set_index("manager_id")["deals_won_count"]
    differs = False
    for pipeline_id, name in pipelines.itertuples(index=False):
        expected = mart(serving, "select manager_id, new_leads_count, deals_won_count, win_rate"
                        " from marts.mart_manager_pipeline_kpi_monthly where month_start = ? and pipeline_id = ?",
                        [month, int(pipeline_id)]).set_index("manager_id")
        at = open_page("managers", pipeline=int(pipeline_id))
        shown = table(at, f"leaderboard_pipeline_{pipeline_id}").set_index("manager_id")
        assert sorted(shown.index) == sorted(expected.index), name  # every manager with leads in the pipeline
        for manager, row in expected.iterrows():
            assert shown.loc[manager, "deals_won_count"] == row["deals_won_count"], (name, manager)
            assert shown.loc[manager, "new_leads_count"] == row["new_leads_count"], (name, manager)
            assert shown.loc[manager, "win_rate"] == pytest.approx(row["win_rate"], nan_ok=True), (name, manager)
            differs |= bool(row["deals_won_count"] != everyone[manager])
        assert "revenue_amount" not in shown.columns and "calls_count" not in shown.columns  # not split by pipeline
        captions = [c.value for c in at.caption]
        assert any(f"«{name}»" in c and "Выручка, звонки" in c for c in captions), captions
        assert any(c.startswith("Сравнение с командой — по всем воронкам") for c in captions), captions
        assert any(c.startswith("Звонки по воронкам не делятся") for c in captions), captions
        assert not at.get("vega_lite_chart")  # calls have no pipeline: the calls vs deals chart is not drawn
    assert differs, "a pipeline's figures are not the all-pipelines ones"

    at = open_page("managers")  # without a pipeline, as before
    shown = table(at, "leaderboard").set_index("manager_id")
    assert shown["deals_won_count"].to_dict() == everyone.to_dict()
    assert "revenue_amount" in shown.columns and len(at.get("vega_lite_chart")) == 1
    assert not any("воронк" in c.value for c in at.caption)

    # the manager page's KPIs by month follow the pipeline too
    pipeline_id = int(pipelines["pipeline_id"].iloc[0])
    manager = int(mart(serving, "select manager_id from marts.mart_manager_pipeline_kpi_monthly"
                       " where month_start = ? and pipeline_id = ? order by new_leads_count desc, manager_id limit 1",
                       [month, pipeline_id]).iloc[0, 0])
    history = mart(serving, "select month_start, new_leads_count from marts.mart_manager_pipeline_kpi_monthly"
                   " where manager_id = ? and pipeline_id = ? and month_start <= ? order by month_start desc",
                   [manager, pipeline_id, month])
    at = open_page("manager", manager=manager, pipeline=pipeline_id)
    monthly = table(at, f"manager_{manager}_pipeline_{pipeline_id}")
    assert list(monthly["month_start"]) == [pd.Timestamp(m).date() for m in history["month_start"]]
    assert list(monthly["new_leads_count"]) == list(history["new_leads_count"])


def test_loss_reason_lists_the_leads_the_mart_counts(serving: Path) -> None:
    month = newest_month(serving)
    pipeline = int(scalar(serving, "select min(pipeline_id) from marts.mart_funnel_stages"))
    reasons = mart(serving, "select loss_reason_id, min(loss_reason_name) as name, sum(leads_lost_count) as lost"
                   " from marts.mart_funnel_loss_reasons where month_start = ? and pipeline_id = ?"
                   " group by loss_reason_id order by loss_reason_id", [month, pipeline])
    assert len(reasons) > 1
    base = str(scalar(serving, "select crm_base_url from marts.dim_accounts")).rstrip("/")
    at = open_page("funnel", pipeline=pipeline)
    key = f"drill_loss_{pipeline}"
    assert sorted(at.selectbox(key=key).options) == sorted(
        f"{r.name} — {formatting.number(r.lost, 'ru')}" for r in reasons.itertuples())
    for reason in reasons.itertuples():
        at.selectbox(key=key).set_value(int(reason.loss_reason_id)).run()
        leads = table(at, f"loss_leads_{pipeline}")
        # the leads lost that month in the pipeline from one of its stages, not deleted, with that reason
        expected = mart(serving, "select lead_id from marts.fct_leads where pipeline_id = ? and lost_month_start = ?"
                        " and coalesce(loss_reason_id, -1) = ? and lost_from_status_id is not null and not is_deleted",
                        [pipeline, month, int(reason.loss_reason_id)])
        assert len(leads) == reason.lost == len(expected), reason.name
        assert sorted(leads["lead_id"]) == sorted(expected["lead_id"]), reason.name
        assert all(url == f"{base}/leads/detail/{lead}" for url, lead in zip(leads["lead_url"], leads["lead_id"],
                                                                              strict=True))
        assert f"xlsx_loss_leads_{pipeline}" in [b.key for b in at.download_button]


def test_pipeline_filtered_pages_in_both_languages(serving: Path, downloads: Downloads) -> None:
    """The pages the pipeline filter changes or explains, with a pipeline chosen: the sweep's checks (no key, no
    None, the reader's language, downloads under every table)."""
    values = data_values(serving)
    pipeline = int(scalar(serving, "select max(pipeline_id) from marts.mart_manager_pipeline_kpi_monthly"))
    at = open_page("overview", pipeline=pipeline)
    for lang in ("ru", "en"):
        at.radio(key="lang").set_value(lang)
        for page in ("managers", "manager", "scorecard", "onboarding", "funnel"):
            check_page(go(at, page), page, lang, values, downloads)
            assert at.selectbox(key="pipeline").value == pipeline, page


def test_managers_leaderboard_over_the_year_to_date(serving: Path) -> None:
    from streamlit_app.context import period_bounds

    month = newest_month(serving)
    end = period_bounds("year_to_date", month)[1]
    expected = mart(serving, "select k.manager_id, k.revenue_amount, k.deals_won_count, d.manager_name"
                             " from marts.mart_manager_kpi_periods k"
                             " join marts.dim_managers d using (account_id, manager_id)"
                             " where k.period_type = 'year_to_date' and k.period_end = ? and k.kpi_grain = 'manager'",
                    [end])
    at = open_page("managers", period="year_to_date", month=month.isoformat())
    board = table(at, "leaderboard")
    assert sorted(board["manager_id"].astype(int)) == sorted(expected["manager_id"].astype(int))
    want = expected.set_index("manager_id")
    for row in board.itertuples():
        assert row.revenue_amount == pytest.approx(want.loc[row.manager_id, "revenue_amount"], nan_ok=True)
        assert row.deals_won_count == want.loc[row.manager_id, "deals_won_count"]
        assert row.manager_name == want.loc[row.manager_id, "manager_name"]
    # more than the month: the year's revenue is at least the month's for every manager
    monthly = mart(serving, "select manager_id, revenue_amount from marts.mart_manager_kpi_monthly"
                            " where month_start = ?", [month]).set_index("manager_id")["revenue_amount"]
    assert any(want.loc[m, "revenue_amount"] > monthly.get(m, 0) for m in want.index)
    text = formatting.month_span(period_bounds("year_to_date", month)[0], month, "ru")
    assert any(text in s.value for s in at.subheader)
    assert any(formatting.month(month, "ru") in c.value for c in at.caption)  # the comparison is the month's
    assert not any("Этот раздел показывает месяц" in c.value for c in at.caption)  # the page follows the period


def test_quality_shows_the_sources_freshness(serving: Path) -> None:
    at = open_page("quality")
    fresh = table(at, "freshness")
    assert "raw_amocrm._dlt_loads" in set(fresh["table_name"]) and len(fresh) == 14
    assert set(fresh["status"]) == {"pass"}  # `amokpi demo` has just loaded it
    keys = [b.key for b in at.download_button if b.key.startswith("csv_")]
    config = json.loads(at.dataframe[keys.index("csv_freshness")].proto.columns or "{}")
    assert config["table_name"]["label"] == "Таблица"  # headers in the reader's words
    assert any("Свежесть" in s.value for s in at.subheader)


def test_a_range_of_months_on_the_overview_and_the_leaderboard(serving: Path) -> None:
    """Period «range»: the reader picks the first and last month; cards, the first screen and the leaderboard
    read mart_manager_kpi_ranges for exactly that range, the change is against as many months before, and the
    range is in the shared address."""
    from streamlit_app.context import month_count, months_before, previous_month

    last = previous_month(newest_month(serving))  # whole months on both sides of the comparison
    first = months_before(last, 2)
    end = (pd.Timestamp(last) + pd.offsets.MonthEnd(0)).date()
    expected = mart(serving, "select * from marts.mart_manager_kpi_ranges where period_start = ? and period_end = ?"
                             " and kpi_grain = 'department'", [first, end]).iloc[0]
    assert expected["months_count"] == month_count(first, last) == 3
    at = open_page("overview", period="range", month=last.isoformat(), **{"from": first.isoformat()})
    assert at.query_params["period"] == "range" and at.query_params["from"] == first.isoformat()
    text = formatting.month_span(first, last, "ru")
    assert any(text in s.value for s in at.subheader), [s.value for s in at.subheader]
    cards = metrics(at)
    currency = str(scalar(serving, "select currency from marts.dim_accounts limit 1"))
    assert cards[columns.label("revenue_amount", "ru")].value == formatting.money(expected["revenue_amount"],
                                                                                   currency, "ru")
    assert cards[columns.label("deals_won_count", "ru")].value == formatting.number(expected["deals_won_count"], "ru")
    before = mart(serving, "select revenue_amount from marts.mart_manager_kpi_ranges where period_start = ?"
                           " and period_end = ? and kpi_grain = 'department'",
                  [months_before(first, 3), first - pd.Timedelta(days=1)])
    if not before.empty:  # the change is against the three months before
        assert cards[columns.label("revenue_amount", "ru")].proto.delta
    ranked = table(at, "behind")
    want = mart(serving, "select manager_id, plan_fulfillment_rate from marts.mart_manager_kpi_ranges"
                         " where period_start = ? and period_end = ? and kpi_grain = 'manager'", [first, end])
    assert sorted(ranked["manager_id"].astype(int)) == sorted(want["manager_id"].astype(int))
    board = table(go(at, "managers"), "leaderboard")
    revenue = mart(serving, "select manager_id, revenue_amount from marts.mart_manager_kpi_ranges"
                            " where period_start = ? and period_end = ? and kpi_grain = 'manager'", [first, end])
    want_revenue = dict(zip(revenue["manager_id"].astype(int), revenue["revenue_amount"], strict=True))
    assert len(board) == len(want_revenue)
    for manager_id, amount in zip(board["manager_id"].astype(int), board["revenue_amount"], strict=True):
        assert amount == pytest.approx(want_revenue[manager_id]), manager_id
