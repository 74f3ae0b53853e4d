"""HTTP access to amoCRM API v4: one throttled, bounded, retrying session and amoCRM's paging rules.

- Every request passes one shared limiter (amoCRM allows 7 requests/s and blocks abusers), below
  dlt's retry layer so retries are throttled too; each attempt has one deadline for the whole
  answer and a cap on its size (`ingestion.amocrm.throttle`).
- dlt's client retries 429, 5xx, time-outs and connection errors with exponential backoff; a
  200 whose body is not JSON is retried the same way. JSON nested deeper than any amoCRM answer
  is a malformed page, not a crash.
- Credentials stay with the configured origin: a redirect elsewhere is refused, not followed.
- 204 means "no (more) records"; 401/402/403/404 fail fast with a message saying what to fix.
- A listing ends on 204 or a page without `_links.next`, never on a short page (amoCRM serves
  custom fields 50 a page whatever `limit` asks). Every resource is bounded: at most `max_pages`
  pages per run, and a server that serves a page it already served is stopped.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from requests import ConnectionError as RequestsConnectionError
from requests import HTTPError, Response, Session
from requests.auth import AuthBase
from requests.exceptions import SSLError
from requests.utils import get_environ_proxies

from ingestion.amocrm.errors import AmoCrmAccessError, AmoCrmError, EndlessListing, MalformedPage
from ingestion.amocrm.paging import Page, PagingGuard
from ingestion.amocrm.throttle import RateLimiter, ThrottledAdapter
from ingestion.amocrm.urls import origin, path_of

__all__ = ["AmoCrmAccessError", "AmoCrmClient", "AmoCrmError", "EndlessListing", "MalformedPage", "Page", "PagingGuard"]

MAX_JSON_DEPTH = 32  # amoCRM's deepest answers (custom field values of embedded records) are ~10 deep


_ACCESS_HINTS = {
    401: "the access token is missing, wrong or expired; set SOURCES__AMOCRM__ACCESS_TOKEN (or re-run `amokpi auth`)",
    402: "the amoCRM account is not paid; amoCRM refuses API access until it is",
    403: "access denied: the token's user lacks rights, or amoCRM blocked the account/IP for too many requests",
    404: "no such endpoint: check SOURCES__AMOCRM__BASE_URL (https://<subdomain>.amocrm.ru)",
}


def _loads(content: bytes, depth: int = MAX_JSON_DEPTH) -> tuple[Any, bool]:
    """The page as the standard library's json.loads parses it, at orjson's speed (parsing and the depth walk
    were about an eighth of the ingest's CPU at 100k leads), and whether containers nest deeper than `depth`.
    orjson reads an integer past 64 bits as a float: a page holding a float that far from 0 is parsed again by
    json.loads, as is whatever orjson refuses (lone surrogates, nesting past its 1,024 levels, broken text),
    so an odd page parses, or fails, exactly as it did. Not requests' json(): it prefers simplejson, slower."""
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        body = json.loads(content)
        return body, _shape(body, depth) == _DEEP
    shape = _shape(body, depth)
    if shape == _WIDE:
        body = json.loads(content)
        shape = _shape(body, depth)
    return body, shape == _DEEP


def _json_or_none(response: Response) -> Any:
    """Parse once and remember: the retry predicate and the caller both need the body."""
    if not hasattr(response, "_amokpi_json"):
        body, error, retry = None, None, False
        try:
            body, deep = _loads(response.content) if response.content else (None, False)
            if deep:
                body, error = None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
        except RecursionError:  # the decoder gives up on absurd nesting: the page is malformed
            error = "JSON nested too deep to parse"
        except ValueError as exc:
            error, retry = str(exc), True  # cut-off or garbled: another try may get it whole
        response._amokpi_json = body  # type: ignore[attr-defined]
        response._amokpi_json_error = error  # type: ignore[attr-defined]
        response._amokpi_json_retry = retry  # type: ignore[attr-defined]
    return response._amokpi_json  # type: ignore[attr-defined]


_CONTAINERS = (dict, list)  # what json.loads builds (exact types: no subclass checks needed)
_DEEP, _WIDE = 1, 2
_WIDEST = 9.2e18  # orjson's float for an integer past 64 bits lies at least this far from 0


def _shape(value: Any, limit: int) -> int:
    """_DEEP when containers nest more than `limit` deep (the root container is depth 1: nesting dlt's normalizer
    could not serialize, refused here), else _WIDE when a float lies ±9.2e18 or further
    (or is NaN), else 0. One visit per container, recursion at most `limit` frames deep, and it returns as
    soon as a container is found with no room left."""
    if type(value) is float:
        return 0 if -_WIDEST < value < _WIDEST else _WIDE
    if type(value) not in _CONTAINERS:
        return 0
    return _DEEP if limit < 1 else _below(value, limit - 1)


def _below(node: dict | list, room: int) -> int:
    found = 0
    for child in node.values() if type(node) is dict else node:
        kind = type(child)
        if kind in _CONTAINERS:
            inner = _DEEP if room < 1 else _below(child, room - 1)
            if inner == _DEEP:
                return _DEEP
            found |= inner
        elif kind is float and not -_WIDEST < child < _WIDEST:
            found = _WIDE
    return found


def _broken_json(response: Response | None, exception: BaseException | None) -> bool:
    """dlt retry predicate: a 200 that does not parse is a transient fault worth another try."""
    if response is None or response.status_code != 200:
        return False
    _json_or_none(response)
    return bool(getattr(response, "_amokpi_json_retry", False))


def _check_response(response: Response, *args: Any, **kwargs: Any) -> None:
    """Response hook: access errors fail fast (no retry helps); 429/5xx raise into dlt's retry; a
    redirect to another origin is refused before `requests` could follow it."""
    if response.is_redirect:
        target = urljoin(response.url, response.headers.get("Location", ""))
        if origin(target) != origin(response.url):
            response.close()
            raise AmoCrmError(f"amoCRM answered {response.status_code} for {path_of(response.url)} with a redirect "
                              f"to {urlsplit(target).netloc or target!r}; not followed, so the token stays with "
                              f"{urlsplit(response.url).netloc} (check SOURCES__AMOCRM__BASE_URL)")
    hint = _ACCESS_HINTS.get(response.status_code)
    if hint:
        raise AmoCrmAccessError(f"amoCRM answered {response.status_code} for {path_of(response.url)}: {hint}")
    if response.status_code >= 400:
        raise HTTPError(f"amoCRM answered {response.status_code} for {path_of(response.url)}", response=response)


def _settle_environment(session: Session, base_url: str) -> None:
    """Read what `requests` would take from the environment (HTTP(S)_PROXY/NO_PROXY for the account's
    origin, REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE) once, instead of on every request: every request of the
    session goes to that one origin (redirects elsewhere are refused), so the answer cannot differ.
    No netrc either way: the session always carries the account's own auth."""
    session.proxies.update(get_environ_proxies(base_url, no_proxy=None))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle
    session.trust_env = False


def _refused_certificate(base_url: str, verify: object, exc: SSLError) -> str:
    """The TLS failure in a line: what was wrong with the certificate and which CA bundle judged it."""
    found = re.search(r"certificate verify failed: ([^(]+)", str(exc))
    reason = f"certificate verify failed: {found.group(1).strip()}" if found else "TLS handshake failed"
    bundle = verify if isinstance(verify, str) else "the CA bundle of certifi (no REQUESTS_CA_BUNDLE set)"
    return (f"{urlsplit(base_url).netloc} did not pass the TLS check ({reason}), judged by {bundle}: behind a "
            "company proxy, set REQUESTS_CA_BUNDLE to a bundle that holds its CA")


class AmoCrmClient:
    def __init__(self, base_url: str, auth: AuthBase, requests_per_second: float = 7.0,
                 request_timeout: float = 60.0, request_max_attempts: int = 5,
                 request_backoff_factor: float = 1.0, max_pages: int = 20_000,
                 request_deadline: float = 120.0, max_response_bytes: int = 32 * 1024 * 1024) -> None:
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
        session.max_redirects = 3  # same-origin only (see _check_response)
        _settle_environment(session, self.base_url)
        self.adapter = ThrottledAdapter(RateLimiter(requests_per_second), deadline_seconds=request_deadline,
                                        max_response_bytes=max_response_bytes, pool_maxsize=16)
        # a connection per resource reading at once (each reads ahead in its own thread: helpers.isolated)
        session.mount("http://", self.adapter)
        session.mount("https://", self.adapter)
        self.rest = RESTClient(base_url=self.base_url, auth=auth, session=session,
                               headers={"Accept": "application/hal+json"})

    @property
    def requests_sent(self) -> int:
        return self.adapter.requests_sent

    def quiet(self) -> None:
        """Wait until amoCRM's windows of this client's requests have run out (at most a second)."""
        self.adapter.limiter.quiet()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET one resource; None for 204 (nothing there). Raises AmoCrmError with advice."""
        try:
            response = self.rest.get(path, params=params, hooks={"response": [_check_response]})
        except SSLError as exc:
            raise AmoCrmError(_refused_certificate(self.base_url, self.rest.session.verify, exc)) from exc
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

    def guard(self, resource: str) -> PagingGuard:
        """One per resource and run: every listing the resource reads counts against it."""
        return PagingGuard(resource, self.max_pages)

    def pages(self, path: str, key: str, params: dict[str, Any], limit: int,
              first_page: int = 1, guard: PagingGuard | None = None) -> Iterator[Page]:
        """amoCRM page-number paging: stop on 204 or a page without `_links.next` (a short page
        is not the end: custom fields come 50 a page whatever `limit` says)."""
        guard = guard or self.guard(path)
        guard.new_listing(path)
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
