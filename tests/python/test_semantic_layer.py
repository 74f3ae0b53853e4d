"""The semantic layer answers as the marts do, on the demo warehouse's published marts: `mf query` (the
analyst's command line) gives win rate by month and team as mart_team_kpi_monthly; MetricFlow's engine, driven
as `mf query` drives it, gives every registry KPI per manager, per team and for the department by month equal
to mart_manager_kpi_monthly, mart_team_kpi_monthly and mart_department_kpi_monthly, the team KPIs by quarter
equal to mart_manager_kpi_periods, and the funnel by stage equal to mart_funnel_stages. Team, department and
quarter figures are MetricFlow's own aggregation of the manager rows and the lead values (rates as ratios of
summed counts, medians over the leads), so equal figures mean the metric definitions are the catalog's."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from amokpi.kpi_semantic import SEMANTIC
from amokpi.kpis import registry
from amokpi.settings import DBT_PROFILES_DIR, PROJECT_ROOT

MF = str(Path(sys.executable).with_name("mf"))
ALL_KPIS = list(registry())
TEAM_KPIS = [kpi.name for kpi in registry().values() if kpi.is_per_team]


def mf_project(tmp_path: Path, target: Path) -> Path:
    """A project root for `mf`, which reads `<project>/target/semantic_manifest.json` only: the project's own
    files linked, and the semantic manifest of the dbt build in `target` (tests keep dbt's artifacts out of the
    project's target/, conftest.py)."""
    root = tmp_path / "project"
    (root / "target").mkdir(parents=True)
    for name in ("dbt_project.yml", "models", "dbt_project", "tests"):
        (root / name).symlink_to(PROJECT_ROOT / name)
    shutil.copy(target / "semantic_manifest.json", root / "target")
    return root


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> float | None:
    return None if text == "" else float(text)


def month(text: str) -> date:
    return date.fromisoformat(text[:10])


def assert_equal_figures(mf_rows: dict[tuple, dict[str, str]], mart_rows: dict[tuple, dict[str, object]],
                         metrics: list[str], what: str) -> int:
    """Every metric of every row equal (NULL for NULL, floating point within 1e-9); returns the figures compared."""
    assert mf_rows.keys() == mart_rows.keys(), f"{what}: rows differ"
    compared = 0
    for key, mart in mart_rows.items():
        for metric in metrics:
            got, want = number(mf_rows[key][metric]), mart[metric]
            if want is None:
                assert got is None, f"{what} {key} {metric}: mf {got}, mart NULL"
            else:
                assert got is not None and math.isclose(got, float(want), rel_tol=1e-9, abs_tol=1e-9), (
                    f"{what} {key} {metric}: mf {got}, mart {want}")
            compared += 1
    return compared


def mart(con: duckdb.DuckDBPyConnection, sql: str, keys: int) -> dict[tuple, dict[str, object]]:
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return {tuple(row[:keys]): dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def test_every_registry_kpi_has_its_metric_and_rates_are_ratios_of_sums() -> None:
    document = yaml.safe_load((PROJECT_ROOT / SEMANTIC).read_text(encoding="utf-8"))
    metrics = {metric["name"]: metric for metric in document["metrics"]}
    measures = {measure["name"]: measure for model in document["semantic_models"] for measure in model["measures"]}
    assert set(registry()) <= metrics.keys()
    for kpi in registry().values():
        metric = metrics[kpi.name]
        if kpi.unit == "rate":
            assert metric["type"] == "ratio", kpi.name
            for part in metric["type_params"].values():
                assert measures[metrics[part]["type_params"]["measure"]]["agg"] == "sum", (kpi.name, part)


@pytest.fixture(scope="module")
def mf_answers(demo_warehouse, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, str]]]:
    """The README's `mf query` for win rate by month and team, and beside it, in one process (MetricFlow spends
    ~3 s of CPU starting, so not one process per query), MetricFlow's engine on dbt's adapter as `mf query`
    drives it (mf_queries.py) for the saved queries of the manager and team KPI tables and of the funnel, every
    KPI of the department, and the team KPIs by quarter."""
    tmp = tmp_path_factory.mktemp("mf")
    project = mf_project(tmp, demo_warehouse.target)
    queries = {
        "manager": {"saved_query_name": "manager_kpis_by_month"},
        "team": {"saved_query_name": "team_kpis_by_month"},
        "funnel": {"saved_query_name": "funnel_by_stage"},
        "department": {"metric_names": ALL_KPIS, "group_by_names": ["metric_time__month", "account"]},
        "team_quarter": {"metric_names": TEAM_KPIS, "group_by_names": ["metric_time__quarter", "account", "team"]},
    }
    (tmp / "queries.json").write_text(json.dumps(queries))
    running = {}
    for name, command in {
        "cli": [MF, "query", "--metrics", "win_rate", "--group-by", "metric_time__month,team",
                "--csv", str(tmp / "cli.csv")],
        "engine": [sys.executable, str(Path(__file__).with_name("mf_queries.py")), str(project),
                   str(tmp / "queries.json"), str(tmp / "engine.json")],
    }.items():
        # DuckDB lets one process at a time open a file for writing, as dbt's profile does: each process gets its
        # own copy of the published marts, named as the warehouse dbt built (its catalog name is in the SQL)
        warehouse = tmp / name / "warehouse.duckdb"
        warehouse.parent.mkdir()
        shutil.copy(demo_warehouse.serving, warehouse)
        env = {**os.environ, "AMOKPI_WAREHOUSE": str(warehouse), "DBT_PROFILES_DIR": str(DBT_PROFILES_DIR)}
        running[name] = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, text=True)
    for name, process in running.items():
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, f"{name}: {output[-3000:]}"
    answers = {name: [{column: "" if value is None else str(value) for column, value in zip(
        table["columns"], row, strict=True)} for row in table["rows"]]
        for name, table in json.loads((tmp / "engine.json").read_text()).items()}
    return {**answers, "cli": read_csv(tmp / "cli.csv")}


