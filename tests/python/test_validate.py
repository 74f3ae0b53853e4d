"""The GX validation step (expectations/runner.py) on small hand-made warehouses, and on the demo one."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from expectations.runner import SUITES_DIR, SuiteError, _columns, run_suites

PROJECT_ROOT = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000  # 2023-11-14, unix seconds


def leads_frame() -> pd.DataFrame:
    n = 5
    return pd.DataFrame({
        "id": [101, 102, 103, 104, 105],
        "name": [f"Deal {i}" for i in range(n)],
        "price": pd.array([1000, 0, None, 250_000, 5], dtype="Int64"),  # null price is allowed
        "responsible_user_id": [11, 11, 12, 12, 13],
        "group_id": [0] * n,
        "status_id": [142, 143, 200, 201, 200],
        "pipeline_id": [7] * n,
        "loss_reason_id": pd.array([None, 3, None, None, None], dtype="Int64"),
        "created_by": [11] * n,
        "updated_by": [11] * n,
        "created_at": [T0 + i * 3600 for i in range(n)],
        "updated_at": [T0 + i * 3600 + 60 * i for i in range(n)],  # the first row: updated == created
        "closed_at": pd.array([T0 + 86_400, T0 + 90_000, None, None, None], dtype="Int64"),
        "is_deleted": [False] * n,
        "account_id": [1] * n,
        "custom_fields_values": [None] * n,
        "_embedded": ['{"tags": []}'] * n,
        "_dlt_load_id": ["1"] * n,
        "_dlt_id": [f"d{i}" for i in range(n)],
    })


def kpi_frame() -> pd.DataFrame:
    rows = []
    for manager_id in (11, 12):
        for month in (date(2024, 1, 1), date(2024, 2, 1)):
            rows.append({
                "account_id": 1, "manager_id": manager_id, "manager_name": f"M{manager_id}",
                "group_id": 0, "group_name": "Sales", "role_name": "Manager", "month_start": month,
                "calls_count": 10, "calls_outgoing_count": 7, "calls_incoming_count": 3,
                "calls_connected_count": 6, "meetings_count": 12, "new_leads_count": 4,
                "leads_won_from_cohort_count": 1, "deals_won_count": 1, "deals_lost_count": 0,
                "revenue_amount": 5000.0, "avg_deal_amount": 5000.0,
                "call_to_meeting_rate": 1.2,  # no upper bound: meetings are not a subset of calls
                "lead_conversion_rate": 0.25, "win_rate": 1.0,
                "first_response_minutes_median": 12.5, "leads_qualified_count": 2,
                "lead_processing_hours": 30.0, "time_to_close_days": 4.0,
            })
    rows[0].update(win_rate=None, lead_conversion_rate=None, time_to_close_days=None)  # zero denominators
    return pd.DataFrame(rows)


def _suite_columns(name: str) -> list[str]:
    suite = json.loads((SUITES_DIR / f"{name}.json").read_text())
    return sorted({c for e in suite["expectations"] for c in _columns(e["kwargs"])})


def make_warehouse(
    directory: Path, leads: pd.DataFrame | None = None, kpi: pd.DataFrame | None = None
) -> Path:
    """A DuckDB file with raw_amocrm.leads (and the account, users, statuses and loads it is checked
    against) and marts.mart_manager_kpi_monthly (None leaves a table out)."""
    path = directory / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_amocrm; create schema marts")
        con.execute(f"create table raw_amocrm.account as select 1::bigint as id, {T0 - 86_400}::bigint as created_at")
        con.execute("create table raw_amocrm.users as"
                    " select 1::bigint as account_id, unnest([11, 12, 13])::bigint as id")
        con.execute("create table raw_amocrm.statuses as select 1::bigint as account_id, 7::bigint as pipeline_id,"
                    " unnest([142, 143, 200, 201])::bigint as id")
        con.execute("create table raw_amocrm._dlt_loads as select '1' as load_id, 0 as status, now() as inserted_at")
        if leads is not None:
            con.register("leads_df", leads)
            con.execute("create table raw_amocrm.leads as select * from leads_df")
        if kpi is not None:
            kpi = kpi.copy()
            for column in _suite_columns("mart_manager_kpi_monthly"):  # KPIs this test does not vary: 0
                if column not in kpi:
                    kpi[column] = 0.0
            con.register("kpi_df", kpi)
            con.execute(
                "create table marts.mart_manager_kpi_monthly as"
                " select * replace (month_start::date as month_start) from kpi_df"
            )
    return path


@pytest.fixture()
def suites(tmp_path: Path) -> Path:
    """The shipped raw_leads and mart_manager_kpi_monthly suites, alone."""
    directory = tmp_path / "two_suites"
    directory.mkdir()
    for name in ("raw_leads", "mart_manager_kpi_monthly"):
        (directory / f"{name}.json").write_text((SUITES_DIR / f"{name}.json").read_text())
    return directory


def n_expectations(suite: str) -> int:
    return len(json.loads((SUITES_DIR / f"{suite}.json").read_text())["expectations"])


def failed(report) -> set[tuple[str, str, str | None]]:
    return {(f.suite, f.expectation, f.column) for f in report.failures}


def test_good_data_passes_and_summary_counts_rows(tmp_path: Path, suites: Path) -> None:
    report = run_suites(make_warehouse(tmp_path, leads_frame(), kpi_frame()), suites)

    assert report.success, report.failures_text()
    assert report.failures == []
    summary = report.summary().splitlines()
    assert len(summary) == 2
    assert re.fullmatch(r"mart_manager_kpi_monthly: (\d+)/\1 expectations passed \(4 rows\)", summary[0])
    assert re.fullmatch(r"raw_leads: (\d+)/\1 expectations passed \(5 rows\)", summary[1])
    # every expectation in the suite files was evaluated (none silently dropped)
    n = n_expectations("raw_leads")
    assert summary[1].startswith(f"raw_leads: {n}/{n} ")


def test_bad_leads_are_reported_with_column_and_values(tmp_path: Path, suites: Path) -> None:
    leads = leads_frame()
    leads.loc[1, "id"] = 101  # duplicate id
    leads.loc[4, "price"] = -500
    leads.loc[3, "updated_at"] = leads.loc[3, "created_at"] - 100  # updated before created

    report = run_suites(make_warehouse(tmp_path, leads, kpi_frame()), suites)

    assert not report.success
    assert failed(report) == {
        ("raw_leads", "expect_compound_columns_to_be_unique", "account_id, id"),
        ("raw_leads", "expect_column_values_to_be_unique", "id"),
        ("raw_leads", "expect_column_values_to_be_between", "price"),
        ("raw_leads", "expect_column_pair_values_a_to_be_greater_than_b", "updated_at, created_at"),
    }
    text = report.failures_text()
    assert "ERROR raw_leads (raw_amocrm.leads) expect_compound_columns_to_be_unique [account_id, id]: " in text
    assert "2 of 5 rows unexpected, e.g. (account_id=1, id=101) (x2)" in text
    assert "WARN raw_leads (raw_amocrm.leads) expect_column_values_to_be_unique [id]: " in text
    assert "expect_column_values_to_be_between [price]: expected min_value=0" in text
    assert "1 of 5 rows unexpected, e.g. -500\n" in text  # the null price (row 3) passes
    created = T0 + 3 * 3600
    assert f"e.g. (updated_at={created - 100}, created_at={created})" in text
    n = n_expectations("raw_leads")
    assert (f"raw_leads: {n - 4}/{n} expectations passed (5 rows); 3 errors; "
            "warnings: expect_column_values_to_be_unique(id)") in report.summary().splitlines()


def test_rate_above_one_fails_the_mart_suite(tmp_path: Path, suites: Path) -> None:
    kpi = kpi_frame()
    kpi.loc[2, "win_rate"] = 1.5

    report = run_suites(make_warehouse(tmp_path, leads_frame(), kpi), suites)

    assert not report.success
    assert failed(report) == {("mart_manager_kpi_monthly", "expect_column_values_to_be_between", "win_rate")}
    text = report.failures_text()
    assert "mart_manager_kpi_monthly (marts.mart_manager_kpi_monthly)" in text
    assert "[win_rate]: expected min_value=0" in text and "max_value=1" in text
    assert "e.g. 1.5" in text


def test_duplicate_grain_fails_compound_uniqueness(tmp_path: Path, suites: Path) -> None:
    kpi = kpi_frame()
    kpi.loc[1, "month_start"] = kpi.loc[0, "month_start"]

    report = run_suites(make_warehouse(tmp_path, leads_frame(), kpi), suites)

    assert failed(report) == {
        ("mart_manager_kpi_monthly", "expect_compound_columns_to_be_unique",
         "account_id, manager_id, month_start"),
    }
    assert "2 of 4 rows unexpected" in report.failures_text()


def _suites_with_price_cap(directory: Path, severity: str) -> Path:
    """The shipped suites plus one extra price check of the given severity."""
    directory.mkdir()
    for path in (SUITES_DIR / "raw_leads.json", SUITES_DIR / "mart_manager_kpi_monthly.json"):
        suite = json.loads(path.read_text())
        if suite["name"] == "raw_leads":
            suite["expectations"].append({
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "price", "max_value": 100_000},
                "meta": {"severity": severity},
            })
        (directory / path.name).write_text(json.dumps(suite))
    return directory


def test_warn_failure_is_listed_but_does_not_fail(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path, leads_frame(), kpi_frame())  # one lead costs 250,000

    report = run_suites(warehouse, suites_dir=_suites_with_price_cap(tmp_path / "warn", "warn"))

    assert report.success
    assert failed(report) == {("raw_leads", "expect_column_values_to_be_between", "price")}
    warned = "; warnings: expect_column_values_to_be_between(price)"
    n = n_expectations("raw_leads") + 1
    assert f"raw_leads: {n - 1}/{n} expectations passed (5 rows){warned}" in report.summary().splitlines()
    assert "WARN raw_leads" in report.failures_text() and "e.g. 250000" in report.failures_text()

    # the same check as an error does fail the run
    report = run_suites(warehouse, suites_dir=_suites_with_price_cap(tmp_path / "error", "error"))
    assert not report.success


def test_missing_table_is_a_clear_failure(tmp_path: Path, suites: Path) -> None:
    report = run_suites(make_warehouse(tmp_path, leads_frame(), kpi=None), suites)

    assert not report.success
    assert failed(report) == {("mart_manager_kpi_monthly", "table_exists", None)}
    message = "table marts.mart_manager_kpi_monthly not found — run `amokpi build` first"
    assert message in report.failures_text()
    assert f"mart_manager_kpi_monthly: {message}" in report.summary()
    assert re.search(r"^raw_leads: (\d+)/\1 expectations passed \(5 rows\)$", report.summary(), re.M)


def test_missing_warehouse_file_is_a_clear_failure(tmp_path: Path) -> None:
    report = run_suites(tmp_path / "nope.duckdb")

    assert not report.success
    assert "nope.duckdb not found" in report.failures_text()
    assert not (tmp_path / "nope.duckdb").exists()  # validating must not create an empty warehouse


def test_invalid_suite_fails_loudly(tmp_path: Path) -> None:
    # gx.ExpectationSuite would only log and drop a bad expectation; ours must refuse it
    suites = tmp_path / "suites"
    suites.mkdir()
    bad = {"name": "raw_leads", "table": "raw_amocrm.leads",
           "expectations": [{"type": "expect_column_values_to_be_positive_please", "kwargs": {"column": "id"},
                             "meta": {"severity": "error"}}]}
    (suites / "raw_leads.json").write_text(json.dumps(bad))
    warehouse = make_warehouse(tmp_path, leads_frame(), kpi_frame())
    with pytest.raises(SuiteError, match="expect_column_values_to_be_positive_please"):
        run_suites(warehouse, suites_dir=suites)

    bad["expectations"] = [{"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}}]
    (suites / "raw_leads.json").write_text(json.dumps(bad))
    with pytest.raises(SuiteError, match="meta.severity"):
        run_suites(warehouse, suites_dir=suites)


def test_demo_warehouse_passes_every_suite(demo_warehouse) -> None:
    # the real pipeline's output (ingest over HTTP + dbt build) must satisfy the shipped suites
    report = run_suites(demo_warehouse.warehouse)

    assert report.success, report.failures_text()
    assert report.failures == [], report.failures_text()  # no warnings either
    rows = {s.name: s.rows for s in report.suites}
    assert set(rows) == {p.stem for p in SUITES_DIR.glob("*.json")}
    assert all(n and n > 0 for n in rows.values()), rows
    for name, n in rows.items():
        assert re.search(rf"^{name}: (\d+)/\1 expectations passed \({n} rows\)$", report.summary(), re.M)


def test_raw_and_mart_layers_validate_separately(tmp_path: Path, suites: Path) -> None:
    warehouse = make_warehouse(tmp_path, leads_frame(), kpi=None)  # raw loaded, marts not built yet
    assert [s.name for s in run_suites(warehouse, suites, layer="raw").suites] == ["raw_leads"]
    assert run_suites(warehouse, suites, layer="raw").success
    assert not run_suites(warehouse, suites, layer="marts").success


def _history(warehouse: Path, runs: list[tuple[str, int, str]]) -> None:
    """Earlier runs of raw_leads in marts.data_quality_runs: (run_id, rows seen, status)."""
    from expectations import results

    for i, (run_id, rows, status) in enumerate(runs):
        row = results.Row("gx", "raw_leads", "raw_leads.volume", "raw_amocrm.leads", None, "error", status, 0, rows, "")
        results.write(warehouse, run_id, [row], checked_at=datetime(2026, 1, 1 + i))


def test_a_drop_in_rows_against_the_last_good_run_is_an_error(tmp_path: Path, suites: Path) -> None:
    warehouse = make_warehouse(tmp_path, leads_frame(), kpi_frame())
    _history(warehouse, [("r1", 5, "pass")])
    assert run_suites(warehouse, suites, layer="raw").success  # 5 rows, as before

    _history(warehouse, [("r1", 5, "pass"), ("r2", 50, "pass"), ("r3", 5, "fail")])  # r3 failed: not a baseline
    report = run_suites(warehouse, suites, layer="raw")
    assert not report.success
    assert failed(report) == {("raw_leads", "expect_table_row_count_to_be_between", None)}
    assert "expected min_value=$min_rows (45); observed 5" in report.failures_text()  # 90% of 50


def test_parameters_are_checked_when_suites_load(tmp_path: Path) -> None:
    directory = tmp_path / "suites"
    directory.mkdir()
    suite = {"name": "raw_leads", "table": "raw_amocrm.leads", "expectations": [
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "id", "value_set": {"$PARAMETER": "ids"}},
         "meta": {"severity": "error"}}]}
    (directory / "raw_leads.json").write_text(json.dumps(suite))
    with pytest.raises(SuiteError, match="undefined parameters"):
        run_suites(make_warehouse(tmp_path, leads_frame()), directory)
