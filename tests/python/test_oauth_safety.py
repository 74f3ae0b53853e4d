"""amoCRM OAuth2 safe for unattended nightly runs, through real HTTP on loopback and real processes:
the token stays on its origin, one refresh across processes, a failing token endpoint is retried and
not mistaken for a dead integration, and a refresh killed mid-flight is diagnosed as such."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from local_processes import wait_for
from test_oauth import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, OAuthTestServer, assert_no_secrets

import ingestion.amocrm.oauth
from ingestion.amocrm.oauth import AmoCrmOAuth2, OAuthError, TokenPair, TokenStore, exchange_code
from ingestion.demo.oauth import TokenAuthority

REAUTH = "re-authorise with `amokpi auth --code <code>`"

# A nightly run in miniature: build the auth, say "ready", wait for "go" (so that two children start
# together), GET the account once, print the outcome as JSON (the bearer only as a hash).
CHILD = r"""
import hashlib, json, os, sys, time
from pathlib import Path

import requests

from ingestion.amocrm.oauth import AmoCrmOAuth2, OAuthError, TokenStore

args = json.loads(sys.argv[1])
auth = AmoCrmOAuth2(args["base_url"], args["client_id"], args["client_secret"], args["redirect_uri"],
                    TokenStore(Path(args["token_file"])), refresh_backoff_seconds=0.01)
Path(args["ready_dir"], str(os.getpid())).touch()
deadline = time.monotonic() + 30
while not Path(args["go"]).exists() and time.monotonic() < deadline:
    time.sleep(0.005)
try:
    with requests.Session() as session:
        response = session.get(args["base_url"] + "/api/v4/account", auth=auth, timeout=30)
except OAuthError as exc:
    print(json.dumps({"error": str(exc)}))
    sys.exit(1)
