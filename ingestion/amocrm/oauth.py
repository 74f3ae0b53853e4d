"""amoCRM OAuth2, client side: a token file, the first code exchange, and a self-refreshing auth.

amoCRM access tokens live 24 h; refresh tokens live 3 months and work **once**. A refresh kills
the old refresh token, so the new pair is written to the token file (atomically, 0600) before it
is used for anything; losing it would leave the integration dead until someone re-authorises.
`AmoCrmOAuth2` is a `requests` auth, so it works in any session, including dlt's `RESTClient`:
it refreshes shortly before expiry, and on a 401 it refreshes once (per stale token) and re-sends
the request. What makes it safe to run unattended every night against a live account:

* The token stays on its origin: the Bearer is only attached to requests for the scheme, host and
  port of `base_url`, and a 401 from anywhere else (e.g. after a redirect to another host) is
  returned as is - no refresh is spent and nothing is re-sent there.
* One refresh at a time, across threads *and processes*: the refresh runs under a thread lock and
  an `flock` on `<token_file>.lock`; inside it the token file is re-read, and a pair another
  process already rotated is used instead of spending its (dead) predecessor. A refused refresh
  also re-reads the file before advising re-authorisation.
* A failing token endpoint is not a dead integration: 5xx, 429, timeouts and connection errors
  are retried with backoff, and the final error says the stored pair is unchanged - retry later.
* A refresh cut off mid-flight is diagnosed: `<token_file>.pending` (PID, start time, endpoint
  host, a short hash of the refresh token - never a token) is written before the POST and removed
  once the outcome is known. If a later refresh with the same token is refused, the error says
  that the interrupted refresh most likely spent it, instead of a bare "revoked".

Tokens, codes and the client secret never appear in error messages.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase
from urllib3.exceptions import ConnectTimeoutError  # also the base of NewConnectionError, NameResolutionError

from amokpi.files import fsync_directory
from ingestion.amocrm.urls import origin

TOKEN_PATH = "/oauth2/access_token"
TIMEOUT_SECONDS = 30
_REAUTH = "re-authorise with `amokpi auth --code <code>`"


class OAuthError(RuntimeError):
    """OAuth cannot go on without a human: no tokens, a refused code/refresh, an unreachable endpoint."""


class _EndpointFailure(OAuthError):
    """The token endpoint gave no pair. `status` is None when there was no answer at all; `maybe_spent`
    when the request may still have reached amoCRM (read timeout, dropped connection)."""

    def __init__(self, message: str, status: int | None, reason: str, maybe_spent: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason  # the failure without the advice, for callers that advise differently
        self.maybe_spent = maybe_spent

    @property
    def refused(self) -> bool:
        """A definite no (bad/used grant, wrong credentials); 429 is throttling, not a refusal."""
        return self.status is not None and 400 <= self.status < 500 and self.status != 429


@dataclass
class TokenPair:
    access_token: str = field(repr=False)  # repr=False: logging a pair must not leak it
    refresh_token: str = field(repr=False)
    expires_at: float  # unix seconds


class TokenStore:
    """The token pair in a JSON file the user names (`sources.amocrm.token_file`), with two siblings:
    `<file>.lock` (the inter-process refresh lock) and `<file>.pending` (a refresh in flight)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def pending_path(self) -> Path:
        return self.path.with_name(self.path.name + ".pending")

    def load(self) -> TokenPair | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        if not text.strip():
            return None
        try:
            data = json.loads(text)
            return TokenPair(str(data["access_token"]), str(data["refresh_token"]), float(data["expires_at"]))
        except (ValueError, KeyError, TypeError) as exc:
            # no `from exc`: the decoder's message can quote the file's content
            raise OAuthError(f"token file {self.path} is not a valid token pair ({type(exc).__name__}); "
                             f"{_REAUTH}") from None

    def save(self, pair: TokenPair) -> None:
        """Write-to-temp + fsync + os.replace: a crash leaves the old file or the new one, never half."""
        _write_json_atomically(self.path, {**asdict(pair), "saved_at": time.time()})

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive `flock` on the lock file. The kernel drops it when the holder dies (even by
        SIGKILL), so there are no stale locks; the file itself is never removed (that would race)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:  # before anything is spent: the same directory must take the new pair
            raise OAuthError(f"refresh not attempted: cannot open the lock file {self.lock_path} "
                             f"({exc.strerror or type(exc).__name__}); nothing was spent") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def read_pending(self) -> dict[str, Any] | None:
        """The record of a refresh whose outcome is unknown, if any (an unreadable one counts as none)."""
        try:
            data = json.loads(self.pending_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
            return None
        return data

    def write_pending(self, record: dict[str, Any]) -> None:
        _write_json_atomically(self.pending_path, record)

    def clear_pending(self) -> None:
        try:
            self.pending_path.unlink(missing_ok=True)
        except OSError:  # a leftover record only makes a later refusal's message more specific
            pass


def _write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)  # make the rename itself durable


