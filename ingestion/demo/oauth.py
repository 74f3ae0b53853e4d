"""The demo amoCRM OAuth2 authority: the `/oauth2/access_token` endpoint as pure logic.

It honours amoCRM's rules so the client is tested against the behaviour that bites in production:
authorization codes work once (and live 20 minutes), access tokens live `access_ttl_seconds`
(24 h), refresh tokens live 3 months and work **once** - a refresh revokes the refresh token it
used and the access token issued with it. Errors are `application/problem+json` bodies: 400 for a
bad, used or expired code/refresh token, 401 for wrong client credentials. The HTTP plumbing
lives elsewhere (the demo API server, the tests); everything here is guarded by one lock because
that server is threaded. Two test switches make the token endpoint misbehave the ways a client must
survive: `fail_next_token_requests` (a bad night: 500s) and `stall_after_refresh` (a refresh that
rotates the pair but whose answer never arrives).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

CODE_TTL_SECONDS = 20 * 60  # amoCRM authorization codes expire after 20 minutes
REFRESH_TTL_SECONDS = 90 * 86400  # refresh tokens live 3 months


@dataclass
class _AccessToken:
    expires_at: float
    revoked: bool = False
    acceptances: int = 0


@dataclass
class _RefreshToken:
    access_token: str  # the access token issued together with it, revoked when it is used
    expires_at: float


def _problem(status: int, detail: str, hint: str) -> tuple[int, dict]:
    title = {400: "Bad Request", 401: "Unauthorized"}.get(status, "Internal Server Error")
    return status, {"title": title, "type": f"https://httpstatus.es/{status}", "status": status,
                    "detail": detail, "hint": hint}


def _field(body: dict[str, Any], key: str) -> str:
    # form bodies parsed with parse_qs arrive as one-element lists; JSON bodies as plain values
    value = body.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return "" if value is None else str(value)


class TokenAuthority:
    """Issues and checks tokens for one demo integration (one client id/secret/redirect uri)."""

    def __init__(self, client_id: str = "demo-client", client_secret: str = "demo-secret",
                 redirect_uri: str = "https://example.com/oauth", access_ttl_seconds: int = 86400,
                 long_lived_tokens: Iterable[str] = ("demo-token",),
                 clock: Callable[[], float] = time.time) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.access_ttl_seconds = access_ttl_seconds
        self.long_lived_tokens = frozenset(long_lived_tokens)
        self.clock = clock
        self.expire_after_requests: int | None = None
        self.refreshes = 0
        # test switch: the next N token requests get a 500 before anything is checked or spent
        self.fail_next_token_requests = 0
        # test switch: a refresh rotates the pair, then its answer waits (up to 60 s) until the event is set,
        # so a client can be killed after amoCRM spent its refresh token but before the new pair arrived
        self.stall_after_refresh: threading.Event | None = None
        self._lock = threading.Lock()
        self._codes: dict[str, float] = {}  # code -> expires_at
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}

    def issue_authorization_code(self) -> str:
        """What the user copies from the amoCRM consent page / integration settings."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = self.clock() + CODE_TTL_SECONDS
        return code

    def handle_token_request(self, body: dict) -> tuple[int, dict]:
        """`POST /oauth2/access_token`: returns (HTTP status, JSON body)."""
        with self._lock:
            if self.fail_next_token_requests > 0:
                self.fail_next_token_requests -= 1
                return _problem(500, "Internal error, try again later", "Retry later")
        if _field(body, "client_id") != self.client_id or _field(body, "client_secret") != self.client_secret:
            return _problem(401, "Client authentication failed", "Check client_id and client_secret")
        if _field(body, "redirect_uri") != self.redirect_uri:
            return _problem(400, "redirect_uri does not match the integration", "Use the integration's redirect_uri")
        grant = _field(body, "grant_type")
        if grant == "refresh_token":
            status, reply = self._rotate(body)
            stall = self.stall_after_refresh
            if status == 200 and stall is not None:
                stall.wait(timeout=60)  # outside the lock: the rest of the authority keeps working
            return status, reply
        with self._lock:
            now = self.clock()
            if grant == "authorization_code":
                expires_at = self._codes.pop(_field(body, "code"), None)  # single use, even when expired
                if expires_at is None:
                    return _problem(400, "Authorization code has been revoked", "Get a new code in amoCRM")
                if now >= expires_at:
                    return _problem(400, "Authorization code has expired", "Get a new code in amoCRM")
                return 200, self._issue_pair_locked(now)
        return _problem(400, f"Unsupported grant_type {grant!r}", "Use authorization_code or refresh_token")

    def _rotate(self, body: dict) -> tuple[int, dict]:
        """The refresh_token grant: single use, retiring the whole previous pair."""
        with self._lock:
            now = self.clock()
            used = self._refresh.pop(_field(body, "refresh_token"), None)  # single use
            if used is None:
                return _problem(400, "Refresh token has been revoked", "Re-authorise the integration")
            if now >= used.expires_at:
                return _problem(400, "Refresh token has expired", "Re-authorise the integration")
            previous = self._access.get(used.access_token)
            if previous is not None:
                previous.revoked = True  # a refresh retires the whole previous pair
            self.refreshes += 1
            return 200, self._issue_pair_locked(now)

    def _issue_pair_locked(self, now: float) -> dict:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._access[access] = _AccessToken(expires_at=now + self.access_ttl_seconds)
        self._refresh[refresh] = _RefreshToken(access_token=access, expires_at=now + REFRESH_TTL_SECONDS)
        return {"token_type": "Bearer", "expires_in": self.access_ttl_seconds,
                "access_token": access, "refresh_token": refresh}

    def is_valid(self, access_token: str) -> bool:
        """Long-lived tokens always pass; an OAuth access token until it expires or is revoked.
        Each acceptance counts towards `expire_after_requests`."""
        if access_token in self.long_lived_tokens:
            return True
        with self._lock:
            token = self._access.get(access_token)
            if token is None or token.revoked or self.clock() >= token.expires_at:
                return False
            if self.expire_after_requests is not None and token.acceptances >= self.expire_after_requests:
                return False
            token.acceptances += 1
            return True

    def expire_access_tokens(self) -> None:
        """Test switch: every access token issued so far expires now (as if 24 h passed mid-run)."""
        with self._lock:
            for token in self._access.values():
                token.expires_at = float("-inf")
