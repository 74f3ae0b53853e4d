"""The transport below every amoCRM request: a rate limiter that amoCRM cannot catch out, and
hard bounds on each answer.

amoCRM allows 7 requests per second per account and answers overruns with a bare 429; repeated
overruns get the account blocked (HTML 403). Retrying is not enough, so every request passes one
shared limiter, below dlt's retry layer so that retries are throttled too.

The limiter counts windows the way the server does. A request is booked from the moment it is
sent until its answer arrives, and only then is its one-second window started: the server saw it
somewhere in between, so starting the window at the answer is the earliest moment that is safe
whatever the network or the scheduler did. At most `limit` requests are ever inside a window, so
no one-second window on the server can hold more, under any load, while concurrent requests
keep the API busy up to the limit.

Every answer is bounded too: one deadline for the whole exchange (connect, headers, body; a
server trickling a byte every few seconds is cut off) and a cap on the body's size (checked while
it streams, after decompression), so a hostile or broken server cannot hang or flood a run.
"""

from __future__ import annotations

import heapq
import itertools
import math
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from requests import Response
from requests.adapters import HTTPAdapter
from requests.exceptions import ReadTimeout, RequestException
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ingestion.amocrm.urls import path_of


@dataclass
class _Slot:
    released_at: float = math.inf  # until the answer arrives the request may be anywhere in flight


class RateLimiter:
    """At most `limit` requests in any `window` seconds, as seen by the server (rate <= 0: unlimited).

    `requests_per_second` 7 means 7 in any 1 s; 6.5 means 6 in any 0.92 s. A request's window
    starts when its answer (or its failure) arrives; see the module docstring for why."""

    def __init__(self, requests_per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = max(1, math.floor(requests_per_second)) if requests_per_second > 0 else 0
        self.window = self.limit / requests_per_second if self.limit else 0.0
        self._clock = clock
        self._slots: list[_Slot] = []
        self._changed = threading.Condition()

    def acquire(self) -> _Slot | None:
        """Wait until another request may go; the caller sends it, then calls `release`."""
        if not self.limit:
            return None
        with self._changed:
            while True:
                now = self._clock()
                self._slots = [s for s in self._slots if s.released_at > now]
                if len(self._slots) < self.limit:
                    slot = _Slot()
                    self._slots.append(slot)
                    return slot
                soonest = min(s.released_at for s in self._slots)
                self._changed.wait(None if soonest == math.inf else soonest - now)

    def quiet(self) -> None:
        """Wait until every window has run out, so whoever uses the account next starts from zero
        (the next run is another process with a limiter of its own)."""
        with self._changed:
            while True:
                now = self._clock()
                latest = max((s.released_at for s in self._slots), default=now)
                if latest <= now:
                    return
                self._changed.wait(None if latest == math.inf else latest - now)

    def release(self, slot: _Slot | None) -> None:
        """The answer arrived: the request's window runs from now."""
        if slot is None:
            return
        with self._changed:
            slot.released_at = self._clock() + self.window
            self._changed.notify_all()


class ResponseTooLarge(RequestException):
    """An answer larger than the cap: never read whole into memory (not retried: it would be again)."""


class DeadlineExceeded(ReadTimeout):
    """No complete answer within the request's deadline (a Timeout, so dlt retries it, bounded)."""


class _Exchange(threading.local):
    """The connection the current thread's request is using, so its deadline can cut it off."""

    watchdog: _Watchdog | None = None


_current = _Exchange()


class _Watchdog:
    """One request's deadline: past it, the request's socket is shut so its blocked read returns."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self.done = False
        self.connection: HTTPConnection | None = None
        self.seconds = seconds
        self.deadline = 0.0

    def __enter__(self) -> _Watchdog:
        _current.watchdog = self
        self.deadline = time.monotonic() + self.seconds
        _WATCHER.watch(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.done = True  # the watcher drops it when its deadline comes up
        self.connection = None
        _current.watchdog = None

    def fire(self) -> None:
        self.fired = True
        sock = getattr(self.connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once
            except OSError:
                pass


class _Watcher:
    """One thread for every request's deadline (a timer thread per request cost a thread start each,
    waiting for the interpreter lock on a busy ingest): deadlines in a heap, the earliest waited for."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, _Watchdog]] = []
        self._order = itertools.count()  # ties never compare watchdogs
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, watchdog: _Watchdog) -> None:
        with self._changed:
            earliest = self._due[0][0] if self._due else math.inf
            heapq.heappush(self._due, (watchdog.deadline, next(self._order), watchdog))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="amocrm-deadlines", daemon=True)
                self._thread.start()
            elif watchdog.deadline < earliest:
                self._changed.notify()

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                while self._due and (self._due[0][2].done or self._due[0][0] <= now):
                    _, _, watchdog = heapq.heappop(self._due)
                    if not watchdog.done:
                        watchdog.fire()
                if self._due:
                    self._changed.wait(self._due[0][0] - now)
                else:
                    self._changed.wait(60.0)
                    if not self._due:
                        self._thread = None
                        return  # idle: a later request starts it again


