"""The known-answer account on PostgreSQL 15: served over HTTP, loaded by the same dlt pipeline (its postgres
destination), built by the same dbt project (`AMOKPI_TARGET=postgres`), then the very test functions of
test_known_answer.py run against it: the same hand-computed figures, asserted once, on both engines.

The server is a throwaway PostgreSQL on loopback (postgres_server.py). The build is the project's whole
`dbt build` (every model, seed, data test and unit test): it must finish with no error and no skip.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import PostgresServer, postgres_server
from test_known_answer import (  # noqa: F401  (collected here with this module's `marts`: PostgreSQL's)
    delete_in_trash,
    known_account,
    msk,
    test_april_rows_and_timezone_bucketing,
    test_department_totals_recompute_rates_from_counts,
    test_fct_leads,
    test_funnel_stages,
    test_manager_kpis_for_march,
    test_more_manager_kpis_for_march,
    test_raw_tables_hold_exactly_the_served_records,
    test_weekly_activity_and_onboarding,
)

from ingestion.demo.api import DemoApiServer


class PostgresView:
    """The shape test_known_answer's tests read (`execute(sql)` returning a cursor) over a PostgreSQL
    connection; the database holds the known-answer account alone, so nothing needs scoping."""

    def __init__(self, server: PostgresServer) -> None:
        import psycopg2

        self.con = psycopg2.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                                    dbname=server.dbname, connect_timeout=10)
        self.con.set_session(readonly=True, autocommit=True)

    def execute(self, sql: str, params: list | None = None):
        cursor = self.con.cursor()
        cursor.execute(sql, params or None)
        return cursor

    def close(self) -> None:
        self.con.close()


@pytest.fixture(scope="module")
def postgres_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PostgresServer, list[dict]]]:
    """PostgreSQL with the known-answer account ingested twice (L6 deleted between the runs, as in
    conftest.known_answer_build) and the whole project built; yields the server and dbt's results."""
    from ingestion.pipeline import runner

    work = tmp_path_factory.mktemp("known_answer_postgres")
    warehouse = work / "warehouse.duckdb"  # on PostgreSQL: only where dlt keeps its pipeline state
    account = known_account()
    with postgres_server() as server, pytest.MonkeyPatch.context() as env:
        for name, value in server.env().items():
            env.setenv(name, value)
        # its own dbt target dir: dbt's partial parse of the DuckDB profile in this process stays valid
        env.setenv("DBT_TARGET_PATH", str(work / "target"))
        with DemoApiServer(account) as api:
            env.setenv("SOURCES__AMOCRM__BASE_URL", api.base_url)
            env.setenv("SOURCES__AMOCRM__ACCESS_TOKEN", api.token)
            runner.ingest(warehouse, requests_per_second=0)
            delete_in_trash(account, 6, msk(3, 26, 10))
            runner.ingest(warehouse, requests_per_second=0)
        assert not warehouse.exists()  # nothing went to DuckDB
        runner.run_dbt("build", warehouse, "--quiet")
        results = json.loads((Path(os.environ["DBT_TARGET_PATH"]) / "run_results.json").read_text())["results"]
        yield server, results


@pytest.fixture(scope="module")
def marts(postgres_build) -> Iterator[PostgresView]:
    view = PostgresView(postgres_build[0])
    yield view
    view.close()


def test_the_whole_dbt_build_passes_on_postgres(postgres_build) -> None:
    """Every model, seed, data test and unit test: no error, no failure, no skip (and nothing merely warned)."""
    _, results = postgres_build
    statuses = Counter(r["status"] for r in results)
    assert set(statuses) <= {"success", "pass", "no-op"}, {r["unique_id"]: r["message"] for r in results
                                                           if r["status"] not in ("success", "pass", "no-op")}
    kinds = Counter(r["unique_id"].split(".")[0] for r in results)
    assert kinds["model"] > 60 and kinds["unit_test"] >= 15 and kinds["test"] > 100 and kinds["seed"] > 5, kinds
