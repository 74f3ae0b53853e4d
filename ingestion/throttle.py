"""Client-side request throttling.

amoCRM allows 7 requests per second per account and answers overruns with a bare 429; repeated
overruns get the account blocked (HTML 403). Retrying is not enough, so every request the source
sends passes one shared limiter, below dlt's retry layer so that retries are throttled too.
"""

from __future__ import annotations

import threading
import time

from requests.adapters import HTTPAdapter


class RateLimiter:
    """Spaces calls at least 1/rate seconds apart across all threads (rate <= 0: unlimited)."""

    def __init__(self, requests_per_second: float) -> None:
        self.interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)


class ThrottledAdapter(HTTPAdapter):
    """An HTTPAdapter that waits for the shared limiter before every attempt."""

    def __init__(self, limiter: RateLimiter, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.limiter = limiter
        self.requests_sent = 0

    def send(self, request, *args, **kwargs):  # type: ignore[override]
        self.limiter.wait()
        self.requests_sent += 1
        return super().send(request, *args, **kwargs)
