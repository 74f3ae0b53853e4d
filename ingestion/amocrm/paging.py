"""amoCRM paging: a page of records, and the guard that bounds a resource's reading in a run."""

from __future__ import annotations

from dataclasses import dataclass

from ingestion.amocrm.errors import EndlessListing


@dataclass
class Page:
    number: int
    records: list[dict]
    has_next: bool
    url: str


class PagingGuard:
    """Bounds one resource's reading in a run: at most `max_pages` pages over all its listings, and
    no page served again within a listing (a `_links.next` pointing back, a page number ignored)."""

    def __init__(self, resource: str, max_pages: int) -> None:
        self.resource, self.max_pages = resource, max_pages
        self.pages = 0
        self.path = resource
        self._seen: set[int] = set()

    def new_listing(self, path: str) -> None:
        self.path = path
        self._seen.clear()

    def check(self, records: list) -> None:
        self.pages += 1
        if self.pages > self.max_pages:
            raise EndlessListing(f"{self.resource}: more than {self.max_pages} pages in one run from {self.path}; "
                                 "stopped (SOURCES__AMOCRM__MAX_PAGES raises the bound)")
        if not records:
            return
        # the interpreter's own 64-bit string hash: blake2b let go of the interpreter lock on every page,
        # and a reader waits to get it back while other resources' threads run
        fingerprint = hash(repr([r.get("id") if isinstance(r, dict) else r for r in records]))
        if fingerprint in self._seen:
            raise EndlessListing(f"{self.resource}: {self.path} served a page it had already served "
                                 f"(page {self.pages} of this run); stopped instead of looping")
        self._seen.add(fingerprint)
