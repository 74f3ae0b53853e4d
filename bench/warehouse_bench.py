"""`make bench`: the full dbt build (every model, seed, data test and unit test) on DuckDB and on PostgreSQL 15
for the same data, the default demo account (seed 42) loaded by the same dlt pipeline into each; prints both
times and their ratio, and what dbt's results hold (a build with an error or a skip fails the bench).

PostgreSQL is a throwaway server on loopback (tests/python/postgres_server.py), stopped at the end.
dbt parses the project before the timed build (the parse is the same on both engines and not a warehouse cost).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from amokpi.settings import PROJECT_ROOT
from ingestion.demo.account import generate_account
from ingestion.demo.api import DemoApiServer
from ingestion.pipeline import runner

sys.path.insert(0, str(PROJECT_ROOT / "tests" / "python"))
from postgres_server import postgres_server  # noqa: E402  (test helper, not a package)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def load_and_build(label: str, warehouse: Path, server: DemoApiServer) -> float:
    """Ingest the served account (same pipeline, the engine AMOKPI_TARGET names), then time one full build."""
    summary = runner.ingest(warehouse, full_refresh=True, requests_per_second=0)
    runner.run_dbt("parse", warehouse, "--quiet")
    started = time.monotonic()
    runner.run_dbt("build", warehouse, "--quiet")
    seconds = time.monotonic() - started
    results = json.loads((runner.dbt_target_dir() / "run_results.json").read_text())["results"]
    statuses = Counter(r["status"] for r in results)
    slowest = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:3]
    print(f"{label:<10} ingest {sum(summary.rows.values()):>7} rows in {summary.seconds:5.1f} s; dbt build "
          f"{seconds:6.1f} s: {dict(sorted(statuses.items()))}; slowest: "
          + ", ".join(f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.1f} s" for r in slowest), flush=True)
    if set(statuses) & {"error", "fail", "skipped", "runtime error"}:  # warn (a demo warn test) and no-op pass
        raise SystemExit(f"{label}: the build has errors or skips: {dict(statuses)}")
    return seconds


def main() -> int:
    account = generate_account()
    print(f"demo account: {account.counts()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp, DemoApiServer(account) as server:
        common = {"SOURCES__AMOCRM__BASE_URL": server.base_url, "SOURCES__AMOCRM__ACCESS_TOKEN": server.token,
                  "AMOKPI_DEMO_SEEDS": "1", "AMOKPI_LOCK_DIR": str(Path(tmp) / "locks")}
        with environment({**common, "AMOKPI_TARGET": "duckdb", "DBT_TARGET_PATH": str(Path(tmp) / "target-duckdb")}):
            duck = load_and_build("duckdb", Path(tmp) / "duckdb" / "warehouse.duckdb", server)
        with postgres_server() as pg, environment({**common, **pg.env(),
                                                   "DBT_TARGET_PATH": str(Path(tmp) / "target-postgres")}):
            postgres = load_and_build("postgres", Path(tmp) / "postgres" / "warehouse.duckdb", server)
    print(f"full dbt build: DuckDB {duck:.1f} s, PostgreSQL 15 {postgres:.1f} s, "
          f"ratio PostgreSQL/DuckDB {postgres / duck:.1f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