@pytest.fixture(scope="module")
def marts(demo_warehouse) -> duckdb.DuckDBPyConnection:
    """The published marts, as a BI tool reads them."""
    with duckdb.connect(str(demo_warehouse.serving), read_only=True) as con:
        yield con


def test_team_kpis_by_month_equal_the_team_mart(mf_answers, marts) -> None:
    rows = {(month(r["metric_time__month"]), int(r["account"]), int(r["team"])): r for r in mf_answers["team"]}
    want = mart(marts, f"select month_start, account_id, group_id, {', '.join(TEAM_KPIS)} "
                       "from marts.mart_team_kpi_monthly", keys=3)
    assert any(row["win_rate"] is not None for row in want.values())
    assert assert_equal_figures(rows, want, TEAM_KPIS, "team month") == len(want) * len(TEAM_KPIS)


def test_mf_query_win_rate_by_month_and_team_equals_the_team_mart(mf_answers, marts) -> None:
    """The analyst's command (README): `mf query --metrics win_rate --group-by metric_time__month,team`."""
    rows = {(month(r["metric_time__month"]), int(r["team"])): r for r in mf_answers["cli"]}
    want = mart(marts, "select month_start, group_id, win_rate from marts.mart_team_kpi_monthly", keys=2)
    assert sum(row["win_rate"] is not None for row in want.values()) >= 10
    assert_equal_figures(rows, want, ["win_rate"], "mf query win rate")


def test_team_kpis_by_quarter_are_computed_from_counts_and_leads(mf_answers, marts) -> None:
    """A quarter's rate is the ratio of the quarter's counts and its median the median of the quarter's leads,
    as mart_manager_kpi_periods' team rows aggregate the facts by quarter."""
    rows = {(month(r["metric_time__quarter"]), int(r["account"]), int(r["team"])): r
            for r in mf_answers["team_quarter"]}
    want = mart(marts, f"select period_start, account_id, group_id, {', '.join(TEAM_KPIS)} "
                       "from marts.mart_manager_kpi_periods where period_type = 'quarter' and kpi_grain = 'team'",
                keys=3)
    assert_equal_figures(rows, want, TEAM_KPIS, "team quarter")


def test_every_kpi_per_manager_and_month_equals_the_manager_mart(mf_answers, marts) -> None:
    rows = {(month(r["metric_time__month"]), int(r["account"]), int(r["manager"])): r for r in mf_answers["manager"]}
    want = mart(marts, f"select month_start, account_id, manager_id, {', '.join(ALL_KPIS)} "
                       "from marts.mart_manager_kpi_monthly", keys=3)
    assert_equal_figures(rows, want, ALL_KPIS, "manager month")


def test_every_kpi_of_the_department_equals_the_department_mart(mf_answers, marts) -> None:
    rows = {(month(r["metric_time__month"]), int(r["account"])): r for r in mf_answers["department"]}
    want = mart(marts, f"select month_start, account_id, {', '.join(ALL_KPIS)} "
                       "from marts.mart_department_kpi_monthly", keys=2)
    assert_equal_figures(rows, want, ALL_KPIS, "department month")


def test_funnel_by_stage_equals_the_funnel_mart(mf_answers, marts) -> None:
    metrics = ["leads_entered_count", "leads_advanced_count", "leads_lost_count", "stage_conversion_rate",
               "cohort_leads_count", "leads_reached_count", "cumulative_conversion_rate", "open_leads_count",
               "pipeline_open_amount"]
    rows = {(month(r["metric_time__month"]), int(r["account"]), int(r["pipeline"]), int(r["stage"])): r
            for r in mf_answers["funnel"]}
    want = mart(marts, f"select month_start, account_id, pipeline_id, status_id, {', '.join(metrics)} "
                       "from marts.mart_funnel_stages", keys=4)
    assert_equal_figures(rows, want, metrics, "funnel stage month")
