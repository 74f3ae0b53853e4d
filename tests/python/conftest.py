"""Shared fixtures: demo API servers and warehouses built through the real pipeline over HTTP."""

from __future__ import annotations

import atexit
import fcntl
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# runs hold an inter-process lock per amoCRM account; keep the tests' locks out of ~/.cache
os.environ.setdefault("AMOKPI_LOCK_DIR", tempfile.mkdtemp(prefix="amokpi-test-locks-"))
# the demo accounts the tests build use the demo seeds (plans, spend, costs, hire dates), as `amokpi demo` does
os.environ.setdefault("AMOKPI_DEMO_SEEDS", "1")
# dbt's artifacts (run_results.json, which the pipeline reads back) and log of this test process
# (one per xdist worker, each importing this file) in a directory of its own, never the project's
# target/: parallel workers never read each other's results, and a developer's target/ is untouched
os.environ["AMOKPI_TEST_DBT_DIR"] = tempfile.mkdtemp(prefix="amokpi-test-dbt-")  # not setdefault: one per process
os.environ["DBT_TARGET_PATH"] = os.path.join(os.environ["AMOKPI_TEST_DBT_DIR"], "target")
os.environ["DBT_LOG_PATH"] = os.path.join(os.environ["AMOKPI_TEST_DBT_DIR"], "logs")
# ... which nobody reads, and which dbt writes at debug level (every statement): ~8 % of a build's CPU
os.environ.setdefault("DBT_LOG_LEVEL_FILE", "none")
# both cores are busy with the two workers: dbt's second thread would only wait for Python's interpreter lock
# (dbt_project/profiles.yml: a small build 47 -> 39 CPU-s)
os.environ.setdefault("AMOKPI_DBT_THREADS", "1")

from amokpi.settings import serving_path
from ingestion.demo.account import DemoAccount, generate_account
from ingestion.demo.api import DemoApiServer

atexit.register(shutil.rmtree, os.environ["AMOKPI_TEST_DBT_DIR"], ignore_errors=True)  # ~30 MB a run
AMOKPI = str(Path(sys.executable).with_name("amokpi"))
DEMO_SEED, DEMO_LEADS_PER_MONTH = 7, 60  # a smaller demo than `make demo`'s, so the suite stays quick


@dataclass
class BuiltWarehouse:
    account: DemoAccount
    warehouse: Path  # the read-write warehouse (raw_amocrm, staging, intermediate, marts)
    serving: Path  # the published BI serving copy (marts and meta only); tests point the report at it
    target: Path  # dbt's artifacts of the build that made it (manifest.json, semantic_manifest.json, ...)
    cli: subprocess.CompletedProcess  # the `amokpi demo` run that built it: exit code and output


@pytest.fixture(scope="session", autouse=True)
def dbt_partial_parsing():
    """dbt parses the whole project again (10-20 s) whenever its profile changes, and the warehouse
    path is in the profile: every test warehouse would cost a full parse. dbt run by this process
    sees one fixed path instead, `<dbt dir>/warehouse/<file name>`, `warehouse` being a symlink to
    the directory of the warehouse being built (so DuckDB's WAL and temp files land beside the real
    file), and parses only what changed. Processes a test starts (`amokpi ...`) are untouched."""
    from ingestion.pipeline import runner

    link = Path(os.environ["AMOKPI_TEST_DBT_DIR"]) / "warehouse"
    run_dbt = runner.run_dbt

    def via_link(warehouse: Path | None) -> Path | None:
        if warehouse is None:
            return None
        real = Path(warehouse).resolve()
        link.unlink(missing_ok=True)
        link.symlink_to(real.parent, target_is_directory=True)
        return link / real.name

    def run_dbt_via_link(command: str, warehouse: Path | None = None, *extra: str, **options: object) -> None:
        return run_dbt(command, via_link(warehouse), *extra, **options)

    class DbtSessionViaLink(runner.DbtSession):  # the dbt process `amokpi run` starts ahead (start_build)
        def __init__(self, command: str, warehouse: Path | None = None, *extra: str, **options: object) -> None:
            super().__init__(command, via_link(warehouse), *extra, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "run_dbt", run_dbt_via_link)
        patch.setattr(runner, "DbtSession", DbtSessionViaLink)
        yield


@pytest.fixture(scope="session", autouse=True)
def streamlit_components_scanned_once() -> Iterator[None]:
    """Each new AppTest scans every installed distribution's metadata for Streamlit components (0.4 s, more
    than a page's own run); what is installed does not change during a session, so scan once."""
    from streamlit.components.v2 import manifest_scanner

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifest_scanner, "scan_component_manifests",
                      functools.cache(manifest_scanner.scan_component_manifests))
        yield


@pytest.fixture(autouse=True)
def report_connections_released() -> Iterator[None]:
    """The report keeps one open connection per published file for its process's life; a test
    process runs many reports on many files, so each test ends with none open (an open DuckDB
    instance in this process would otherwise answer another test's connect to the same path)."""
    yield
    data = sys.modules.get("streamlit_app.data")
    if data is not None:
        data.release()


@pytest.fixture(scope="session")
def small_demo_account() -> DemoAccount:
    """The account `amokpi demo --seed 7 --leads-per-month 60` generates (the generator is deterministic)."""
    return generate_account(seed=DEMO_SEED, leads_per_month=DEMO_LEADS_PER_MONTH)