bearer = (response.request.headers.get("Authorization") or "").removeprefix("Bearer ")
print(json.dumps({"status": response.status_code, "bearer_sha256": hashlib.sha256(bearer.encode()).hexdigest()}))
"""


class RecordingServer:
    """Another origin: answers every request 401 and records the Authorization header it came with."""

    def __init__(self) -> None:
        self.headers: list[str | None] = []
        recorded = self.headers

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                recorded.append(self.headers.get("Authorization"))
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                payload = b'{"title": "Unauthorized", "status": 401}'
                self.send_response(401)
                self.send_header("Content-Type", "application/problem+json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer  # noqa: N815 - http.server naming

            def log_message(self, format: str, *args: object) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture()
def authority() -> TokenAuthority:
    return TokenAuthority(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI)


@pytest.fixture()
def server(authority: TokenAuthority) -> Iterator[OAuthTestServer]:
    srv = OAuthTestServer(authority).start()
    yield srv
    if authority.stall_after_refresh is not None:
        authority.stall_after_refresh.set()  # let a held answer go before shutting down
    srv.stop()


@pytest.fixture()
def store(tmp_path: Path) -> TokenStore:
    return TokenStore(tmp_path / "secrets" / "amocrm_tokens.json")


@pytest.fixture()
def first_pair(server: OAuthTestServer, authority: TokenAuthority, store: TokenStore) -> TokenPair:
    return exchange_code(server.base_url, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
                         authority.issue_authorization_code(), store)


def make_auth(base_url: str, store: TokenStore, **kwargs: Any) -> AmoCrmOAuth2:
    return AmoCrmOAuth2(base_url, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, store,
                        **{"refresh_backoff_seconds": 0.01, **kwargs})


def get(url: str, auth: AmoCrmOAuth2) -> requests.Response:
    with requests.Session() as session:
        return session.get(url, auth=auth, timeout=10)


def expire_in_file(store: TokenStore, pair: TokenPair) -> TokenPair:
    """The saved access token is past its expiry: the next request refreshes before sending."""
    expired = TokenPair(pair.access_token, pair.refresh_token, time.time() - 1)
    store.save(expired)
    return expired


def refresh_grants(server: OAuthTestServer) -> list[int]:
    """The status of each refresh_token grant the token endpoint answered, in order."""
    return [status for grant, status in server.grants if grant == "refresh_token"]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def spawn(base_url: str, store: TokenStore, workdir: Path) -> subprocess.Popen[str]:
    args = {"base_url": base_url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "redirect_uri": REDIRECT_URI, "token_file": str(store.path), "ready_dir": str(workdir / "ready"),
            "go": str(workdir / "go")}
    (workdir / "ready").mkdir(exist_ok=True)
    package_root = Path(ingestion.amocrm.oauth.__file__).resolve().parents[1]  # the code under test, not a copy
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    # cwd elsewhere: `python -c` puts the cwd first on sys.path, which could shadow PYTHONPATH
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=workdir)


def interrupted_message(record: dict, store: TokenStore) -> str:
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(record["started_at"]))
    return (f"a token refresh started {started} by PID {record['pid']} was interrupted after it was sent; amoCRM "
            f"has most likely spent the refresh token and the new pair never reached {store.path}: {REAUTH}")


# 1. the token stays on its origin ---------------------------------------------------------------
def test_redirect_to_another_origin_gets_no_token_and_spends_no_refresh(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair
) -> None:
    with RecordingServer() as other:  # same host, another port: another origin
        server.redirects["/api/v4/moved"] = other.base_url + "/api/v4/account"
        on_disk = store.path.read_bytes()
        with requests.Session() as session:  # plain requests, redirects followed by default
            response = session.get(server.base_url + "/api/v4/moved", auth=make_auth(server.base_url, store),
                                   timeout=10)
        assert response.status_code == 401 and [r.status_code for r in response.history] == [302]
        assert other.headers == [None]  # one request, no Authorization: the 401 was not "fixed" there
        assert refresh_grants(server) == [] and authority.refreshes == 0
        assert store.path.read_bytes() == on_disk

        # a request aimed at the other origin directly gets nothing either, even with our token due
        expired = expire_in_file(store, first_pair).expires_at
        response = get(other.base_url + "/api/v4/account", make_auth(server.base_url, store))
        assert response.status_code == 401 and not response.history
        assert other.headers == [None, None]
        assert refresh_grants(server) == [] and store.load().expires_at == expired


def test_same_origin_redirect_still_refreshes_on_401(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair
) -> None:
    server.redirects["/api/v4/old"] = server.base_url + "/api/v4/account"
    authority.expire_access_tokens()
    response = get(server.base_url + "/api/v4/old", make_auth(server.base_url, store))
    assert response.status_code == 200 and response.json() == {"id": 1}
    assert server.statuses() == [302, 401, 200] and refresh_grants(server) == [200]
    assert response.request.headers["Authorization"] == f"Bearer {store.load().access_token}"


# 2 + 6. one refresh across processes -------------------------------------------------------------
@pytest.mark.parametrize("stale", ["expired-in-file", "revoked-on-server"])
def test_two_processes_refresh_once(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair,
    tmp_path: Path, stale: str
) -> None:
    if stale == "expired-in-file":  # both refresh before sending; a slow endpoint makes them overlap
        expire_in_file(store, first_pair)
        server.on_token_request = lambda form: time.sleep(0.3)
    else:  # both are refused with the old token before either refreshes
        authority.expire_access_tokens()
        server.barrier = threading.Barrier(2)
    children = [spawn(server.base_url, store, tmp_path) for _ in range(2)]
    wait_for(lambda: len(list((tmp_path / "ready").iterdir())) == 2, 30, "both children to be ready", interval=0.01)
    (tmp_path / "go").touch()
    outputs = [child.communicate(timeout=60) for child in children]

    fresh = store.load()
    assert fresh.access_token != first_pair.access_token and fresh.refresh_token != first_pair.refresh_token
    assert fresh.expires_at == pytest.approx(time.time() + 86400, abs=60)
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert json.loads(out) == {"status": 200, "bearer_sha256": sha256(fresh.access_token)}
        assert "re-authoris" not in out + err and "amokpi auth" not in out + err
    assert refresh_grants(server) == [200]  # exactly one refresh, and nothing refused
    assert authority.refreshes == 1 and authority.is_valid(fresh.access_token)
    assert not store.pending_path.exists()


# 3. a refused refresh looks at the file again ---------------------------------------------------
def test_refused_refresh_uses_a_pair_saved_meanwhile(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair
) -> None:
    expire_in_file(store, first_pair)
    rival: list[TokenPair] = []

    def rotate_first(form: dict) -> None:
        """Someone outside the lock (another host, an old client) rotates the pair just before us."""
        if not rival:
            status, body = authority.handle_token_request(dict(form))
            assert status == 200
            rival.append(TokenPair(body["access_token"], body["refresh_token"], time.time() + body["expires_in"]))
            store.save(rival[0])

    server.on_token_request = rotate_first
    response = get(server.base_url + "/api/v4/account", make_auth(server.base_url, store))
    assert response.status_code == 200
    assert response.request.headers["Authorization"] == f"Bearer {rival[0].access_token}"
    assert refresh_grants(server) == [400]  # ours was refused: the rival had spent the token
    assert store.load() == rival[0] and not store.pending_path.exists()


# 4. a failing token endpoint is retried, and is not a reason to re-authorise --------------------
def test_token_endpoint_500s_are_retried_with_backoff(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair
) -> None:
    expire_in_file(store, first_pair)
    authority.fail_next_token_requests = 2
    started = time.monotonic()
    response = get(server.base_url + "/api/v4/account",
                   make_auth(server.base_url, store, refresh_attempts=3, refresh_backoff_seconds=0.1))
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.1 + 0.2  # backoff doubles
    assert refresh_grants(server) == [500, 500, 200]
    assert store.load().access_token != first_pair.access_token and not store.pending_path.exists()


def test_token_endpoint_down_says_retry_later_not_reauthorise(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair
) -> None:
    expired = expire_in_file(store, first_pair)
    authority.fail_next_token_requests = 10
    with pytest.raises(OAuthError) as info:
        get(server.base_url + "/api/v4/account", make_auth(server.base_url, store, refresh_attempts=3))
    message = str(info.value)
    assert message == (f"refresh failed: 500 Internal error, try again later after 3 attempt(s); the token endpoint "
                       f"is failing on amoCRM's side and the stored token pair in {store.path} is unchanged: retry "
                       f"later (a new authorisation code is only needed if a later refresh is refused)")
    assert "re-authorise" not in message and "amokpi auth" not in message
    assert_no_secrets(info.value, first_pair.access_token, first_pair.refresh_token, CLIENT_SECRET)
    assert refresh_grants(server) == [500] * 3  # bounded
    assert store.load() == expired and not store.pending_path.exists()
    authority.fail_next_token_requests = 0  # amoCRM recovers: the unchanged pair still works
    assert get(server.base_url + "/api/v4/account", make_auth(server.base_url, store)).status_code == 200
    assert authority.refreshes == 1


# 5. a refresh interrupted after it was sent ----------------------------------------------------
def test_refresh_killed_in_flight_is_explained_to_the_next_run(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair, tmp_path: Path
) -> None:
    expired = expire_in_file(store, first_pair)
    authority.stall_after_refresh = threading.Event()  # amoCRM rotates, then the answer is held
    (tmp_path / "go").touch()
    child = spawn(server.base_url, store, tmp_path)
    wait_for(lambda: authority.refreshes == 1, 30, "the child's refresh to reach the token endpoint", interval=0.01)

    pending = store.pending_path.read_text()
    record = json.loads(pending)
    assert record == {"pid": child.pid, "started_at": pytest.approx(time.time(), abs=30),
                      "token_host": "127.0.0.1", "refresh_token_sha256": sha256(first_pair.refresh_token)[:12]}
    assert first_pair.refresh_token not in pending and first_pair.access_token not in pending
    os.kill(child.pid, signal.SIGKILL)  # mid-POST: the new pair never reaches the file
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    authority.stall_after_refresh.set()
    wait_for(lambda: len(refresh_grants(server)) == 1, 30, "the held answer to go out", interval=0.01)
    assert store.load() == expired

    # the next nightly run, in another process: the refresh is refused, and the error says why
    rerun = spawn(server.base_url, store, tmp_path)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 1, err
    assert json.loads(out) == {"error": interrupted_message(record, store)}

    # and in this process too (the record outlives the refusal: every rerun says the same)
    with pytest.raises(OAuthError) as info:
        get(server.base_url + "/api/v4/account", make_auth(server.base_url, store))
    assert str(info.value) == interrupted_message(record, store)
    assert_no_secrets(info.value, first_pair.access_token, first_pair.refresh_token, CLIENT_SECRET)
    assert refresh_grants(server) == [200, 400, 400]
    assert store.load() == expired

    # re-authorising, as advised, puts things right; the old record no longer matches and goes
    exchange_code(server.base_url, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, authority.issue_authorization_code(),
                  store)
    expire_in_file(store, store.load())
    assert get(server.base_url + "/api/v4/account", make_auth(server.base_url, store)).status_code == 200
    assert not store.pending_path.exists()


def test_refresh_killed_before_reaching_amocrm_carries_on(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair, tmp_path: Path
) -> None:
    expire_in_file(store, first_pair)
    with socket.socket() as blackhole:  # takes the connection and the request, never answers
        blackhole.bind(("127.0.0.1", 0))
        blackhole.listen()
        blackhole.settimeout(30)
        (tmp_path / "go").touch()
        child = spawn(f"http://127.0.0.1:{blackhole.getsockname()[1]}", store, tmp_path)
        connection, _ = blackhole.accept()
        with connection:
            received = b""
            while b"refresh_token" not in received:  # the POST is on the wire
                chunk = connection.recv(65536)
                assert chunk, "the child closed the connection"
                received += chunk
            os.kill(child.pid, signal.SIGKILL)
            child.communicate(timeout=30)
    record = json.loads(store.pending_path.read_text())
    assert record["pid"] == child.pid

    # amoCRM never saw that request, so the refresh token in the file still works
    response = get(server.base_url + "/api/v4/account", make_auth(server.base_url, store))
    assert response.status_code == 200
    assert refresh_grants(server) == [200]
    assert store.load().access_token != first_pair.access_token
    assert not store.pending_path.exists()  # resolved


def test_refresh_timed_out_after_rotating_then_refused_names_the_attempt(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair
) -> None:
    """A read timeout is the in-process version of the kill: the retry finds the token spent."""
    expired = expire_in_file(store, first_pair)
    authority.stall_after_refresh = threading.Event()
    with pytest.raises(OAuthError) as info:
        get(server.base_url + "/api/v4/account", make_auth(server.base_url, store, timeout_seconds=0.5))
    record = json.loads(store.pending_path.read_text())
    assert record["pid"] == os.getpid()
    assert str(info.value) == interrupted_message(record, store)
    assert store.load() == expired
    authority.stall_after_refresh.set()
    wait_for(lambda: len(refresh_grants(server)) == 2, 30, "the held answer to go out", interval=0.01)
    assert sorted(refresh_grants(server)) == [200, 400]  # rotated, then refused
