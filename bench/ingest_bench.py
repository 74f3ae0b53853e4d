"""`make bench`: ingestion figures on the default demo account (seed 42, 12 months).

1. amoCRM's real conditions: the demo API enforces 7 requests/s (429, then a block) and the
   source keeps its default throttle — a full load, then a no-change incremental load. Printed:
   requests/s as a share of the 7 allowed, and the most requests the server saw in any one second.
2. No rate limit (loopback): how fast the pipeline itself is, in records/s.
Prints figures; asserts nothing about speed.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from ingestion.demo.account import generate_account
from ingestion.demo.api import DemoApiServer
from ingestion.demo.faults import Faults
from ingestion.pipeline import runner

AMOCRM_LIMIT = 7  # requests per second per account


def run(label: str, warehouse: Path, server: DemoApiServer, **kwargs: object) -> None:
    os.environ["SOURCES__AMOCRM__BASE_URL"] = server.base_url
    os.environ["SOURCES__AMOCRM__ACCESS_TOKEN"] = server.token
    faults = server.faults
    before, rejected_before = faults.requests, faults.rejected_429
    faults.arrivals.clear()
    summary = runner.ingest(warehouse, **kwargs)
    rows = sum(n for t, n in summary.rows.items() if t != "quarantine")
    served = faults.requests - before
    rate = summary.requests / summary.seconds
    print(f"{label:<34} {rows:>8} rows {summary.requests:>5} requests {summary.seconds:>7.1f} s "
          f"{rate:>6.2f} req/s {rows / summary.seconds:>8,.0f} rows/s "
          f"429s: {faults.rejected_429 - rejected_before} blocked: {faults.blocked} (server saw {served})", flush=True)
    if faults.rate_limit_per_second and summary.requests >= 100:  # a short run's average is one burst of 7s
        print(f"{'':<34} throttled: {rate:.2f} req/s = {rate / AMOCRM_LIMIT:.0%} of amoCRM's {AMOCRM_LIMIT}/s; "
              f"most the server saw in any one second: {faults.most_in_one_second()}", flush=True)


def main() -> int:
    account = generate_account()
    print(f"demo account: {account.counts()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        with DemoApiServer(account, faults=Faults(rate_limit_per_second=7)) as server:
            run("limit 7/s: full load", Path(tmp) / "limited.duckdb", server)
            run("limit 7/s: no-change incremental", Path(tmp) / "limited.duckdb", server)
        started = time.monotonic()
        with DemoApiServer(account) as server:
            run("no limit: full load", Path(tmp) / "free.duckdb", server, requests_per_second=0)
            run("no limit: no-change incremental", Path(tmp) / "free.duckdb", server, requests_per_second=0)
        print(f"total {time.monotonic() - started:.1f} s for the unlimited pair")
    return 0


if __name__ == "__main__":
    sys.exit(main())