def _mask(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _token_request(base_url: str, body: dict[str, str], what: str, hint: str, also_hide: tuple[str, ...] = (),
                   timeout: float = TIMEOUT_SECONDS) -> TokenPair:
    """POST a grant; any failure becomes an `_EndpointFailure` with every secret (body's and `also_hide`)
    masked. Redirects are not followed: a 307 would re-post the secrets to wherever it points."""
    url = base_url.rstrip("/") + TOKEN_PATH
    hidden = [v for k, v in body.items() if k in ("client_secret", "code", "refresh_token")] + list(also_hide)
    issued_at = time.time()  # measure expiry from before the request: errs on the early side
    try:
        response = requests.post(url, json=body, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        reason = _mask(f"token endpoint {url} unreachable ({type(exc).__name__}: {exc})", hidden)
        raise _EndpointFailure(f"{what} failed: {reason}", None, reason, maybe_spent=not _never_sent(exc)) from None
    if response.status_code != 200:
        try:
            problem = response.json()
            detail = problem.get("detail") or problem.get("title") or ""
        except (ValueError, AttributeError):
            detail = response.reason or ""
        reason = _mask(f"{response.status_code} {detail}", hidden)
        raise _EndpointFailure(f"{what} failed: {reason} — {hint}", response.status_code, reason)
    try:
        data = response.json()
        pair = TokenPair(str(data["access_token"]), str(data["refresh_token"]),
                         issued_at + float(data["expires_in"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise OAuthError(f"{what} failed: the token endpoint answered 200 without a token pair") from None
    return pair


def _never_sent(exc: requests.RequestException) -> bool:
    """No connection was made (refused, DNS, connect timeout), so the grant cannot have been spent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)  # urllib3's MaxRetryError
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, ConnectTimeoutError)


def _save_or_die(store: TokenStore, pair: TokenPair, what: str) -> None:
    try:
        store.save(pair)
    except OSError as exc:
        # the grant is spent: without the new pair on disk the next run cannot authenticate
        raise OAuthError(f"{what} succeeded but the new token pair could not be saved to {store.path} "
                         f"({exc.strerror or type(exc).__name__}); {_REAUTH}") from None


def exchange_code(base_url: str, client_id: str, client_secret: str, redirect_uri: str, code: str,
                  store: TokenStore) -> TokenPair:
    """First authorisation: trade the code from amoCRM for a token pair and save it."""
    body = {"client_id": client_id, "client_secret": client_secret, "grant_type": "authorization_code",
            "code": code, "redirect_uri": redirect_uri}
    pair = _token_request(base_url, body, "authorization",
                          "get a new code in the amoCRM integration settings (codes work once, for 20 minutes)")
    _save_or_die(store, pair, "authorization")
    return pair


def _bearer(header: str | bytes | None) -> str | None:
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    if header and header.startswith("Bearer "):
        return header[len("Bearer "):]
    return None


def _fingerprint(refresh_token: str) -> str:
    """Enough to tell which refresh token a pending record is about; says nothing about the token."""
    return hashlib.sha256(refresh_token.encode()).hexdigest()[:12]


def _utc(unix: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(unix))


class AmoCrmOAuth2(AuthBase):
    """`Authorization: Bearer` from the token store for `base_url`'s origin, refreshed before expiry and on 401."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, redirect_uri: str, store: TokenStore,
                 refresh_margin_seconds: int = 300, refresh_attempts: int = 3, refresh_backoff_seconds: float = 1.0,
                 timeout_seconds: float = TIMEOUT_SECONDS) -> None:
        self.base_url = base_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.store = store
        self.refresh_margin_seconds = refresh_margin_seconds
        self.refresh_attempts = max(1, refresh_attempts)
        self.refresh_backoff_seconds = refresh_backoff_seconds  # doubled after each failed attempt
        self.timeout_seconds = timeout_seconds
        self._origin = origin(base_url)
        self._pair: TokenPair | None = None
        self._lock = threading.RLock()  # one refresh at a time: a refresh token works once
        self._file_locked = 0  # depth of the RLock holding the flock: a nested flock would deadlock

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if not self._on_origin(request.url):
            return request  # the token is for amoCRM only, and nothing is spent for a foreign request
        pair = self._current()
        if self._expiring(pair):
            pair = self._renew(pair.access_token)
        request.headers["Authorization"] = f"Bearer {pair.access_token}"
        request.register_hook("response", self.handle_401)
        return request

    def handle_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """Response hook: on 401 get a fresh token (refreshing at most once per stale token) and re-send.
        The re-sent request goes straight to the adapter, so a second 401 is returned, not looped on.
        Only for our origin: `requests` copies this hook onto redirected requests but strips the Bearer
        when the host changes, so a foreign 401 says nothing about our token (and must not get it)."""
        if response.status_code != 401:
            return response
        if not (self._on_origin(response.url) and self._on_origin(response.request.url)):
            return response
        pair = self._renew(_bearer(response.request.headers.get("Authorization")))
        response.content  # noqa: B018 - drain so the connection can be reused
        response.close()
        retry = response.request.copy()
        retry.headers["Authorization"] = f"Bearer {pair.access_token}"
        retried = response.connection.send(retry, **kwargs)
        retried.history.append(response)
        retried.request = retry
        return retried

    def refresh(self) -> TokenPair:
        """Spend the refresh token (unless another process rotated the pair meanwhile: then that pair is
        returned); the new pair is saved to the store before it is returned."""
        return self._renew(self._current().access_token)

    # internals ------------------------------------------------------------------------------
    def _on_origin(self, url: str | None) -> bool:
        return self._origin is not None and origin(url) == self._origin

    def _expiring(self, pair: TokenPair) -> bool:
        return pair.expires_at - self.refresh_margin_seconds <= time.time()

    def _current(self) -> TokenPair:
        with self._lock:
            if self._pair is None:
                self._pair = self._load()
            return self._pair

    def _load(self) -> TokenPair:
        pair = self.store.load()
        if pair is None:
            raise OAuthError(f"no amoCRM OAuth tokens in {self.store.path}: run `amokpi auth --code <code>` first")
        return pair

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """The thread lock, then the file lock (once per thread: the RLock may be re-entered)."""
        with self._lock:
            if self._file_locked:
                yield
                return
            with self.store.locked():
                self._file_locked += 1
                try:
                    yield
                finally:
                    self._file_locked -= 1

    def _renew(self, stale_access_token: str | None) -> TokenPair:
        """A usable pair, replacing `stale_access_token`. Threads and processes that hit the same stale
        token queue on the locks; the first refreshes, the rest find the rotated pair in the file."""
        with self._exclusive():
            pair = self.store.load() or self._current()  # the file wins: another process may have rotated
            self._pair = pair
            if pair.access_token != stale_access_token and not self._expiring(pair):
                return pair
            return self._refresh_locked(pair)

    def _refresh_locked(self, pair: TokenPair) -> TokenPair:
        """Spend `pair.refresh_token`, retrying what may be transient. The pending record says a refresh
        of this token is in flight; it is only dropped once the outcome is known."""
        body = {"client_id": self.client_id, "client_secret": self._client_secret, "grant_type": "refresh_token",
                "refresh_token": pair.refresh_token, "redirect_uri": self.redirect_uri}
        fingerprint = _fingerprint(pair.refresh_token)
        unresolved = self.store.read_pending()  # an earlier refresh of this token that may have spent it
        if unresolved is not None and unresolved.get("refresh_token_sha256") != fingerprint:
            unresolved = None  # about a token the file no longer holds: moot
        failure: _EndpointFailure | None = None
        for attempt in range(self.refresh_attempts):
            if attempt:
                time.sleep(self.refresh_backoff_seconds * 2 ** (attempt - 1))
            record = unresolved or self._pending_record(fingerprint)
            if unresolved is None:
                try:
                    self.store.write_pending(record)
                except OSError as exc:
                    raise OAuthError(f"refresh not attempted: cannot write {self.store.pending_path} "
                                     f"({exc.strerror or type(exc).__name__}); nothing was spent") from None
            try:
                new = _token_request(self.base_url, body, "refresh", _REAUTH, also_hide=(pair.access_token,),
                                     timeout=self.timeout_seconds)
            except _EndpointFailure as exc:
                failure = exc
                if exc.maybe_spent:
                    unresolved = record  # no answer: it may have reached amoCRM and spent the token
                elif unresolved is None:
                    self.store.clear_pending()  # a definite answer (or none sent) that rotated nothing
                if exc.refused:
                    return self._after_refusal(pair, exc, unresolved)
                continue
            _save_or_die(self.store, new, "refresh")  # persist first: the old refresh token is already dead
            self.store.clear_pending()
            self._pair = new
            return new
        assert failure is not None
        raise OAuthError(self._failing_message(failure, unresolved)) from None

    def _pending_record(self, fingerprint: str) -> dict[str, Any]:
        return {"pid": os.getpid(), "started_at": time.time(), "token_host": urlsplit(self.base_url).hostname,
                "refresh_token_sha256": fingerprint}

    def _after_refusal(self, spent: TokenPair, refusal: _EndpointFailure,
                       unresolved: dict[str, Any] | None) -> TokenPair:
        """A refused refresh: use a pair someone else saved meanwhile, else explain what most likely
        happened (an interrupted refresh spent the token) or advise re-authorisation."""
        on_disk = self.store.load()
        if on_disk is not None and (on_disk.access_token, on_disk.refresh_token) != (
                spent.access_token, spent.refresh_token):
            self.store.clear_pending()  # whatever was in flight spent a token the file no longer holds
            self._pair = on_disk
            return on_disk
        if unresolved is not None and refusal.status not in (401, 403):  # not a client-credentials problem
            raise OAuthError(f"a token refresh started {_utc(float(unresolved.get('started_at') or 0))} by PID "
                             f"{unresolved['pid']} was interrupted after it was sent; amoCRM has most likely spent "
                             f"the refresh token and the new pair never reached {self.store.path}: {_REAUTH}"
                             ) from None
        raise refusal

    def _failing_message(self, failure: _EndpointFailure, unresolved: dict[str, Any] | None) -> str:
        message = (f"refresh failed: {failure.reason} after {self.refresh_attempts} attempt(s); the token endpoint "
                   f"is failing on amoCRM's side and the stored token pair in {self.store.path} is unchanged: "
                   f"retry later (a new authorisation code is only needed if a later refresh is refused)")
        if unresolved is not None:
            message += (f"; note that the attempt started {_utc(float(unresolved.get('started_at') or 0))} got no "
                        f"answer, so amoCRM may have spent the refresh token")
        return message
