"""The Great Expectations suites over the raw tables (expectations/runner.py, expectations/suites/)
on small hand-made warehouses, and on the demo one. Mart invariants are dbt tests, not GX suites."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from expectations.runner import SUITES_DIR, SuiteError, run_suites

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


def make_warehouse(directory: Path, leads: pd.DataFrame | None = None) -> Path:
    """A DuckDB file with raw_amocrm.leads (None leaves it out) and the account, users, statuses and
    loads it is checked against."""
    path = directory / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw_amocrm")
        con.execute(f"create table raw_amocrm.account as select 1::bigint as id, {T0 - 86_400}::bigint as created_at")
        con.execute("create table raw_amocrm.users as"
                    " select 1::bigint as account_id, unnest([11, 12, 13])::bigint as id")
        con.execute("create table raw_amocrm.statuses as select 1::bigint as account_id, 7::bigint as pipeline_id,"
                    " unnest([142, 143, 200, 201])::bigint as id")
        con.execute("create table raw_amocrm._dlt_loads as select '1' as load_id, 0 as status, now() as inserted_at")
        if leads is not None:
            con.register("leads_df", leads)
            con.execute("create table raw_amocrm.leads as select * from leads_df")
    return path


USERS_SUITE = {"name": "raw_users_ids", "table": "raw_amocrm.users", "expectations": [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}, "meta": {"severity": "error"}}]}


@pytest.fixture()
def suites(tmp_path: Path) -> Path:
    """The shipped raw_leads suite and a one-line suite over raw_amocrm.users, alone."""
    directory = tmp_path / "two_suites"
    directory.mkdir()
    (directory / "raw_leads.json").write_text((SUITES_DIR / "raw_leads.json").read_text())
    (directory / "raw_users_ids.json").write_text(json.dumps(USERS_SUITE))
    return directory


def n_expectations(suite: str) -> int:
    return len(json.loads((SUITES_DIR / f"{suite}.json").read_text())["expectations"])


def failed(report) -> set[tuple[str, str, str | None]]:
    return {(f.suite, f.expectation, f.column) for f in report.failures}


def test_good_data_passes_and_summary_counts_rows(tmp_path: Path, suites: Path) -> None:
    report = run_suites(make_warehouse(tmp_path, leads_frame()), suites)

    assert report.success, report.failures_text()
    assert report.failures == []
    summary = report.summary().splitlines()
    assert len(summary) == 2
    assert re.fullmatch(r"raw_leads: (\d+)/\1 expectations passed \(5 rows\)", summary[0])
    assert summary[1] == "raw_users_ids: 1/1 expectations passed (3 rows)"
    # every expectation in the suite files was evaluated (none silently dropped)
    n = n_expectations("raw_leads")
    assert summary[0].startswith(f"raw_leads: {n}/{n} ")


def test_bad_leads_are_reported_with_column_and_values(tmp_path: Path, suites: Path) -> None:
    leads = leads_frame()
    leads.loc[1, "id"] = 101  # duplicate id
    leads.loc[4, "price"] = -500
    leads.loc[3, "updated_at"] = leads.loc[3, "created_at"] - 100  # updated before created
    leads.loc[2, "responsible_user_id"] = 99  # not a loaded user
    leads.loc[2, "status_id"] = 999  # not a status of pipeline 7

    report = run_suites(make_warehouse(tmp_path, leads), suites)

    assert not report.success
    assert failed(report) == {
        ("raw_leads", "expect_compound_columns_to_be_unique", "account_id, id"),
        ("raw_leads", "expect_column_values_to_be_unique", "id"),
        ("raw_leads", "expect_column_values_to_be_between", "price"),
        ("raw_leads", "expect_column_pair_values_a_to_be_greater_than_b", "updated_at, created_at"),
        ("raw_leads", "expect_column_values_to_be_in_set", "responsible_user_id"),
        ("raw_leads", "expect_column_values_to_be_in_set", "pipeline_status"),
    }
    text = report.failures_text()
    assert "ERROR raw_leads (raw_amocrm.leads) expect_compound_columns_to_be_unique [account_id, id]: " in text
    assert "2 of 5 rows unexpected, e.g. (account_id=1, id=101) (x2)" in text
    assert "WARN raw_leads (raw_amocrm.leads) expect_column_values_to_be_unique [id]: " in text
    assert "expect_column_values_to_be_between [price]: expected min_value=0" in text
    assert "1 of 5 rows unexpected, e.g. -500\n" in text  # the null price (row 3) passes
    created = T0 + 3 * 3600
    assert f"e.g. (updated_at={created - 100}, created_at={created})" in text
    # sets defined by SQL (checked in DuckDB) read as the rule in the suite file, with the set's size
    assert ("expect_column_values_to_be_in_set [responsible_user_id]: expected value_set=$user_ids (3 values); "
            "1 of 5 rows unexpected, e.g. 99\n") in text
    assert "[pipeline_status]: expected value_set=$status_pairs (4 values); 1 of 5 rows unexpected, e.g. 7/999" in text
    n = n_expectations("raw_leads")
    assert (f"raw_leads: {n - 6}/{n} expectations passed (5 rows); 5 errors; "
            "warnings: expect_column_values_to_be_unique(id)") in report.summary().splitlines()


def _suites_with_price_cap(directory: Path, severity: str) -> Path:
    """The shipped suites plus one extra price check of the given severity."""
    directory.mkdir()
    suite = json.loads((SUITES_DIR / "raw_leads.json").read_text())
    suite["expectations"].append({
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "price", "max_value": 100_000},
        "meta": {"severity": severity},
    })
    (directory / "raw_leads.json").write_text(json.dumps(suite))
    return directory


def test_warn_failure_is_listed_but_does_not_fail(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path, leads_frame())  # one lead costs 250,000

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
    report = run_suites(make_warehouse(tmp_path, leads=None), suites)

    assert not report.success
    assert failed(report) == {("raw_leads", "table_exists", None)}
    message = "table raw_amocrm.leads not found — run `amokpi ingest` first"
    assert message in report.failures_text()
    assert f"raw_leads: {message}" in report.summary()
    assert "raw_users_ids: 1/1 expectations passed (3 rows)" in report.summary().splitlines()  # the others still run


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
    warehouse = make_warehouse(tmp_path, leads_frame())
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
    raw = {p.stem for p in SUITES_DIR.glob("*.json") if json.loads(p.read_text())["table"].startswith("raw_amocrm.")}
    assert set(rows) == raw and len(raw) >= 12
    assert all(n and n > 0 for n in rows.values()), rows
    for name, n in rows.items():
        assert re.search(rf"^{name}: (\d+)/\1 expectations passed \({n} rows\)$", report.summary(), re.M)


def test_only_suites_over_raw_tables_are_run(tmp_path: Path, suites: Path) -> None:
    # a mart's invariants are dbt tests on the mart: a GX suite over a mart would check them twice
    (suites / "mart_x.json").write_text(json.dumps({**USERS_SUITE, "name": "mart_x", "table": "marts.x"}))
    report = run_suites(make_warehouse(tmp_path, leads_frame()), suites)
    assert [s.name for s in report.suites] == ["raw_leads", "raw_users_ids"]
    assert report.success, report.failures_text()


def _history(warehouse: Path, runs: list[tuple[str, int, str]]) -> None:
    """Earlier runs of raw_leads in marts.data_quality_runs: (run_id, rows seen, status)."""
    from expectations import results

    for i, (run_id, rows, status) in enumerate(runs):
        row = results.Row("gx", "raw_leads", "raw_leads.volume", "raw_amocrm.leads", None, "error", status, 0, rows, "")
        results.write(warehouse, run_id, [row], checked_at=datetime(2026, 1, 1 + i))


def test_a_drop_in_rows_against_the_last_good_run_is_an_error(tmp_path: Path, suites: Path) -> None:
    warehouse = make_warehouse(tmp_path, leads_frame())
    _history(warehouse, [("r1", 5, "pass")])
    assert run_suites(warehouse, suites).success  # 5 rows, as before

    _history(warehouse, [("r1", 5, "pass"), ("r2", 50, "pass"), ("r3", 5, "fail")])  # r3 failed: not a baseline
    report = run_suites(warehouse, suites)
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
