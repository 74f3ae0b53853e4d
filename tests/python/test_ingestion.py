"""The dlt source over real HTTP: complete loads, idempotent re-runs, incremental merges, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from expected import FACTS, raw_ids, served, served_ids

from ingestion.demo.account import generate_account
from ingestion.demo.api import DemoApiServer
from ingestion.pipeline import runner


def table_digests(warehouse: Path) -> dict[str, tuple]:
    """Row count and an order-independent digest of every fact table's business columns."""
    digests = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in FACTS:
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'raw_amocrm' "
                "and table_name = ? and column_name not like '\\_dlt%' escape '\\'", [table]).fetchall()]
            select = ", ".join(f'"{c}"' for c in columns)
            digests[table] = con.execute(f"select count(*), sum(hash({select})) from raw_amocrm.{table}").fetchone()
    return digests


def point_at(server: DemoApiServer, token: str | None = None) -> None:
    os.environ["SOURCES__AMOCRM__BASE_URL"] = server.base_url
    os.environ["SOURCES__AMOCRM__ACCESS_TOKEN"] = token or server.token


def test_full_load_then_no_change_load_then_incremental_merge(tmp_path: Path) -> None:
    account = generate_account(seed=11, leads_per_month=25, months=3)
    warehouse = tmp_path / "wh.duckdb"
    with DemoApiServer(account) as server:
        point_at(server)
        first = runner.ingest(warehouse, requests_per_second=0)
        for table in FACTS:
            assert raw_ids(warehouse, table) == served_ids(account, table), table
        assert first.rows["leads"] == len(served(account, "leads")) and first.requests > 10

        # nothing changed in the account: only the look-back window (600 s before each cursor) is
        # read again, merged in place; nothing is duplicated
        before = table_digests(warehouse)
        second = runner.ingest(warehouse, requests_per_second=0)
        def in_window(records: list[dict], field: str) -> int:
            newest = max((r[field] for r in records), default=0)
            return sum(1 for r in records if r[field] >= newest - 600)

        for table in FACTS:
            field = "created_at" if table == "events" else "updated_at"
            expected = in_window(served(account, table), field)
            if table == "notes":  # each card's notes are listed separately, each with its own cursor
                expected = sum(in_window(notes, field) for notes in (account.notes, account.contact_notes,
                                                                     account.company_notes))
            assert second.rows.get(table, 0) == expected, (table, second.rows)
        assert table_digests(warehouse) == before

        # a lead changes in amoCRM: the next run merges the new version in place
        lead = account.leads[0]
        lead["price"], lead["updated_at"] = 777_777, max(x["updated_at"] for x in account.leads) + 60
        third = runner.ingest(warehouse, requests_per_second=0)
        # the edited lead, plus any other live lead inside the look-back window behind it
        assert third.rows.get("leads") == in_window(served(account, "leads"), "updated_at")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select price from raw_amocrm.leads where id = ?", [lead["id"]]).fetchone() == (777_777,)
        assert con.execute("select count(*) from raw_amocrm.leads").fetchone() == (len(served(account, "leads")),)
        (account_ids,) = con.execute("select count(distinct account_id) from raw_amocrm.events").fetchone()
        assert account_ids == 1
        # no second copy stays behind: the merge's staging tables are emptied, the load files deleted
        staged = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw_amocrm_staging' "
            "and table_name not like '\\_dlt%' escape '\\'").fetchall()]
        assert staged and all(con.execute(f'select count(*) from raw_amocrm_staging."{t}"').fetchone() == (0,)
                              for t in staged), staged
    kept = [f for f in (tmp_path / ".dlt_wh").rglob("*") if f.is_file() and "completed_jobs" in f.parts]
    assert not kept, kept


def test_throttle_keeps_requests_under_the_limit(tmp_path: Path) -> None:
    account = generate_account(seed=5, leads_per_month=10, months=1)
    with DemoApiServer(account) as server:
        point_at(server)
        summary = runner.ingest(tmp_path / "wh.duckdb", requests_per_second=20)
    assert summary.requests >= 12
    assert summary.requests / summary.seconds <= 20.5


def test_bad_token_fails_with_a_clear_message(tmp_path: Path) -> None:
    with DemoApiServer(generate_account(seed=5, leads_per_month=5, months=1)) as server:
        point_at(server, token="not-the-token")
        with pytest.raises(runner.StepFailed, match="401.*access token"):
            runner.ingest(tmp_path / "wh.duckdb", requests_per_second=0)


def test_empty_account_still_gets_every_raw_table(tmp_path: Path) -> None:
    from ingestion.amocrm import RAW_COLUMNS
    from ingestion.demo.account import DemoAccount, make_account

    warehouse = tmp_path / "wh.duckdb"
    with DemoApiServer(DemoAccount(account=make_account())) as server:
        point_at(server)
        runner.ingest(warehouse, requests_per_second=0)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw_amocrm'").fetchall()}
    assert set(RAW_COLUMNS) <= tables


def test_the_load_step_caps_duckdb_memory_and_runs_one_job_at_a_time(tmp_path: Path) -> None:
    """DuckDB's own default (80 % of the machine) let the load's merge grow with the account (1.6 GB at 100k
    leads); the peak itself is measured by `make bench` (bench/scale_bench.py), not in a test."""
    # the pipeline as an ingest makes it: on the one connection it holds for the whole run
    with runner.warehouse_pipeline(tmp_path / "wh.duckdb", "http://127.0.0.1:9") as pipeline:
        with pipeline.sql_client() as client:
            (limit,), = client.execute_sql("select current_setting('memory_limit')")
    with duckdb.connect() as con:
        con.execute(f"set memory_limit = '{runner.LOAD_MEMORY_LIMIT}'")
        (expected,), = con.execute("select current_setting('memory_limit')").fetchall()
    assert limit == expected
    # one job at a time: 20 copies side by side ran out of the cap
    assert pipeline.destination.capabilities().loader_parallelism_strategy == "sequential"


def test_two_accounts_share_one_warehouse_without_sharing_cursors(tmp_path: Path) -> None:
    from datetime import datetime

    newer = generate_account(seed=31, leads_per_month=20, months=2, start=datetime(2026, 5, 1))
    older = generate_account(seed=32, leads_per_month=20, months=2, start=datetime(2025, 11, 1), account_id=42)
    warehouse = tmp_path / "agency.duckdb"
    for account in (newer, older):  # the second account's records are all older than the first's cursor
        with DemoApiServer(account) as server:
            point_at(server)
            runner.ingest(warehouse, requests_per_second=0)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in FACTS:
            got = dict(con.execute(f"select account_id, count(*) from raw_amocrm.{table} group by 1").fetchall())
            want = {acc: len(served(a, table)) for acc, a in ((31_000_001, newer), (42, older)) if served(a, table)}
            assert got == want, table


def test_several_accounts_build_into_one_set_of_marts(known_answer_build, known_answer_accounts) -> None:
    """The known-answer warehouse holds three accounts loaded one after another; one build serves all."""
    with duckdb.connect(str(known_answer_build.serving), read_only=True) as con:
        for mart in ("mart_manager_kpi_monthly", "fct_leads", "mart_funnel_stages"):
            accounts = {a for (a,) in con.execute(f"select distinct account_id from marts.{mart}").fetchall()}
            assert accounts == set(known_answer_accounts.values()), mart
