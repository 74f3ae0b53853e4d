"""amoCRM OAuth2, client side: a token file, the first code exchange, and a self-refreshing auth.

amoCRM access tokens live 24 h; refresh tokens live 3 months and work **once**. A refresh kills
the old refresh token, so the new pair is written to the token file (atomically, 0600) before it
is used for anything; losing it would leave the integration dead until someone re-authorises.
`AmoCrmOAuth2` is a `requests` auth, so it works in any session, including dlt's `RESTClient`:
it refreshes shortly before expiry, and on a 401 it refreshes once (per stale token, across
threads) and re-sends the request. Tokens and the client secret never appear in error messages.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.auth import AuthBase

TOKEN_PATH = "/oauth2/access_token"
TIMEOUT_SECONDS = 30
_REAUTH = "re-authorise with `amokpi auth --code <code>`"


class OAuthError(RuntimeError):
    """OAuth cannot go on without a human: no tokens, a refused code/refresh, an unreachable endpoint."""


@dataclass
class TokenPair:
    access_token: str = field(repr=False)  # repr=False: logging a pair must not leak it
    refresh_token: str = field(repr=False)
    expires_at: float  # unix seconds


class TokenStore:
    """The token pair in a JSON file the user names (`sources.amocrm.token_file`)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")  # 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({**asdict(pair), "saved_at": time.time()}, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(self.path.parent)  # make the rename itself durable


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _mask(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _token_request(base_url: str, body: dict[str, str], what: str, hint: str, also_hide: tuple[str, ...] = ()
                   ) -> TokenPair:
    """POST a grant; any failure becomes an OAuthError with every secret (body's and `also_hide`) masked."""
    url = base_url.rstrip("/") + TOKEN_PATH
    hidden = [v for k, v in body.items() if k in ("client_secret", "code", "refresh_token")] + list(also_hide)
    issued_at = time.time()  # measure expiry from before the request: errs on the early side
    try:
        response = requests.post(url, json=body, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise OAuthError(_mask(f"{what} failed: token endpoint {url} unreachable "
                               f"({type(exc).__name__}: {exc})", hidden)) from None
    if response.status_code != 200:
        try:
            problem = response.json()
            detail = problem.get("detail") or problem.get("title") or ""
        except ValueError:
            detail = response.reason or ""
        raise OAuthError(_mask(f"{what} failed: {response.status_code} {detail} — {hint}", hidden))
    try:
        data = response.json()
        pair = TokenPair(str(data["access_token"]), str(data["refresh_token"]),
                         issued_at + float(data["expires_in"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise OAuthError(f"{what} failed: the token endpoint answered 200 without a token pair") from None
    return pair


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


class AmoCrmOAuth2(AuthBase):
    """`Authorization: Bearer` from the token store, refreshed before expiry and on 401."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, redirect_uri: str, store: TokenStore,
                 refresh_margin_seconds: int = 300) -> None:
        self.base_url = base_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.store = store
        self.refresh_margin_seconds = refresh_margin_seconds
        self._pair: TokenPair | None = None
        self._lock = threading.RLock()  # one refresh at a time: a refresh token works once

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        pair = self._current()
        if self._expiring(pair):
            pair = self._renew(pair.access_token)
        request.headers["Authorization"] = f"Bearer {pair.access_token}"
        request.register_hook("response", self.handle_401)
        return request

    def handle_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """Response hook: on 401 get a fresh token (refreshing at most once per stale token) and re-send.
        The re-sent request goes straight to the adapter, so a second 401 is returned, not looped on."""
        if response.status_code != 401:
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
        """Spend the refresh token; the new pair is saved to the store before it is returned."""
        with self._lock:
            return self._refresh_locked(self._current())

    # internals ------------------------------------------------------------------------------
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

    def _renew(self, stale_access_token: str | None) -> TokenPair:
        """A usable pair, replacing `stale_access_token`. Threads that hit the same stale token queue on
        the lock; the first refreshes, the rest find the rotated pair and reuse it."""
        with self._lock:
            pair = self.store.load() or self._current()  # the file wins: another process may have rotated
            self._pair = pair
            if pair.access_token != stale_access_token and not self._expiring(pair):
                return pair
            return self._refresh_locked(pair)

    def _refresh_locked(self, pair: TokenPair) -> TokenPair:
        body = {"client_id": self.client_id, "client_secret": self._client_secret, "grant_type": "refresh_token",
                "refresh_token": pair.refresh_token, "redirect_uri": self.redirect_uri}
        new = _token_request(self.base_url, body, "refresh", _REAUTH, also_hide=(pair.access_token,))
        _save_or_die(self.store, new, "refresh")  # persist first: the old refresh token is already dead
        self._pair = new
        return new
