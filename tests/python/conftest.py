"""Shared fixtures: demo API servers and warehouses built through the real pipeline over HTTP."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# runs hold an inter-process lock per amoCRM account; keep the tests' locks out of ~/.cache
os.environ.setdefault("AMOKPI_LOCK_DIR", tempfile.mkdtemp(prefix="amokpi-test-locks-"))
# the demo accounts the tests build use the demo seeds (plans, spend, costs, hire dates), as `amokpi demo` does
os.environ.setdefault("AMOKPI_DEMO_SEEDS", "1")

from ingestion.demo.account import DemoAccount, generate_account
from ingestion.demo.api import DemoApiServer


@dataclass
class BuiltWarehouse:
    account: DemoAccount
    warehouse: Path  # the read-write warehouse (raw_amocrm, staging, intermediate, marts)
    serving: Path  # the published BI serving copy (marts and meta only); tests point the report at it


def build_warehouse(account: DemoAccount, directory: Path, validate: bool = True) -> BuiltWarehouse:
    """Serve `account` over HTTP, then ingest, dbt build, (validate) and publish, as `amokpi run` does."""
    from ingestion.pipeline import runner

    warehouse = directory / "warehouse.duckdb"
    with DemoApiServer(account) as server:
        os.environ["SOURCES__AMOCRM__BASE_URL"] = server.base_url
        os.environ["SOURCES__AMOCRM__ACCESS_TOKEN"] = server.token
        runner.ingest(warehouse, requests_per_second=0)
    runner.build(warehouse)
    if validate:
        runner.validate(warehouse)
    serving = runner.publish(warehouse)
    return BuiltWarehouse(account, warehouse, serving)


@pytest.fixture(scope="session")
def warehouse_builder():
    """`build_warehouse` as a fixture, for tests that serve an account of their own."""
    return build_warehouse


@pytest.fixture(scope="session")
def small_demo_account() -> DemoAccount:
    """A generated account, smaller than the default demo so the suite stays quick."""
    return generate_account(seed=7, leads_per_month=60)


@pytest.fixture(scope="session")
def demo_warehouse(small_demo_account: DemoAccount, tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    return build_warehouse(small_demo_account, tmp_path_factory.mktemp("demo_warehouse"))


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch):
    """Point the source at a server through dlt's env config, with `token` (None: no token, as
    for OAuth); cleaned up after each test."""

    def point(server: DemoApiServer, token: str | None = None) -> None:
        monkeypatch.setenv("SOURCES__AMOCRM__BASE_URL", server.base_url)
        if token is None:
            monkeypatch.delenv("SOURCES__AMOCRM__ACCESS_TOKEN", raising=False)
        else:
            monkeypatch.setenv("SOURCES__AMOCRM__ACCESS_TOKEN", token)

    return point


@pytest.fixture()
def demo_api(small_demo_account: DemoAccount) -> Iterator[DemoApiServer]:
    with DemoApiServer(small_demo_account) as server:
        yield server



@pytest.fixture(scope="session")
def known_answer_build(tmp_path_factory: pytest.TempPathFactory):
    """The known-answer accounts, each served over HTTP and ingested into one warehouse: the KPI
    account (two runs, a lead deleted between them), the funnel account and the real-shape fixture
    account; then one dbt build, validation and publish for all three."""
    from real_shape import load_account, serve
    from shared_build import KnownAnswerBuild
    from test_funnel_known_answer import tricky_account
    from test_known_answer import delete_in_trash, known_account, msk

    from ingestion.demo.faults import Faults
    from ingestion.pipeline import runner

    warehouse = tmp_path_factory.mktemp("known_answer") / "warehouse.duckdb"
    account = known_account()
    with DemoApiServer(account) as server, pytest.MonkeyPatch.context() as env:
        env.setenv("SOURCES__AMOCRM__BASE_URL", server.base_url)
        env.setenv("SOURCES__AMOCRM__ACCESS_TOKEN", server.token)
        runner.ingest(warehouse, requests_per_second=0)
        delete_in_trash(account, 6, msk(3, 26, 10))
        runner.ingest(warehouse, requests_per_second=0)
    with DemoApiServer(tricky_account()) as server, pytest.MonkeyPatch.context() as env:
        env.setenv("SOURCES__AMOCRM__BASE_URL", server.base_url)
        env.setenv("SOURCES__AMOCRM__ACCESS_TOKEN", server.token)
        runner.ingest(warehouse, requests_per_second=0)
    shape = serve(load_account(), Faults(omit_page_number=True))  # list pages without `_page`
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("SOURCES__AMOCRM__BASE_URL", shape.base_url)
            env.setenv("SOURCES__AMOCRM__ACCESS_TOKEN", shape.token)
            runner.ingest(warehouse, requests_per_second=0)
    finally:
        shape.stop()
    runner.build(warehouse)
    runner.validate(warehouse)
    runner.publish(warehouse)
    # the known-answer tests read every layer (raw, staging, intermediate), so the warehouse itself
    return KnownAnswerBuild(warehouse, warehouse, shape.api)


@pytest.fixture(scope="session")
def known_answer_accounts() -> dict[str, int]:
    """The account ids in the shared known-answer warehouse."""
    from real_shape import load
    from test_funnel_known_answer import ACC as FUNNEL
    from test_known_answer import ACC as KPI

    return {"kpi": KPI, "funnel": FUNNEL, "real_shape": load("account")["id"]}
