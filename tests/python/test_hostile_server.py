"""A broken or hostile server cannot hang, flood or crash a run, nor collect its token.

Each misbehaviour is switched on for one path of the demo amoCRM API (`Faults.hostile_paths`),
served over real HTTP on loopback; the rest of the account is served as amoCRM would. Every run
must end (bounded), stop only the resource that met the misbehaviour, say why in one line and in
a quarantine row, and load every other resource whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest
from expected import FACTS, assert_complete

from ingestion.demo.account import generate_account
from ingestion.demo.api import DemoApiServer
from ingestion.demo.faults import Faults
from ingestion.pipeline import runner

BOUNDED = {"request_backoff_factor": 0.05, "request_max_attempts": 2, "requests_per_second": 0}


@pytest.fixture(scope="module")
def account():
    return generate_account(seed=31, months=1, leads_per_month=30)


def quarantined(warehouse: Path, entity: str) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [p for (p,) in con.execute("select problem from raw_amocrm.quarantine where entity = ?",
                                          [entity]).fetchall()]


def hostile_run(tmp_path: Path, env, account, path: str, **settings: object) -> tuple[Path, runner.IngestIncomplete]:
    faults = Faults(hostile_paths={path: settings.pop("mode")}, **settings.pop("faults", {}))
    warehouse = tmp_path / "wh.duckdb"
    with DemoApiServer(account, faults=faults) as server:
        env(server, server.token)
        with pytest.raises(runner.IngestIncomplete) as stopped:
            runner.ingest(warehouse, **{**BOUNDED, **settings})
    return warehouse, stopped.value


@pytest.mark.parametrize(("resource_name", "path"), [("tasks", "/api/v4/tasks"), ("users", "/api/v4/users")])
def test_a_next_link_pointing_at_itself_stops_that_resource(tmp_path: Path, env, account, resource_name: str,
                                                            path: str) -> None:
    warehouse, stopped = hostile_run(tmp_path, env, account, path, mode="repeat_page")
    assert list(stopped.summary.incomplete) == [resource_name]
    assert "already served" in stopped.summary.incomplete[resource_name]
    assert any("already served" in p for p in quarantined(warehouse, resource_name))
    assert_complete(warehouse, account, [t for t in FACTS if t != resource_name])


def test_a_trickling_server_is_cut_off_at_the_deadline(tmp_path: Path, env, account) -> None:
    # one byte every 0.5 s never trips a per-read timeout; the whole-answer deadline (1.5 s) does
    warehouse, stopped = hostile_run(tmp_path, env, account, "/api/v4/tasks", mode="trickle",
                                     faults={"trickle_seconds": 0.5}, request_deadline=1.5, request_timeout=30)
    assert list(stopped.summary.incomplete) == ["tasks"]
    assert "within 1.5 s" in stopped.summary.incomplete["tasks"]
    assert any("DeadlineExceeded" in p for p in quarantined(warehouse, "tasks"))
    assert_complete(warehouse, account, [t for t in FACTS if t != "tasks"])


def test_json_nested_100000_deep_is_a_malformed_page(tmp_path: Path, env, account) -> None:
    warehouse, stopped = hostile_run(tmp_path, env, account, "/api/v4/tasks", mode="deep")
    assert list(stopped.summary.incomplete) == ["tasks"]
    assert "nested too deep" in stopped.summary.incomplete["tasks"]
    assert quarantined(warehouse, "tasks") == ["malformed page: JSON nested too deep to parse"]
    assert_complete(warehouse, account, [t for t in FACTS if t != "tasks"])


def test_json_deeper_than_any_amocrm_answer_is_refused_before_dlt_sees_it(tmp_path: Path, env, account) -> None:
    # 500 levels parse, but no amoCRM answer is that deep and dlt's writer could not serialize it
    warehouse, stopped = hostile_run(tmp_path, env, account, "/api/v4/tasks", mode="deep",
                                     faults={"deep_levels": 500})
    assert "nested deeper than 32 levels" in stopped.summary.incomplete["tasks"]
    assert_complete(warehouse, account, [t for t in FACTS if t != "tasks"])


HUGE_PAGE_RUN = """
import json, os, resource, sys
from pathlib import Path
from ingestion.pipeline import runner
try:
    runner.ingest(Path(sys.argv[1]), request_backoff_factor=0.05, request_max_attempts=2, requests_per_second=0)
    outcome = "complete"
