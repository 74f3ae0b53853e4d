"""The known-answer account on PostgreSQL 15: served over HTTP, loaded by the same dlt pipeline (its postgres
destination), built by the same dbt project (`AMOKPI_TARGET=postgres`), then the very test functions of
test_known_answer.py run against it: the same hand-computed figures, asserted once, on both engines.

The server is a throwaway PostgreSQL on loopback (postgres_server.py). The project's whole `dbt build` runs
there, every data test and unit test included: no error and no skip. This module shares no warehouse with the
DuckDB ones, so xdist may run it beside them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    test_weekly_wins_and_the_week_so_far,
)

from ingestion.demo.api import DemoApiServer

pytestmark = pytest.mark.slow  # a second engine's whole build: `make test-slow` (CI) and make bench


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


@dataclass
class PostgresBuild:
    server: PostgresServer
    work: Path  # dlt's pipeline state (warehouse.duckdb is never written on PostgreSQL) and dbt's target dir
    results: list[dict]  # dbt's run_results of the build

    @property
    def warehouse(self) -> Path:
        return self.work / "warehouse.duckdb"

    @contextmanager
    def environment(self) -> Iterator[None]:
        """AMOKPI_TARGET=postgres and this server, and a dbt target dir of its own (dbt's partial parse of the
        DuckDB profile in this process stays valid); the process's environment is restored afterwards."""
        with pytest.MonkeyPatch.context() as env:
            for name, value in {**self.server.env(), "DBT_TARGET_PATH": str(self.work / "target")}.items():
                env.setenv(name, value)
            yield

    def dbt_results(self) -> list[dict]:
        return json.loads((self.work / "target" / "run_results.json").read_text())["results"]


def assert_clean(results: list[dict]) -> Counter:
    """No error, failure, warning or skip among dbt's results; returns how many of each resource type ran."""
    bad = {r["unique_id"]: (r["status"], r["message"]) for r in results
           if r["status"] not in ("success", "pass", "no-op")}
    assert not bad
    return Counter(r["unique_id"].split(".")[0] for r in results)


@pytest.fixture(scope="module")
def postgres_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresBuild]:
    """PostgreSQL with the known-answer account ingested twice (L6 deleted between the runs, as the DuckDB
    build in conftest.py does) and the marts the tests read built, with all their parents."""
    from ingestion.pipeline import runner

    account = known_account()
    with postgres_server() as server:
        build = PostgresBuild(server, tmp_path_factory.mktemp("known_answer_postgres"), [])
        with build.environment(), DemoApiServer(account) as api, pytest.MonkeyPatch.context() as env:
            env.setenv("SOURCES__AMOCRM__BASE_URL", api.base_url)
            env.setenv("SOURCES__AMOCRM__ACCESS_TOKEN", api.token)
            runner.ingest(build.warehouse, requests_per_second=0)
            delete_in_trash(account, 6, msk(3, 26, 10))
            runner.ingest(build.warehouse, requests_per_second=0)
            assert not build.warehouse.exists()  # nothing went to DuckDB
            # the whole project, as an analyst's `dbt build --target postgres`: every model (contracts enforced as
            # each mart is written), seed, data test and unit test
            runner.run_dbt("build", build.warehouse, "--quiet")
            build.results = build.dbt_results()
        yield build


@pytest.fixture(scope="module")
def marts(postgres_build: PostgresBuild) -> Iterator[PostgresView]:
    view = PostgresView(postgres_build.server)
    yield view
    view.close()


def test_the_whole_dbt_build_passes_on_postgres(postgres_build: PostgresBuild) -> None:
    """Every model, seed, data test and unit test of the project on PostgreSQL 15: no error, no failure, no
    warning, no skip."""
    kinds = assert_clean(postgres_build.results)
    assert kinds["model"] > 60 and kinds["unit_test"] >= 15 and kinds["test"] > 100 and kinds["seed"] > 5, kinds
