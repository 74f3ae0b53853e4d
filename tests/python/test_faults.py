"""Ingestion under the faults a live amoCRM account produces, each switched on in the demo API and
exercised through real HTTP. Every test ends by comparing the raw tables with the generator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
import requests
from expected import FACTS, assert_complete, raw_ids, served, served_ids

from ingestion.amocrm.oauth import TokenStore, exchange_code
from ingestion.demo.account import DemoAccount, generate_account
from ingestion.demo.api import DemoApiServer
from ingestion.demo.faults import Faults
from ingestion.demo.oauth import TokenAuthority
from ingestion.pipeline import runner

FAST_RETRY = {"request_backoff_factor": 0.05, "requests_per_second": 0}


def small_account(**kwargs: int) -> DemoAccount:
    return generate_account(seed=kwargs.pop("seed", 21), months=kwargs.pop("months", 1),
                            leads_per_month=kwargs.pop("leads_per_month", 15))


def test_throttle_keeps_under_the_rate_limit(tmp_path: Path, env) -> None:
    account = small_account()
    faults = Faults(rate_limit_per_second=7)
    with DemoApiServer(account, faults=faults) as server:
        env(server, server.token)
        summary = runner.ingest(tmp_path / "wh.duckdb")  # the default: amoCRM's 7 requests/s
    # counted where amoCRM counts: never more than 7 arrived within any one second, so never a 429
    assert faults.rejected_429 == 0 and not faults.blocked
    assert summary.requests >= 15 and faults.most_in_one_second() <= 7
    assert_complete(tmp_path / "wh.duckdb", account)


def test_demo_api_answers_overruns_like_amocrm(tmp_path: Path) -> None:
    faults = Faults(rate_limit_per_second=7, block_after_429s=5)
    with DemoApiServer(small_account(), faults=faults) as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        answers = [requests.get(f"{server.base_url}/api/v4/account", headers=headers, timeout=5) for _ in range(20)]
    codes = [a.status_code for a in answers]
    assert codes[:7] == [200] * 7 and 429 in codes and codes[-1] == 403
    too_many = answers[codes.index(429)]
    assert too_many.content == b"" and "Retry-After" not in too_many.headers
    assert answers[-1].headers["Content-Type"].startswith("text/html") and faults.blocked


def test_stray_429s_5xx_bursts_and_time_outs_are_retried(tmp_path: Path, env) -> None:
    account = small_account()
    faults = Faults(forced_429_requests={3, 4}, server_errors={6: 503, 7: 502, 8: 500},
                    slow_requests={10: 1.5})
    with DemoApiServer(account, faults=faults) as server:
        env(server, server.token)
        summary = runner.ingest(tmp_path / "wh.duckdb", request_timeout=0.5, **FAST_RETRY)
    assert faults.rejected_429 == 2
    assert summary.requests == faults.requests  # every fault cost exactly one extra request
    assert_complete(tmp_path / "wh.duckdb", account)


def test_malformed_records_are_quarantined_and_good_ones_load(tmp_path: Path, env) -> None:
    account = small_account()
    bad = {account.leads[1]["id"], account.leads[5]["id"]}
    warehouse = tmp_path / "wh.duckdb"
    with DemoApiServer(account, faults=Faults(corrupt_lead_ids=bad)) as server:
        env(server, server.token)
        summary = runner.ingest(warehouse, **FAST_RETRY)
        assert summary.quarantined == 2
        runner.ingest(warehouse, lookback_seconds=10**9, **FAST_RETRY)  # re-reading them adds no copies
    assert_complete(warehouse, account, missing_leads=bad)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select entity, record_id, problem, payload from raw_amocrm.quarantine").fetchall()
    assert sorted(int(r[1]) for r in rows) == sorted(bad)
    assert all(r[0] == "leads" and "price is 'дорого'" in r[2] and "missing updated_at" in r[2] for r in rows)
    assert all('"дорого"' in r[3] for r in rows)  # the record itself is kept for inspection


def test_a_page_that_is_briefly_not_json_is_fetched_again(tmp_path: Path, env) -> None:
    account = small_account()
    faults = Faults(broken_json_requests={5})
    with DemoApiServer(account, faults=faults) as server:
        env(server, server.token)
        summary = runner.ingest(tmp_path / "wh.duckdb", **FAST_RETRY)
    assert summary.quarantined == 0 and not summary.incomplete
    assert_complete(tmp_path / "wh.duckdb", account)


def test_a_persistently_broken_page_stops_only_its_resource(tmp_path: Path, env) -> None:
    account = generate_account(seed=22, months=2, leads_per_month=200)
    live = sorted(lead["updated_at"] for lead in account.leads if not lead["is_deleted"])
    warehouse = tmp_path / "wh.duckdb"
    faults = Faults(broken_json_path="/api/v4/leads", broken_json_from=2)
    with DemoApiServer(account, faults=faults) as server:
        env(server, server.token)
        with pytest.raises(runner.IngestIncomplete, match="leads: malformed page") as failure:
            runner.ingest(warehouse, **FAST_RETRY)
        # both listings of /api/v4/leads (live and deleted) stop at their first broken page, which is
        # kept in quarantine; what came before it loaded
        assert 1 <= failure.value.summary.quarantined <= 2
        leads = raw_ids(warehouse, "leads")
        assert 0 < len(leads) < len(account.leads) and len(live) > 250
        for table in ("contacts", "tasks", "notes", "events"):  # other resources are unaffected
            assert raw_ids(warehouse, table) == served_ids(account, table), table
        faults.broken_json_path = None  # the API recovers: the next run fetches what was left
        runner.ingest(warehouse, **FAST_RETRY)
    assert_complete(warehouse, account)


def test_paging_while_leads_are_edited_reads_each_once(tmp_path: Path, env) -> None:
    account = generate_account(seed=23, months=3, leads_per_month=200)
    warehouse = tmp_path / "wh.duckdb"
    with DemoApiServer(account, faults=Faults(move_leads_while_paging=5)) as server:
        env(server, server.token)
        runner.ingest(warehouse, **FAST_RETRY)
    assert_complete(warehouse, account)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        edited = con.execute("select count(*) from raw_amocrm.leads where name like '%(edited)'").fetchone()
        assert edited == (5,)  # the newest version of each edited lead


class ExpiresMidRun(TokenAuthority):
    """Every access token issued so far expires when the `at`-th request of a run is checked, as if
    24 h passed mid-run. The requests in flight with the old token are refused once; the refreshed
    token lives on, so each refused request is re-sent and accepted however the threads and the
    scheduler order them (a token dying every N requests would race the re-sent requests)."""

    def __init__(self) -> None:
        super().__init__(long_lived_tokens=())
        self.at: int | None = None
        self.checked = 0
        self._counting = threading.Lock()

    def expire_at(self, request: int | None) -> None:
        with self._counting:
            self.at, self.checked = request, 0

    def is_valid(self, access_token: str) -> bool:
        with self._counting:
            self.checked += 1
            if self.checked == self.at:
                self.expire_access_tokens()
        return super().is_valid(access_token)


def test_oauth_token_expiring_mid_run_is_refreshed(tmp_path: Path, env, monkeypatch: pytest.MonkeyPatch) -> None:
    account = small_account()
    authority = ExpiresMidRun()
    store = TokenStore(tmp_path / "tokens.json")
    with DemoApiServer(account, authority=authority) as server:
        env(server)
        exchange_code(server.base_url, authority.client_id, authority.client_secret, authority.redirect_uri,
                      authority.issue_authorization_code(), store)
        monkeypatch.setenv("SOURCES__AMOCRM__CLIENT_ID", authority.client_id)
        monkeypatch.setenv("SOURCES__AMOCRM__CLIENT_SECRET", authority.client_secret)
        monkeypatch.setenv("SOURCES__AMOCRM__REDIRECT_URI", authority.redirect_uri)
        monkeypatch.setenv("SOURCES__AMOCRM__TOKEN_FILE", str(store.path))
        # two runs, the token dying mid-way through each: the second refreshes with the refresh
        # token the first one saved (amoCRM's refresh tokens work once)
        for refreshes in (1, 2):
            authority.expire_at(5)
            runner.ingest(tmp_path / "wh.duckdb", full_refresh=True, **FAST_RETRY)
            assert authority.checked > 5  # the token died mid-run, not after it
            assert authority.refreshes == refreshes  # once per expiry, however many requests it refused
        authority.expire_at(None)
        pair = store.load()
        assert authority.is_valid(pair.access_token)  # the newest pair was persisted
    assert_complete(tmp_path / "wh.duckdb", account)
    # secrets live only in the token file: not in the warehouse, not in dlt's pipeline state
    secrets = [pair.access_token, pair.refresh_token, authority.client_secret]
    assert (tmp_path / ".dlt_wh").is_dir()
    for path in [tmp_path / "wh.duckdb", *(tmp_path / ".dlt_wh").rglob("*")]:
        if path.is_file():
            content = path.read_bytes()
            assert not any(secret.encode() in content for secret in secrets), path


KILLED_INGEST = """
import sys
from pathlib import Path
from ingestion.pipeline import runner
runner.ingest(Path(sys.argv[1]), requests_per_second=15)
"""


def test_a_killed_run_is_completed_by_the_next_one(tmp_path: Path, env) -> None:
    account = generate_account(seed=24, months=4, leads_per_month=60)
    killed, clean = tmp_path / "killed.duckdb", tmp_path / "clean.duckdb"
    with DemoApiServer(account) as server:
        env(server, server.token)
        child = subprocess.Popen([sys.executable, "-c", KILLED_INGEST, str(killed)], env=dict(os.environ))
        deadline = time.monotonic() + 60
        while server.faults.requests < 25 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL  # it really died half-way
        runner.ingest(killed, **FAST_RETRY)
        runner.ingest(clean, **FAST_RETRY)
    assert_complete(killed, account)
    for table in FACTS:
        with duckdb.connect(str(killed), read_only=True) as a, duckdb.connect(str(clean), read_only=True) as b:
            query = f"select count(*), sum(hash(id, updated_at)) from raw_amocrm.{table}"
            if table == "events":
                query = "select count(*), sum(hash(id, created_at, type)) from raw_amocrm.events"
            assert a.execute(query).fetchone() == b.execute(query).fetchone(), table


def test_since_rereads_a_period_without_moving_the_cursor(tmp_path: Path, env) -> None:
    account = small_account(months=2)
    warehouse = tmp_path / "wh.duckdb"
    with DemoApiServer(account) as server:
        env(server, server.token)
        runner.ingest(warehouse, **FAST_RETRY)
        backfill = runner.ingest(warehouse, since=0, **FAST_RETRY)
        assert backfill.rows["leads"] == len(served(account, "leads"))
        after = runner.ingest(warehouse, **FAST_RETRY)
        assert after.rows.get("leads", 0) < len(account.leads) // 2  # back to the stored cursor
    assert_complete(warehouse, account)


@pytest.mark.parametrize(
    ("status", "message"),
    [(401, "access token"), (402, "not paid"), (403, "access denied")],
)
def test_refusals_name_the_cause(tmp_path: Path, env, status: int, message: str) -> None:
    with DemoApiServer(small_account(), faults=Faults(server_errors={1: status})) as server:
        env(server, server.token)
        with pytest.raises(runner.StepFailed, match=message):
            runner.ingest(tmp_path / "wh.duckdb", **FAST_RETRY)


def test_unreachable_address_names_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__AMOCRM__BASE_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("SOURCES__AMOCRM__ACCESS_TOKEN", "x")
    with pytest.raises(runner.StepFailed, match="cannot reach .*SOURCES__AMOCRM__BASE_URL"):
        runner.ingest(tmp_path / "wh.duckdb", request_max_attempts=1, **FAST_RETRY)
