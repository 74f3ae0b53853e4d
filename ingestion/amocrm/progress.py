"""Per-resource progress on the terminal (records, pages, records/s) and the run's tallies."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass
class ResourceTally:
    pages: int = 0
    records: int = 0
    quarantined: int = 0
    started: float = field(default_factory=time.monotonic)
    last_print: float = 0.0


class Progress:
    """Counts pages and records per resource; prints a line per resource at most twice a second."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True, interval: float = 0.5) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.interval = interval
        self.tallies: dict[str, ResourceTally] = {}
        self.incomplete: dict[str, str] = {}  # resource -> why it stopped early
        self.client: Any = None  # the run's AmoCrmClient, set by the source: requests sent, the limiter
        self._lock = threading.Lock()

    def page(self, resource: str, records: int, quarantined: int = 0) -> None:
        with self._lock:
            tally = self.tallies.setdefault(resource, ResourceTally())
            tally.pages += 1
            tally.records += records
            tally.quarantined += quarantined
            now = time.monotonic()
            if self.enabled and now - tally.last_print >= self.interval:
                tally.last_print = now
                self._print(resource, tally, now)

    def stopped_early(self, resource: str, reason: str) -> None:
        with self._lock:
            self.incomplete[resource] = reason
        if self.enabled:
            print(f"    ! {resource}: {reason}", file=self.stream, flush=True)

    def done(self, resource: str) -> None:
        with self._lock:
            tally = self.tallies.setdefault(resource, ResourceTally())
            if self.enabled:
                self._print(resource, tally, time.monotonic(), final=True)

    def _print(self, resource: str, tally: ResourceTally, now: float, final: bool = False) -> None:
        rate = tally.records / max(now - tally.started, 1e-6)
        extra = f", {tally.quarantined} quarantined" if tally.quarantined else ""
        mark = "done" if final else "..."
        print(f"    {resource:<14} {tally.pages:>5} pages {tally.records:>8} records {rate:>9,.0f} rec/s{extra} {mark}",
              file=self.stream, flush=True)

    @property
    def requests(self) -> int:
        return self.client.requests_sent if self.client is not None else 0

    def quiet(self) -> None:
        """Wait until amoCRM's windows of this run's requests have run out (at most a second), so
        the next run of the account, another process with a limiter of its own, starts from zero."""
        if self.client is not None:
            self.client.quiet()

    @property
    def quarantined(self) -> int:
        return sum(t.quarantined for t in self.tallies.values())
