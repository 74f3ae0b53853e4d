"""Fault switches for the demo amoCRM API, each reproducing something a live account does.

`Faults` is consulted by the demo server before every request (`before`) and may answer in its
place, exactly as amoCRM would: a bare 429 over the rate limit, an HTML 403 once an abuser is
blocked for a while, 5xx bursts, slow answers, broken JSON. Record-level faults (`corrupt_lead_ids`,
`move_leads_while_paging`, and the data-quality ones: `duplicate_lead_ids`, `negative_price_lead_ids`,
`orphan_status_lead_ids`, `missing_event_days`) are applied by the API when it serves pages; they
change only what is served, never the account itself.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

BLOCKED_HTML = (
    "<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body><h1>Доступ запрещён</h1>"
    "<p>Your IP or account has been blocked for exceeding the API request limit. Contact support.</p>"
    "</body></html>"
)


@dataclass
class FaultResponse:
    status: int
    body: bytes = b""
    content_type: str | None = None
    trickle_seconds: float = 0.0  # > 0: the body goes out one byte at a time, this far apart
    location: str | None = None  # a redirect's target


@dataclass
class Faults:
    """Switches; all off by default. Request numbers count every request the server receives, from 1."""

    rate_limit_per_second: float | None = None  # amoCRM: 7
    block_after_429s: int = 10  # that many 429s (within block_window_seconds) and the caller is blocked (HTML 403)
    block_window_seconds: float = 60.0  # 429s older than this are forgiven
    block_seconds: float = 900.0  # how long a block lasts; amoCRM lifts it after a while (or on request)
    server_errors: dict[int, int] = field(default_factory=dict)  # request number -> 5xx status
    slow_requests: dict[int, float] = field(default_factory=dict)  # request number -> seconds to stall
    broken_json_requests: set[int] = field(default_factory=set)  # answered 200 with truncated JSON
    # each listing of this path (path + `with`), from its Nth request on, answers truncated JSON
    broken_json_path: str | None = None
    broken_json_from: int = 1
    forced_429_requests: set[int] = field(default_factory=set)  # a stray 429 even under the limit
    corrupt_lead_ids: set[int] = field(default_factory=set)  # served with wrong types / a missing field
    move_leads_while_paging: int = 0  # on page 2+ of an ordered leads listing, edit this many seen leads
    # data-quality faults: well-formed records whose content breaks a rule the warehouse checks
    duplicate_lead_ids: set[int] = field(default_factory=set)  # served twice, the copy under another account id
    negative_price_lead_ids: set[int] = field(default_factory=set)  # served with price = -price
    orphan_status_lead_ids: set[int] = field(default_factory=set)  # served in a status no pipeline has
    missing_event_days: set[str] = field(default_factory=set)  # "YYYY-MM-DD" (account time): events vanish
    # envelope variants real responses show: list pages without `_page` (clients must page by `_links.next`)
    omit_page_number: bool = False
    failing_paths: set[str] = field(default_factory=set)  # every request to these paths answers 500
    # hostile or broken servers, for the source's bounds (not amoCRM behaviour): path -> how to misbehave
    #   "repeat_page": page 1 whatever is asked, `_links.next` pointing back at itself
    #   "trickle": headers at once, then the body one byte every `trickle_seconds` seconds
    #   "huge": a well-formed page padded to `huge_bytes` bytes
    #   "deep": a page whose records are nested `deep_levels` levels deep
    #   "redirect": 302 to `redirect_to` (another origin)
    hostile_paths: dict[str, str] = field(default_factory=dict)
    trickle_seconds: float = 2.0
    huge_bytes: int = 50 * 1024 * 1024
    deep_levels: int = 100_000
    redirect_to: str = ""

    requests: int = 0
    requests_by_path: dict[str, int] = field(default_factory=dict)
    rejected_429: int = 0
    arrivals: list[float] = field(default_factory=list)  # monotonic time each request arrived
    blocks: int = 0  # how many times the caller was blocked
    blocked_until: float = 0.0  # monotonic time the current block ends
    _window: deque = field(default_factory=deque)
    _recent_429s: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def before(self) -> tuple[int, FaultResponse | None, float]:
        """Count the request; return (request number, an answer that replaces the real one, stall seconds)."""
        with self._lock:
            self.requests += 1
            n = self.requests
            self.arrivals.append(time.monotonic())
            if self.blocked:
                return n, FaultResponse(403, BLOCKED_HTML.encode(), "text/html; charset=utf-8"), 0.0
            if self.blocked_until:  # the block has run out: start afresh
                self.blocked_until = 0.0
                self._recent_429s.clear()
                self._window.clear()
            if self.rate_limit_per_second:
                now = time.monotonic()
                while self._window and now - self._window[0] >= 1.0:
                    self._window.popleft()
                if len(self._window) >= self.rate_limit_per_second:
                    return n, self._too_many(), 0.0
                self._window.append(now)
            if n in self.forced_429_requests:
                return n, self._too_many(), 0.0
        if n in self.server_errors:
            status = self.server_errors[n]
            return n, FaultResponse(status, b"<html><body>Bad Gateway</body></html>", "text/html"), 0.0
        return n, None, self.slow_requests.get(n, 0.0)

    def most_in_one_second(self) -> int:
        """The most requests that arrived within any one second (a sliding window), as amoCRM counts."""
        times = sorted(self.arrivals)
        most, first = 0, 0
        for last, at in enumerate(times):
            while at - times[first] >= 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most

    def hostile(self, path: str) -> FaultResponse | None:
        """An answer no amoCRM gives, from a server that is broken or means harm."""
        mode = self.hostile_paths.get(path)
        key = path.rsplit("/", 1)[-1].encode()  # the records' key, as on a real page
        if mode == "trickle":
            return FaultResponse(200, b'{"_embedded": {"' + key + b'": []}, "_links": {}}', "application/hal+json",
                                 trickle_seconds=self.trickle_seconds)
        if mode == "huge":
            head, tail = b'{"_links": {}, "_embedded": {"' + key + b'": [{"id": 1, "name": "', b'"}]}}'
            return FaultResponse(200, head + b"x" * max(0, self.huge_bytes - len(head) - len(tail)) + tail,
                                 "application/hal+json")
        if mode == "deep":
            n = self.deep_levels
            return FaultResponse(200, b'{"_links": {}, "_embedded": {"' + key + b'": ' + b"[" * n + b"]" * n + b"}}",
                                 "application/hal+json")
        if mode == "redirect":
            return FaultResponse(302, b"", None, location=self.redirect_to + path)
        return None

    def fails(self, path: str) -> FaultResponse | None:
        """A path that keeps failing (an endpoint amoCRM answers 500 for, whatever the retries)."""
        if path in self.failing_paths:
            return FaultResponse(500, b"<html><body>Internal Server Error</body></html>", "text/html")
        return None

    @property
    def blocked(self) -> bool:
        return time.monotonic() < self.blocked_until

    def _too_many(self) -> FaultResponse:
        # amoCRM answers an overrun with a bare 429: no Retry-After, no JSON body; a storm of them
        # gets the caller blocked (HTML 403) for a while
        self.rejected_429 += 1
        now = time.monotonic()
        self._recent_429s.append(now)
        while self._recent_429s and now - self._recent_429s[0] > self.block_window_seconds:
            self._recent_429s.popleft()
        if len(self._recent_429s) >= self.block_after_429s:
            self.blocked_until = now + self.block_seconds
            self.blocks += 1
        return FaultResponse(429)

    def count_path(self, listing: str) -> int:
        with self._lock:
            self.requests_by_path[listing] = self.requests_by_path.get(listing, 0) + 1
            return self.requests_by_path[listing]

    def breaks_json(self, request_number: int, path: str, path_request_number: int) -> bool:
        if request_number in self.broken_json_requests:
            return True
        return path == self.broken_json_path and path_request_number >= self.broken_json_from


def corrupt_lead(lead: dict) -> dict:
    """A record the way a buggy integration leaves it: a price that is text, no updated_at."""
    broken = {k: v for k, v in lead.items() if k != "updated_at"}
    broken["price"] = "дорого"
    return broken


ORPHAN_STATUS_ID = 999_999_999  # a status id that exists in no pipeline


def distort_lead(lead: dict, faults: Faults) -> list[dict]:
    """The lead as a faulty API serves it: one record, or two for a duplicated id."""
    lead_id = lead["id"]
    if lead_id in faults.negative_price_lead_ids:
        lead = {**lead, "price": -abs(lead.get("price") or 1)}
    if lead_id in faults.orphan_status_lead_ids:
        lead = {**lead, "status_id": ORPHAN_STATUS_ID}
    if lead_id in faults.duplicate_lead_ids:
        # amoCRM ids are global; a copy under another account id survives the merge on (account_id, id)
        return [lead, {**lead, "account_id": (lead.get("account_id") or 0) + 1, "name": lead["name"] + " (copy)"}]
    return [lead]