_WATCHER = _Watcher()


class _Watched:
    """Mixed into urllib3's connections: each request tells the thread's watchdog its socket."""

    def request(self, *args: object, **kwargs: object) -> None:
        if _current.watchdog is not None:
            _current.watchdog.connection = self  # type: ignore[assignment]
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOL_KEYS_KEPT = 16


class ThrottledAdapter(HTTPAdapter):
    """An HTTPAdapter that waits for the shared limiter before every attempt, gives each attempt
    `deadline_seconds` in all, and refuses bodies over `max_response_bytes`."""

    def __init__(self, limiter: RateLimiter, deadline_seconds: float = 120.0,
                 max_response_bytes: int = 32 * 1024 * 1024, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.limiter = limiter
        self.deadline_seconds = deadline_seconds
        self.max_response_bytes = max_response_bytes
        self.requests_sent = 0
        self._count = threading.Lock()
        self._pool_keys: dict[tuple, tuple[dict, dict]] = {}
        self._verified_pools: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    # requests looks at the CA bundle's path (os.stat) two or three times for every request (the pool's key, then
    # the pool's certificate settings), ~6 % of an unthrottled ingest, for answers that cannot change within a
    # run: both are kept, per origin and bundle, and per pool

    def build_connection_pool_key_attributes(self, request, verify, cert=None):  # type: ignore[override]
        parts = urlsplit(request.url)
        key = (parts.scheme.lower(), parts.hostname, parts.port, verify, cert)
        found = self._pool_keys.get(key)
        if found is None:
            if len(self._pool_keys) >= _POOL_KEYS_KEPT:  # one origin a run; bounded whatever happens
                self._pool_keys.clear()
            found = self._pool_keys[key] = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params, pool_kwargs = found
        return dict(host_params), dict(pool_kwargs)

    def cert_verify(self, conn, url, verify, cert):  # type: ignore[override]
        key = (url.lower().startswith("https"), verify, cert)
        if self._verified_pools.get(conn) != key:  # a pool set up once for each setting it is used with
            super().cert_verify(conn, url, verify, cert)
            self._verified_pools[conn] = key

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):  # type: ignore[override]
        slot = self.limiter.acquire()
        with self._count:
            self.requests_sent += 1
        try:
            with _Watchdog(self.deadline_seconds) as watchdog:
                try:
                    response = super().send(request, stream=True, timeout=timeout, verify=verify, cert=cert,
                                            proxies=proxies)
                    self.limiter.release(slot)
                    slot = None
                    if not stream:
                        self._read_body(response)
                except Exception as exc:
                    if watchdog.fired:
                        raise DeadlineExceeded(f"no complete answer from {path_of(request.url)} within "
                                               f"{self.deadline_seconds:g} s", request=request) from exc
                    raise
            return response
        finally:
            self.limiter.release(slot)

    def _read_body(self, response: Response) -> None:
        """Stream the body in, counting decoded bytes, instead of letting requests read it unbounded."""
        cap = self.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            response.close()
            raise ResponseTooLarge(f"{path_of(response.url)} answered {int(declared):,} bytes, over the "
                                   f"{cap:,}-byte cap (SOURCES__AMOCRM__MAX_RESPONSE_BYTES)")
        chunks, size = [], 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > cap:
                response.close()
                raise ResponseTooLarge(f"{path_of(response.url)} answered over {cap:,} bytes; stopped reading "
                                       "(SOURCES__AMOCRM__MAX_RESPONSE_BYTES)")
            chunks.append(chunk)
        response._content = b"".join(chunks)