except runner.IngestIncomplete as exc:
    outcome = exc.summary.incomplete
print(json.dumps({"outcome": outcome, "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


@pytest.mark.slow  # streams 50 MB through the source: a heavier check, in `make bench`
def test_a_50_mb_page_is_refused_while_it_streams(tmp_path: Path, env, account) -> None:
    """In a process of its own, so its peak memory is its own: the default cap (32 MiB) stops the
    read, so a 50 MB page never sits in memory whole (it used to peak at 731 MB)."""
    faults = Faults(hostile_paths={"/api/v4/tasks": "huge"})
    with DemoApiServer(account, faults=faults) as server:
        env(server, server.token)
        baseline = _peak_of(tmp_path / "clean.duckdb", faults, off=True)
        faults.hostile_paths = {"/api/v4/tasks": "huge"}
        found = _peak_of(tmp_path / "wh.duckdb", faults)
    assert list(found["outcome"]) == ["tasks"]
    assert "over the 33,554,432-byte cap" in found["outcome"]["tasks"]
    grown_mib = (found["peak_kib"] - baseline["peak_kib"]) / 1024
    print(f"peak {found['peak_kib'] / 1024:.0f} MiB vs {baseline['peak_kib'] / 1024:.0f} MiB without the page")
    assert grown_mib < 120, f"the refused page still grew the peak by {grown_mib:.0f} MiB"
    assert any("ResponseTooLarge" in p for p in quarantined(tmp_path / "wh.duckdb", "tasks"))


def _peak_of(warehouse: Path, faults: Faults, off: bool = False) -> dict:
    if off:
        faults.hostile_paths = {}
    done = subprocess.run([sys.executable, "-c", HUGE_PAGE_RUN, str(warehouse)], env=dict(os.environ),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


class TokenCatcher:
    """Another origin (another port on loopback): records every Authorization header it is sent."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                catcher.seen.append(self.headers.get("Authorization"))
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def test_a_redirect_to_another_origin_is_not_followed(tmp_path: Path, env, account) -> None:
    catcher = TokenCatcher()
    try:
        warehouse, stopped = hostile_run(tmp_path, env, account, "/api/v4/users", mode="redirect",
                                         faults={"redirect_to": catcher.url})
    finally:
        catcher.stop()
    assert catcher.seen == []  # not a single request reached the other origin, with or without a token
    assert "not followed, so the token stays with 127.0.0.1" in stopped.summary.incomplete["users"]
    assert_complete(warehouse, account)



def test_each_resource_reads_at_most_max_pages_a_run(tmp_path: Path, env, account) -> None:
    # a well-behaved server, a tight budget: custom fields (59 lead fields come 50 a page, then the
    # contacts' and companies' fields) need 4 pages over three listings and stop at the budget,
    # counted over all of them; every other resource needs at most 3 and loads whole
    warehouse = tmp_path / "wh.duckdb"
    with DemoApiServer(account) as server:
        env(server, server.token)
        with pytest.raises(runner.IngestIncomplete) as stopped:
            runner.ingest(warehouse, max_pages=3, **BOUNDED)
    incomplete = stopped.value.summary.incomplete
    assert list(incomplete) == ["custom_fields"]
    assert incomplete["custom_fields"].startswith("custom_fields: more than 3 pages in one run from "
                                                  "/api/v4/companies/custom_fields; stopped")
    assert any("EndlessListing" in p for p in quarantined(warehouse, "custom_fields"))
    assert_complete(warehouse, account)
