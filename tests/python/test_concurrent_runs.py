"""Two runs of one account at once, as cron overlap or a manual run during the nightly one makes
them: real `amokpi ingest` processes against the demo API with amoCRM's limit (7 requests/s,
429, then a block), counted on the server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from expected import assert_complete
from local_processes import wait_for

from ingestion.demo.account import generate_account
from ingestion.demo.api import DemoApiServer
from ingestion.demo.faults import Faults
from ingestion.pipeline import locks

AMOKPI = str(Path(sys.executable).with_name("amokpi"))


@pytest.fixture()
def account():
    return generate_account(seed=41, months=1, leads_per_month=30)


def start(warehouse: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "AMOKPI_WAREHOUSE": str(warehouse)}
    return subprocess.Popen([AMOKPI, "ingest", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for_holder(lock: Path, pid: int, timeout: float = 60.0) -> None:
    wait_for(lambda: f'"pid": {pid}' in (lock.read_text() if lock.exists() else ""), timeout,
             f"{lock} to name PID {pid}", interval=0.05)


def test_a_second_run_of_the_account_refuses_naming_the_first(tmp_path: Path, env, account, monkeypatch) -> None:
    monkeypatch.setenv("AMOKPI_LOCK_DIR", str(tmp_path / "locks"))
    faults = Faults(rate_limit_per_second=7)
    with DemoApiServer(account, faults=faults) as server:
        env(server, server.token)
        first = start(tmp_path / "first.duckdb")
        wait_for_holder(locks.account_lock_path(server.base_url), first.pid)
        # another warehouse, the same account: still one run at a time
        second = start(tmp_path / "second.duckdb")
        _, error = second.communicate(timeout=120)
        first_out, first_err = first.communicate(timeout=300)
    assert second.returncode == 1
    assert error.strip().splitlines()[-1].startswith(f"error: amoCRM account {server.base_url[7:]} is in use by "
                                                     f"PID {first.pid} (`amokpi ingest`")
    assert len(error.strip().splitlines()) == 1
    assert first.returncode == 0, first_err[-2000:]
    assert faults.rejected_429 == 0 and faults.most_in_one_second() <= 7
    assert not (tmp_path / "second.duckdb").exists()


@pytest.mark.slow  # two throttled runs back to back: a heavier check, in `make bench`
def test_a_waiting_run_goes_after_the_first_and_amocrm_never_sees_more_than_7_a_second(
        tmp_path: Path, env, account, monkeypatch) -> None:
    monkeypatch.setenv("AMOKPI_LOCK_DIR", str(tmp_path / "locks"))
    faults = Faults(rate_limit_per_second=7)
    with DemoApiServer(account, faults=faults) as server:
        env(server, server.token)
        first = start(tmp_path / "first.duckdb")
        wait_for_holder(locks.account_lock_path(server.base_url), first.pid)
        second = start(tmp_path / "second.duckdb", "--wait", "300")
        outcomes = [p.communicate(timeout=600) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], [err[-2000:] for _, err in outcomes]
    # before the lock, two runs sent ~13 requests/s: ten 429s, then both were blocked
    assert faults.rejected_429 == 0 and faults.blocks == 0
    assert faults.most_in_one_second() <= 7
    for warehouse in ("first.duckdb", "second.duckdb"):
        assert_complete(tmp_path / warehouse, account)
