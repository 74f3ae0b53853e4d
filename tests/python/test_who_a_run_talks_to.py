"""A run talks to the account, over HTTPS with its certificate checked, and to nobody else.

- The demo amoCRM API served over TLS on loopback with a self-signed certificate: with that certificate in
  REQUESTS_CA_BUNDLE the whole account loads, and the bundle's path is looked at once a run, not once a
  request (requests stats it on every request; the adapter keeps the answer). With a bundle that does not
  hold it, the run stops on the certificate, in one line that says which bundle judged it, and loads nothing.
- `amokpi ingest` in a process of its own, with dlt's telemetry address pointed at a recorder on loopback:
  nothing arrives (dlt reports every run to dlthub unless told not to). dbt is told not to track either,
  and no dbt tracking cookie is shipped."""

from __future__ import annotations

import os
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest
import yaml
from conftest import AMOKPI
from expected import FACTS, assert_complete
from notify_servers import self_signed

from amokpi.settings import PROJECT_ROOT
from ingestion.demo.account import generate_account
from ingestion.demo.api import DemoApiServer
from ingestion.pipeline import runner


@pytest.fixture(scope="module")
def account():
    return generate_account(seed=5, months=1, leads_per_month=30)


def _served(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def test_an_https_account_loads_with_its_certificate_in_the_bundle(tmp_path: Path, env, account, monkeypatch
                                                                   ) -> None:
    context, cert_file = _served(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_file))
    looked_at: list[str] = []
    isdir = os.path.isdir

    def counted(path: object) -> bool:  # the real answer; only counted
        if str(path) == str(cert_file):
            looked_at.append(str(path))
        return isdir(path)

    warehouse = tmp_path / "wh.duckdb"
    with DemoApiServer(account, tls=context) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        env(server, server.token)
        with monkeypatch.context() as patch:
            patch.setattr(os.path, "isdir", counted)
            summary = runner.ingest(warehouse, requests_per_second=0)
    assert summary.requests > 20  # a page or more of every resource
    assert_complete(warehouse, account, FACTS)
    assert 1 <= len(looked_at) <= 2, len(looked_at)  # once per adapter (the token refresh has its own)


def test_a_certificate_the_bundle_does_not_hold_stops_the_run(tmp_path: Path, env, account, monkeypatch) -> None:
    context, _ = _served(tmp_path)
    (tmp_path / "other").mkdir()
    other_cert, _ = self_signed(tmp_path / "other")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_cert))
    warehouse = tmp_path / "wh.duckdb"
    with DemoApiServer(account, tls=context) as server:
        env(server, server.token)
        with pytest.raises(runner.StepFailed) as stopped:
            runner.ingest(warehouse, requests_per_second=0)
    assert str(stopped.value).endswith(f"{urlsplit(server.base_url).netloc} did not pass the TLS check "
                                      "(certificate verify failed: self-signed certificate), judged by "
                                      f"{other_cert}: behind a company proxy, "
                                      "set REQUESTS_CA_BUNDLE to a bundle that holds its CA"), stopped.value
    if warehouse.exists():  # nothing loaded
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert not con.execute("select count(*) from information_schema.tables where table_schema = 'raw_amocrm' "
                                   "and table_name = 'leads'").fetchone()[0]


class _Recorder(BaseHTTPRequestHandler):
    arrived: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.arrived.append(self.path)
        self.send_response(204)
        self.end_headers()

    do_GET = do_POST  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


def test_an_ingest_sends_nothing_to_dlthub(tmp_path: Path, account) -> None:
    recorder = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=recorder.serve_forever, args=(0.05,), daemon=True).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNTIME__", "SOURCES__AMOCRM__"))}
    try:
        with DemoApiServer(account) as server:
            env |= {"SOURCES__AMOCRM__BASE_URL": server.base_url, "SOURCES__AMOCRM__ACCESS_TOKEN": server.token,
                    "SOURCES__AMOCRM__REQUESTS_PER_SECOND": "0", "AMOKPI_WAREHOUSE": str(tmp_path / "wh.duckdb"),
                    "AMOKPI_LOCK_DIR": str(tmp_path / "locks"),
                    "RUNTIME__DLTHUB_TELEMETRY_ENDPOINT": f"http://127.0.0.1:{recorder.server_address[1]}"}
            done = subprocess.run([AMOKPI, "ingest"], env=env, capture_output=True, text=True, timeout=180)
    finally:
        recorder.shutdown()
        recorder.server_close()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "<== ingest done" in done.stdout
    assert _Recorder.arrived == []


def test_dbt_is_told_not_to_track_and_no_tracking_cookie_is_shipped() -> None:
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())
    assert project["flags"]["send_anonymous_usage_stats"] is False
    shipped = subprocess.run(["git", "ls-files", "--", "*.user.yml"], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert shipped == ""
