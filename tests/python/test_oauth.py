"""amoCRM OAuth2 through real HTTP: the client (`ingestion.amocrm.oauth`) against the demo authority
(`ingestion.demo.oauth`) served by a tiny loopback server of this test's own."""

from __future__ import annotations

import json
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from dlt.sources.helpers.rest_client import RESTClient

from ingestion.amocrm.oauth import AmoCrmOAuth2, OAuthError, TokenPair, TokenStore, exchange_code
from ingestion.demo.oauth import CODE_TTL_SECONDS, TokenAuthority

CLIENT_ID, CLIENT_SECRET, REDIRECT_URI = "demo-client", "demo-secret-5f2c9a", "https://example.com/oauth"


class OAuthTestServer:
    """POST /oauth2/access_token -> TokenAuthority; GET /api/v4/account -> 200 {"id": 1} or 401;
    GET of a path in `redirects` -> 302 to where it maps."""

    def __init__(self, authority: TokenAuthority) -> None:
        self.authority = authority
        self.log: list[tuple[str, str, int]] = []  # (method, path, status) in arrival order
        self.grants: list[tuple[str, int]] = []  # (grant_type, status) of each token request
        self.on_token_request: Callable[[dict], None] | None = None  # sees each token request's body first
        self.redirects: dict[str, str] = {}  # GET path -> Location of a 302
        self.on_valid_account: Callable[[str], None] | None = None  # sees the bearer of each accepted request
        self.barrier: threading.Barrier | None = None  # holds rejected requests until all parties arrived
        self.echo_secrets = False  # a careless server that quotes the request's secrets in its errors
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, status: int, body: dict) -> None:
                server.log.append((self.command, self.path, status))
                payload = json.dumps(body).encode()
                self.send_response(status)
                ctype = "application/problem+json" if status >= 400 else "application/json"
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client was killed meanwhile
                    self.close_connection = True

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/oauth2/access_token":
                    return self._reply(404, {"title": "Not Found", "status": 404})
                if "json" in (self.headers.get("Content-Type") or ""):
                    form: dict[str, Any] = json.loads(raw or b"{}")
                else:
                    form = parse_qs(raw.decode())
                if server.on_token_request is not None:
                    server.on_token_request(form)
                status, body = server.authority.handle_token_request(form)
                server.grants.append((str(form.get("grant_type")), status))
                if status != 200 and server.echo_secrets:
                    body["detail"] += f" (got {form.get('refresh_token')} / {form.get('client_secret')})"
                self._reply(status, body)

            def do_GET(self) -> None:  # noqa: N802
                if self.path in server.redirects:
                    server.log.append((self.command, self.path, 302))
                    self.send_response(302)
                    self.send_header("Location", server.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if self.path != "/api/v4/account":
                    return self._reply(404, {"title": "Not Found", "status": 404})
                header = self.headers.get("Authorization") or ""
                bearer = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
                if not server.authority.is_valid(bearer):
                    if server.barrier is not None:
                        try:
                            server.barrier.wait(timeout=5)
                        except threading.BrokenBarrierError:
                            pass
                    return self._reply(401, {"title": "Unauthorized", "type": "https://httpstatus.es/401",
                                             "status": 401, "detail": "Invalid or expired access token"})
                if server.on_valid_account is not None:
                    server.on_valid_account(bearer)
                self._reply(200, {"id": 1})

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler

    def statuses(self, method: str = "GET") -> list[int]:
        return [status for m, _, status in self.log if m == method]

    def start(self) -> OAuthTestServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture()
def authority() -> TokenAuthority:
    return TokenAuthority(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI)


@pytest.fixture()
def server(authority: TokenAuthority) -> Iterator[OAuthTestServer]:
    srv = OAuthTestServer(authority).start()
    yield srv
    srv.stop()


@pytest.fixture()
def store(tmp_path: Path) -> TokenStore:
    return TokenStore(tmp_path / "secrets" / "amocrm_tokens.json")


@pytest.fixture()
def first_pair(server: OAuthTestServer, authority: TokenAuthority, store: TokenStore) -> TokenPair:
    return exchange_code(server.base_url, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI,
                         authority.issue_authorization_code(), store)


def make_auth(server: OAuthTestServer, store: TokenStore) -> AmoCrmOAuth2:
    return AmoCrmOAuth2(server.base_url, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, store)


def get_account(server: OAuthTestServer, auth: AmoCrmOAuth2) -> requests.Response:
    with requests.Session() as session:
        return session.get(server.base_url + "/api/v4/account", auth=auth, timeout=10)


def assert_no_secrets(error: BaseException, *secrets: str) -> None:
    text = f"{error} {error!r} {error.__cause__!r} {error.__context__!r}"
    for secret in secrets:
        assert secret not in text


def test_code_exchange_saves_pair_with_0600(first_pair: TokenPair, store: TokenStore) -> None:
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    saved = json.loads(store.path.read_text())
    assert saved["access_token"] == first_pair.access_token
    assert saved["refresh_token"] == first_pair.refresh_token
    assert saved["expires_at"] == pytest.approx(time.time() + 86400, abs=60)
    assert store.load() == first_pair
    assert [p.name for p in store.path.parent.iterdir()] == [store.path.name]  # no temp file left behind
    assert first_pair.access_token not in repr(first_pair)  # a logged pair leaks nothing


def test_code_works_once(server: OAuthTestServer, authority: TokenAuthority, store: TokenStore) -> None:
    code = authority.issue_authorization_code()
    pair = exchange_code(server.base_url, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, code, store)
    with pytest.raises(OAuthError, match="400 Authorization code has been revoked") as info:
        exchange_code(server.base_url, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, code, store)
    assert_no_secrets(info.value, code, CLIENT_SECRET)
    assert store.load() == pair  # the failed attempt did not touch the saved pair


def test_expired_token_is_refreshed_on_401_and_saved_before_retry(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair
) -> None:
    auth = make_auth(server, store)
    seen_on_disk: list[dict] = []
    with requests.Session() as session:
        assert session.get(server.base_url + "/api/v4/account", auth=auth, timeout=10).status_code == 200
        authority.expire_access_tokens()  # 24 h pass mid-run
        # the retried request is only sent after the rotated pair is on disk
        server.on_valid_account = lambda bearer: seen_on_disk.append({**json.loads(store.path.read_text()),
                                                                      "bearer": bearer})
        response = session.get(server.base_url + "/api/v4/account", auth=auth, timeout=10)
    assert response.status_code == 200 and response.json() == {"id": 1}
    assert [r.status_code for r in response.history] == [401]
    assert server.statuses() == [200, 401, 200]
    assert authority.refreshes == 1
    [on_disk] = seen_on_disk
    assert on_disk["access_token"] == on_disk["bearer"]  # the token the retry used was already saved...
    assert on_disk["refresh_token"] != first_pair.refresh_token  # ...together with the new refresh token
    assert store.load().refresh_token == on_disk["refresh_token"]


def test_proactive_refresh_within_margin(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair
) -> None:
    store.save(TokenPair(first_pair.access_token, first_pair.refresh_token, time.time() + 60))  # < 300 s margin
    response = get_account(server, make_auth(server, store))
    assert response.status_code == 200 and not response.history
    assert server.statuses() == [200]  # refreshed before sending: no 401 round trip
    assert authority.refreshes == 1
    renewed = store.load()
    assert renewed.access_token != first_pair.access_token
    assert renewed.expires_at == pytest.approx(time.time() + 86400, abs=60)
    assert not authority.is_valid(first_pair.access_token)  # a refresh retires the previous access token


@pytest.mark.parametrize("echo_secrets", [False, True], ids=["plain", "server-echoes-secrets"])
def test_reused_refresh_token_fails_without_leaking_secrets(
    server: OAuthTestServer, store: TokenStore, first_pair: TokenPair, tmp_path: Path, echo_secrets: bool
) -> None:
    make_auth(server, store).refresh()  # spends first_pair.refresh_token
    stale = TokenStore(tmp_path / "stale_copy.json")  # e.g. a backup restored over the rotated file
    stale.save(first_pair)
    server.echo_secrets = echo_secrets
    with pytest.raises(OAuthError) as info:
        make_auth(server, stale).refresh()
    message = str(info.value)
    assert message.startswith("refresh failed: 400 Refresh token has been revoked")
    assert "amokpi auth --code" in message
    assert ("***" in message) is echo_secrets
    assert_no_secrets(info.value, first_pair.refresh_token, first_pair.access_token, CLIENT_SECRET)
    assert stale.load() == first_pair  # a refused refresh writes nothing


def test_two_threads_hitting_401_refresh_once(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair
) -> None:
    auth = make_auth(server, store)  # shared, as dlt shares one auth across its thread-local sessions
    assert get_account(server, auth).status_code == 200
    authority.expire_access_tokens()
    server.barrier = threading.Barrier(2)  # both stale requests are rejected before either refreshes
    results: list[int] = []

    def worker() -> None:
        results.append(get_account(server, auth).status_code)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == [200, 200]
    assert sorted(server.statuses()) == [200, 200, 200, 401, 401]
    assert authority.refreshes == 1


def test_rotation_is_persisted_for_the_next_run(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair
) -> None:
    authority.expire_access_tokens()
    assert get_account(server, make_auth(server, store)).status_code == 200
    assert authority.refreshes == 1
    next_run = make_auth(server, store)  # a new process reading the same token file
    assert get_account(server, next_run).status_code == 200
    assert authority.refreshes == 1  # the saved access token was used as is
    authority.expire_access_tokens()
    assert get_account(server, next_run).status_code == 200
    assert authority.refreshes == 2  # and the saved refresh token was the live one


def test_rejected_fresh_token_is_returned_not_looped(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair
) -> None:
    authority.expire_after_requests = 0  # no access token is ever accepted
    response = get_account(server, make_auth(server, store))
    assert response.status_code == 401
    assert server.statuses() == [401, 401]  # one refresh, one retry, then the caller sees the 401
    assert authority.refreshes == 1


def test_dlt_rest_client_across_token_expiry(
    server: OAuthTestServer, authority: TokenAuthority, store: TokenStore, first_pair: TokenPair
) -> None:
    client = RESTClient(base_url=server.base_url, auth=make_auth(server, store))
    checked: list[int] = []

    def check(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        checked.append(response.status_code)  # request hooks (as source.py uses) see the retried response
        response.raise_for_status()

    assert client.get("/api/v4/account", hooks={"response": [check]}).json() == {"id": 1}
    authority.expire_access_tokens()
    response = client.get("/api/v4/account", hooks={"response": [check]})
    assert response.status_code == 200 and response.json() == {"id": 1}
    assert checked == [200, 200]
    assert authority.refreshes == 1
    authority.expire_after_requests = 1  # every token now dies after one use: each request needs a rotation
    assert client.get("/api/v4/account").json() == {"id": 1}
    assert client.get("/api/v4/account").json() == {"id": 1}
    assert authority.refreshes == 3


@pytest.mark.parametrize("content", [None, ""], ids=["missing", "empty"])
def test_no_tokens_asks_to_authorise(server: OAuthTestServer, store: TokenStore, content: str | None) -> None:
    if content is not None:
        store.path.parent.mkdir(parents=True)
        store.path.write_text(content)
    with pytest.raises(OAuthError, match=r"run `amokpi auth --code <code>` first"):
        get_account(server, make_auth(server, store))


def test_unreachable_token_endpoint(store: TokenStore) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(OAuthError, match="unreachable") as info:
        exchange_code(dead, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, "code-1234", store)
    assert_no_secrets(info.value, "code-1234", CLIENT_SECRET)
    pair = TokenPair("access-1234", "refresh-1234", time.time() + 3600)
    store.save(pair)
    with pytest.raises(OAuthError, match="refresh failed: token endpoint .* unreachable") as info:
        AmoCrmOAuth2(dead, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, store, refresh_backoff_seconds=0.01).refresh()
    assert_no_secrets(info.value, "access-1234", "refresh-1234", CLIENT_SECRET)
    # an endpoint that is down is no reason to re-authorise: the pair was never spent
    assert "after 3 attempt(s)" in str(info.value) and "unchanged: retry later" in str(info.value)
    assert "re-authorise" not in str(info.value) and "amokpi auth" not in str(info.value)
    assert store.load() == pair and not store.pending_path.exists()  # never sent: nothing left pending


def test_token_authority_rules() -> None:
    now = [1_000_000.0]
    authority = TokenAuthority(client_secret="s3cret", access_ttl_seconds=100, clock=lambda: now[0])
    grant = {"client_id": "demo-client", "client_secret": "s3cret", "redirect_uri": "https://example.com/oauth"}
    assert authority.is_valid("demo-token") and not authority.is_valid("nope")

    wrong_secret = {**grant, "client_secret": "wrong"}
    status, body = authority.handle_token_request({**wrong_secret, "grant_type": "authorization_code",
                                                   "code": authority.issue_authorization_code()})
    assert status == 401 and body["detail"] == "Client authentication failed"

    code = authority.issue_authorization_code()
    now[0] += CODE_TTL_SECONDS
    status, body = authority.handle_token_request({**grant, "grant_type": "authorization_code", "code": code})
    assert status == 400 and body["detail"] == "Authorization code has expired"

    form = {k: [v] for k, v in grant.items()}  # a form body parsed with parse_qs
    status, pair = authority.handle_token_request({**form, "grant_type": ["authorization_code"],
                                                   "code": [authority.issue_authorization_code()]})
    assert status == 200 and pair["token_type"] == "Bearer" and pair["expires_in"] == 100

    authority.expire_after_requests = 2
    assert [authority.is_valid(pair["access_token"]) for _ in range(3)] == [True, True, False]
    authority.expire_after_requests = None
    assert authority.is_valid(pair["access_token"])
    now[0] += 100
    assert not authority.is_valid(pair["access_token"])  # the access token outlived its ttl

    refresh = {**grant, "grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
    status, renewed = authority.handle_token_request(refresh)
    assert status == 200 and authority.refreshes == 1 and authority.is_valid(renewed["access_token"])
    status, body = authority.handle_token_request(refresh)
    assert status == 400 and body["detail"] == "Refresh token has been revoked" and authority.refreshes == 1
