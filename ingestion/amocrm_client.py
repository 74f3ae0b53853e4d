"""HTTP access to amoCRM API v4: one throttled, retrying session and amoCRM's paging rules.

- Every request passes one shared limiter (amoCRM allows 7 requests/s and blocks abusers), below
  dlt's retry layer so retries are throttled too.
- dlt's client retries 429, 5xx, time-outs and connection errors with exponential backoff; a
  200 whose body is not JSON is retried the same way.
- 204 means "no (more) records"; 401/402/403/404 fail fast with a message saying what to fix.
- A listing ends on 204 or a page without `_links.next`, never on a short page (amoCRM serves
  custom fields 50 a page whatever `limit` asks). Every listing is bounded: at most `max_pages`
  pages, and a server that serves the same page again is stopped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from requests import ConnectionError as RequestsConnectionError
from requests import HTTPError, Response
from requests.auth import AuthBase

from ingestion.throttle import RateLimiter, ThrottledAdapter


class AmoCrmError(RuntimeError):
    """A failure the user can act on; the message says what to do."""


class AmoCrmAccessError(AmoCrmError):
    """The account refused us: bad or expired token (401), unpaid account (402), no access (403)."""


class EndlessListing(AmoCrmError):
    """A listing that does not end: the same page again, or more pages than any account holds."""


class MalformedPage(AmoCrmError):
    """A page whose body is not the JSON amoCRM promises, even after retries."""

    def __init__(self, url: str, body: str, reason: str) -> None:
        super().__init__(f"malformed page from {url}: {reason}")
        self.url, self.body, self.reason = url, body, reason


_ACCESS_HINTS = {
    401: "the access token is missing, wrong or expired; set SOURCES__AMOCRM__ACCESS_TOKEN (or re-run `amokpi auth`)",
    402: "the amoCRM account is not paid; amoCRM refuses API access until it is",
    403: "access denied: the token's user lacks rights, or amoCRM blocked the account/IP for too many requests",
    404: "no such endpoint: check SOURCES__AMOCRM__BASE_URL (https://<subdomain>.amocrm.ru)",
}


def _json_or_none(response: Response) -> Any:
    """Parse once and remember: the retry predicate and the caller both need the body."""
    if not hasattr(response, "_amokpi_json"):
        try:
            response._amokpi_json = response.json() if response.content else None  # type: ignore[attr-defined]
            response._amokpi_json_error = None  # type: ignore[attr-defined]
        except ValueError as exc:
            response._amokpi_json = None  # type: ignore[attr-defined]
            response._amokpi_json_error = str(exc)  # type: ignore[attr-defined]
    return response._amokpi_json  # type: ignore[attr-defined]


def _broken_json(response: Response | None, exception: BaseException | None) -> bool:
    """dlt retry predicate: a 200 that does not parse is a transient fault worth another try."""
    if response is None or response.status_code != 200:
        return False
    _json_or_none(response)
    return getattr(response, "_amokpi_json_error", None) is not None


def _check_response(response: Response, *args: Any, **kwargs: Any) -> None:
    """Response hook: access errors fail fast (no retry helps); 429/5xx raise into dlt's retry."""
    hint = _ACCESS_HINTS.get(response.status_code)
    if hint:
        raise AmoCrmAccessError(f"amoCRM answered {response.status_code} for {_path(response.url)}: {hint}")
    if response.status_code >= 400:
        raise HTTPError(f"amoCRM answered {response.status_code} for {_path(response.url)}", response=response)


def _path(url: str | None) -> str:
    return (url or "").split("?", 1)[0]


@dataclass
class Page:
    number: int
    records: list[dict]
    has_next: bool
    url: str


class AmoCrmClient:
    def __init__(self, base_url: str, auth: AuthBase, requests_per_second: float = 7.0,
                 request_timeout: float = 60.0, request_max_attempts: int = 5,
                 request_backoff_factor: float = 1.0, max_pages: int = 20_000) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_pages = max_pages
        session = Client(
            raise_for_status=False,
            request_timeout=request_timeout,
            request_max_attempts=request_max_attempts,
            request_backoff_factor=request_backoff_factor,
            request_max_retry_delay=30,
            retry_condition=_broken_json,
        ).session
        self.adapter = ThrottledAdapter(RateLimiter(requests_per_second), pool_maxsize=8)
        session.mount("http://", self.adapter)
        session.mount("https://", self.adapter)
        self.rest = RESTClient(base_url=self.base_url, auth=auth, session=session,
                               headers={"Accept": "application/hal+json"})

    @property
    def requests_sent(self) -> int:
        return self.adapter.requests_sent

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET one resource; None for 204 (nothing there). Raises AmoCrmError with advice."""
        try:
            response = self.rest.get(path, params=params, hooks={"response": [_check_response]})
        except RequestsConnectionError as exc:
            raise AmoCrmError(f"cannot reach {self.base_url}: check SOURCES__AMOCRM__BASE_URL "
                              f"(wrong subdomain? https://<subdomain>.amocrm.ru) — {type(exc).__name__}") from exc
        if response.status_code == 204:
            return None
        body = _json_or_none(response)
        error = getattr(response, "_amokpi_json_error", None)
        if error is not None or not isinstance(body, dict):
            raise MalformedPage(response.url, response.text[:20_000], error or "not a JSON object")
        return body

    def pages(self, path: str, key: str, params: dict[str, Any], limit: int,
              first_page: int = 1) -> Iterator[Page]:
        """amoCRM page-number paging: stop on 204 or a page without `_links.next` (a short page
        is not the end: custom fields come 50 a page whatever `limit` says)."""
        guard = PagingGuard(path, self.max_pages)
        number = first_page
        while True:
            body = self.get(path, {**params, "page": number, "limit": limit})
            if body is None:
                return
            records = (body.get("_embedded") or {}).get(key) or []
            guard.check(records)
            has_next = bool((body.get("_links") or {}).get("next")) and bool(records)
            yield Page(number, records, has_next, path)
            if not has_next:
                return
            number += 1


class PagingGuard:
    """Bounds one listing: at most `max_pages` pages, and never the same page twice in a row."""

    def __init__(self, path: str, max_pages: int) -> None:
        self.path, self.max_pages = path, max_pages
        self.pages = 0
        self._last: tuple | None = None

    def check(self, records: list) -> None:
        self.pages += 1
        if self.pages > self.max_pages:
            raise EndlessListing(f"{self.path} served more than {self.max_pages} pages; stopped "
                                 "(SOURCES__AMOCRM__MAX_PAGES raises the bound)")
        ids = tuple(r.get("id") if isinstance(r, dict) else repr(r) for r in records)
        if ids and ids == self._last:
            raise EndlessListing(f"{self.path} served the same page twice; stopped instead of looping")
        self._last = ids