@pytest.fixture(scope="session")
def demo_warehouse(small_demo_account: DemoAccount, tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """The demo warehouse as a user gets it, built once per session by the real command line:
    `amokpi demo --no-serve` generates the account, serves it over HTTP, ingests it, checks the raw
    tables (GX), runs `dbt build` with its tests and publishes. test_cli.py checks that run; the
    other tests read what it built. Under xdist the first worker that asks builds it and the other
    reads the same files (`built_once`), so the modules reading it spread over both workers. A test
    that publishes from it, or opens it read-write, works on a copy: DuckDB refuses a read-only open
    while another process holds the file read-write."""

    def build(directory: Path) -> dict:
        warehouse = directory / "warehouse.duckdb"
        # its dbt artifacts beside it, not in this worker's target dir: both workers read them
        env = {**os.environ, "AMOKPI_WAREHOUSE": str(warehouse), "DBT_TARGET_PATH": str(directory / "target")}
        for name in ("AMOKPI_SERVING", "AMOKPI_REPORT"):
            env.pop(name, None)
        cli = subprocess.run([AMOKPI, "demo", "--no-serve", "--seed", str(DEMO_SEED),
                              "--leads-per-month", str(DEMO_LEADS_PER_MONTH)],
                             env=env, capture_output=True, text=True, timeout=900)
        assert cli.returncode == 0, cli.stdout[-3000:] + cli.stderr[-3000:]
        return {"warehouse": str(warehouse), "args": cli.args, "returncode": cli.returncode,
                "stdout": cli.stdout, "stderr": cli.stderr}

    built = built_once(tmp_path_factory, "demo_warehouse", build)
    cli = subprocess.CompletedProcess(built["args"], built["returncode"], built["stdout"], built["stderr"])
    warehouse = Path(built["warehouse"])
    return BuiltWarehouse(small_demo_account, warehouse, serving_path(warehouse), warehouse.parent / "target", cli)


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], dict]) -> dict:
    """`build(directory)` run once per test session, whichever pytest-xdist worker asks first (xdist's documented
    recipe: a lock in the directory all workers' temporary directories share); the others wait for it and get the
    JSON it returned. A build that failed is tried again by the next worker that asks (and fails it the same way)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    directory, done = root / name, root / f"{name}.json"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when its holder dies
        if done.exists():
            return json.loads(done.read_text())
        shutil.rmtree(directory, ignore_errors=True)  # a failed attempt's leftovers
        directory.mkdir()
        built = build(directory)
        done.write_text(json.dumps(built))
        return built


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

    from expectations.results import dbt_rows
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
    # the subject is the figures: dbt's data tests run in test_data_quality; the models' unit tests run here, in
    # this build's dbt process (test_known_answer reads their results)
    runner.build(warehouse, with_tests=False, unit_tests=True)
    target = runner.dbt_target_dir()
    declared = len(json.loads((target / "manifest.json").read_text())["unit_tests"])
    unit_tests = [r for r in dbt_rows(target) if r.suite == "unit_test"]
    runner.validate(warehouse)
    runner.publish(warehouse)
    # the known-answer tests read every layer (raw, staging, intermediate), so the warehouse itself
    return KnownAnswerBuild(warehouse, warehouse, shape.api, unit_tests, declared)


@pytest.fixture(scope="session")
def known_answer_accounts() -> dict[str, int]:
    """The account ids in the shared known-answer warehouse."""
    from real_shape import load
    from test_funnel_known_answer import ACC as FUNNEL
    from test_known_answer import ACC as KPI

    return {"kpi": KPI, "funnel": FUNNEL, "real_shape": load("account")["id"]}


# What makes a test an integration test: it reads a warehouse that dbt built (a shared one, or
# test_data_quality's gate runs) or builds one itself. The rest are the pyramid's fast layer.
INTEGRATION_FIXTURES = ("demo_warehouse", "known_answer_build", "scenario")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in INTEGRATION_FIXTURES for name in getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


# How the suite spreads over pytest-xdist's workers (`-n 2`, pyproject). A unit of work is a test module (its
# module-scoped fixtures, such as test_data_quality's scenario, are built once), except that every module reading
# the known-answer warehouse is one unit: that warehouse is built in this process and keeps a live demo API's log,
# so it stays on one worker. The demo warehouse is shared by both workers (`built_once`).
# (xdist's own `--dist loadgroup` marks do not reach pytest 9's node ids, hence a scheduler.)
SHARED_WAREHOUSES = ("known_answer_build",)
# Units that start first, longest first (xdist would order by number of tests): the first builds the demo
# warehouse while the other worker builds the known-answer one, and no long unit is left to start last.
START_FIRST = ("tests/python/test_report_pages.py", "known_answer_build", "tests/python/test_data_quality.py",
               "tests/python/test_faults.py")


@functools.cache
def work_unit(root: Path, module: str) -> str:
    """The shared warehouse test module `module` reads (named in its source), or the module itself."""
    try:
        source = (root / module).read_text()
    except OSError:
        return module
    return next((name for name in SHARED_WAREHOUSES if name in source), module)


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    from collections import OrderedDict

    from xdist.scheduler import LoadScopeScheduling

    class SharedWarehouseScheduling(LoadScopeScheduling):
        """xdist's loadscope (whole units to one worker) with `work_unit` as the unit and START_FIRST first."""

        ordered = False

        def _split_scope(self, nodeid: str) -> str:
            return work_unit(config.rootpath, nodeid.split("::", 1)[0])

        def _assign_work_unit(self, node) -> None:
            if not self.ordered:  # the queue is complete when the first unit is handed out
                rank = {unit: i for i, unit in enumerate(START_FIRST)}
                self.workqueue = OrderedDict(sorted(self.workqueue.items(),
                                                    key=lambda item: rank.get(item[0], len(rank))))
                self.ordered = True
            super()._assign_work_unit(node)

    return SharedWarehouseScheduling(config, log)
