"""How the resources read amoCRM: one `AccountReader` per run holds the client, the account and
the run's tally, and knows amoCRM's listings (whole, keyset by a cursor, tasks, events in windows).

Records that break their entity's contract go to `quarantine`. A resource that fails (a page that
is not JSON even after retries, a listing that never ends, an answer over a bound, an error amoCRM
keeps answering) stops only itself: what it read loads, the others go on, and the run reports
what is missing for the next run to fetch.
"""

from __future__ import annotations

import pickle
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import dlt
from requests import RequestException

from amokpi.settings import target
from ingestion.amocrm.arrow_rows import ARROW_TABLES, Batches
from ingestion.amocrm.client import AmoCrmClient
from ingestion.amocrm.errors import AmoCrmAccessError, AmoCrmError, MalformedPage
from ingestion.amocrm.paging import Page, PagingGuard
from ingestion.amocrm.prefetch import prefetched
from ingestion.amocrm.progress import Progress
from ingestion.amocrm.raw_schema import RAW_COLUMNS
from ingestion.amocrm.records import problems, quarantine_row
from ingestion.amocrm.settings import (
    EVENT_TYPES,
    EVENT_WINDOW_MAX_PAGES,
    EVENT_WINDOW_MAX_SECONDS,
    EVENT_WINDOW_TARGET,
    EVENTS_PAGE_LIMIT,
    FAR_FUTURE,
    PAGE_LIMIT,
)
from ingestion.amocrm.urls import path_of

Tag = Callable[[dict], None]


def columns(table: str, cursor: str | None = None) -> dict[str, dict[str, Any]]:
    """dlt column hints from the raw contract; a fresh dict per call (dlt writes names into them)."""
    hints: dict[str, dict[str, Any]] = {
        name: {"data_type": dtype, "nullable": True} for name, dtype in RAW_COLUMNS[table].items()
    }
    if cursor:  # a record seen twice in one run (edited while we paged) keeps its newest version
        hints[cursor]["dedup_sort"] = "desc"
    return hints


QUARANTINE_HINTS = dlt.mark.make_hints(table_name="quarantine", write_disposition="merge",
                                       primary_key="payload_hash", columns=columns("quarantine"))


def trimmed(record: dict) -> None:
    """amoCRM fills only id, updated_at, updated_by and is_deleted of a deleted lead (the other keys
    come null): keep just them."""
    for key in [k for k in record if k not in RAW_COLUMNS["deleted_leads"]]:
        del record[key]


def card_tag(card: str) -> Tag:
    def tag(record: dict) -> None:
        record["entity_type"] = card  # which card entity_id is: the path said so, the record does not
    return tag


class AccountReader:
    """One run's reading of one account."""

    def __init__(self, client: AmoCrmClient, account: dict, tally: Progress, since: int | None,
                 lookback_seconds: int, event_window_seconds: int) -> None:
        self.client, self.account, self.tally = client, account, tally
        self.account_id = int(account["id"])
        self.since, self.lookback_seconds = since, lookback_seconds
        self.event_window_seconds = event_window_seconds

    # rows ----------------------------------------------------------------------------------------
    def with_account(self, records: list[dict]) -> list[dict]:
        """Every raw row carries the account id, so several accounts can share one warehouse."""
        for record in records:
            if record.get("account_id") is None:
                record["account_id"] = self.account_id
        return records

    def incremental(self, cursor_field: str) -> Any:
        if self.since is not None:  # a backfill: reads from `since`, leaves the stored cursor alone
            return dlt.sources.incremental(cursor_field, initial_value=self.since, end_value=FAR_FUTURE,
                                           on_cursor_value_missing="include")
        return dlt.sources.incremental(cursor_field, initial_value=0, lag=self.lookback_seconds or None,
                                       on_cursor_value_missing="include")

    def isolated(self, name: str, rows: Callable[[], Iterator[Any]], table: str | None = None) -> Iterator[Any]:
        """Run one resource; if it fails, stop just it: what it yielded loads, its cursor stays at
        what was read, the other resources go on, and the run reports it as incomplete. Access
        errors (401, 402, 403) concern the whole account and stop the run. The resource is read a
        couple of pages ahead in a thread of its own (`prefetch`), so fetching overlaps dlt's writing.
        A large `table`'s records go to dlt as Arrow tables of many pages (`arrow_rows`); what was
        gathered is handed on before anything that stops the resource."""
        # Arrow where the runner loads parquet (DuckDB); PostgreSQL keeps dlt's own path
        items = prefetched(rows(), name)
        if table in ARROW_TABLES and target() == "duckdb":
            items = Batches(table).over(items, (AmoCrmError, RequestException))
        try:
            yield from items
        except AmoCrmAccessError:
            raise
        except (AmoCrmError, RequestException) as error:
            # one quarantine row says what stopped the resource (keyed by content: a re-run that
            # meets the same problem does not add it twice)
            where = (getattr(error, "url", None) or getattr(getattr(error, "request", None), "url", None)
                     or self.client.base_url)
            problem = f"{type(error).__name__}: {error}"
            yield dlt.mark.with_hints([quarantine_row(name, {"resource": name, "stopped": problem}, problem,
                                                      path_of(str(where)), self.account_id)],
                                      QUARANTINE_HINTS, create_table_variant=True)
            self.tally.stopped_early(name, f"{error}; the next run fetches the rest")

    def checked(self, entity: str, page: Page, tally_as: str | None = None) -> Iterator[Any]:
        yield from self.handed_on(entity, *self.split(entity, page), tally_as)

    def split(self, entity: str, page: Page) -> tuple[list[dict], list[dict]]:
        """The page's good records and the quarantine rows of the others: each record checked once."""
        good, bad = [], []
        for record in page.records:
            found = problems(entity, record)
            if found:
                bad.append(quarantine_row(entity, record, "; ".join(found), page.url, self.account_id))
            else:
                good.append(record)
        return good, bad

    def handed_on(self, entity: str, good: list[dict], bad: list[dict], tally_as: str | None = None) -> Iterator[Any]:
        self.tally.page(tally_as or entity, len(good), len(bad))
        yield from self.items(good, bad)

    def items(self, good: list[dict], bad: list[dict]) -> Iterator[Any]:
        """What dlt gets of a checked page: its good records, then its quarantine rows."""
        if good:
            yield self.with_account(good)
        if bad:
            yield dlt.mark.with_hints(bad, QUARANTINE_HINTS, create_table_variant=True)

    def broken_page(self, entity: str, error: MalformedPage, name: str | None = None) -> Any:
        self.tally.page(name or entity, 0, 1)
        self.tally.stopped_early(name or entity, f"{error}; the rest is fetched on the next run")
        row = quarantine_row(entity, error.body, f"malformed page: {error.reason}", error.url, self.account_id)
        return dlt.mark.with_hints([row], QUARANTINE_HINTS, create_table_variant=True)

    # listings ------------------------------------------------------------------------------------
    def whole(self, entity: str, path: str, key: str, params: dict[str, Any]) -> Iterator[Any]:
        for page in self.client.pages(path, key, params, PAGE_LIMIT, guard=self.client.guard(entity)):
            self.tally.page(entity, len(page.records))
            yield self.with_account(page.records)
        self.tally.done(entity)

    def pipelines(self) -> list[dict]:
        body = self.client.get("/api/v4/leads/pipelines") or {}
        return (body.get("_embedded") or {}).get("pipelines") or []

    def by_cursor(self, name: str, entity: str, path: str, key: str, params: dict[str, Any], cursor_field: str,
                  start: int, tag: Tag | None = None) -> Iterator[Any]:
        """Keyset paging: ask again from the newest cursor value seen, so edits made while we page
        (which move records to the end) never shift an unread record onto a page already read."""
        cursor, number = start, 1
        guard = self.client.guard(name)
        guard.new_listing(path)
        while True:
            query = {**params, f"filter[{cursor_field}][from]": cursor, f"order[{cursor_field}]": "asc",
                     "page": number, "limit": PAGE_LIMIT}
            try:
                body = self.client.get(path, query)
            except MalformedPage as error:
                yield self.broken_page(entity, error, name)
                return
            if body is None:
                break
            records = (body.get("_embedded") or {}).get(key) or []
            guard.check(records)
            if tag is not None:  # tags never touch the cursor or a checked field
                for record in records:
                    if isinstance(record, dict):
                        tag(record)
            good, bad = self.split(entity, Page(number, records, False, path))
            stamps = [r[cursor_field] for r in good]
            if stamps != sorted(stamps):
                raise AmoCrmError(f"{path} did not return records in {cursor_field} order; paging by it is unsafe")
            yield from self.handed_on(entity, good, bad, name)
            if not (body.get("_links") or {}).get("next") or not records:
                break
            newest = max(stamps, default=cursor)
            cursor, number = (newest, 1) if newest > cursor else (cursor, number + 1)
        self.tally.done(name)

    def tasks(self, start: int) -> Iterator[Any]:
        """amoCRM cannot order tasks by updated_at, so a page read later may hold older changes:
        hold the run's pages and load none if one is unreadable, or the cursor would skip it. They are
        held on disk, pickled a page at a time, so memory stays one page whatever the account's size.
        Pickle, not JSON: it gives back exactly the values parsed (big integers, NaN, lone surrogates
        alike) at a fifth of JSON's cost both ways; the file is this run's own, unnamed and private."""
        pages = 0
        with tempfile.TemporaryFile(prefix="amokpi-tasks-") as held:
            try:
                for page in self.client.pages("/api/v4/tasks", "tasks", {"filter[updated_at][from]": start},
                                              PAGE_LIMIT, guard=self.client.guard("tasks")):
                    good, bad = self.split("tasks", page)
                    self.tally.page("tasks", len(good), len(bad))
                    pickle.dump((good, bad), held, protocol=pickle.HIGHEST_PROTOCOL)
                    pages += 1
            except MalformedPage as error:
                yield self.broken_page("tasks", error)
                return
            held.seek(0)
            for _ in range(pages):  # as many as were read (bounded by the paging guard)
                yield from self.items(*pickle.load(held))
        self.tally.done("tasks")

    def events(self, start: int) -> Iterator[Any]:
        """amoCRM documents no order for events (they come newest first), so page each bounded
        `created_at` window to its end, then hand the window on: windows go oldest first, so the
        cursor (the newest created_at handed on) never passes an event not yet read. A window too
        full to hold is narrowed and read again; the last window, from the run's start on, is
        open-ended, for events that arrive while we read."""
        params = {"filter[type]": ",".join(EVENT_TYPES)}
        guard = self.client.guard("events")  # one page budget over all windows
        lo = max(start, int(self.account.get("created_at") or 0) - 86_400, 0)
        until = int(time.time())
        width = max(1, self.event_window_seconds)
        while True:
            hi = None if lo > until else min(lo + width - 1, until)
            read = self._window(params, lo, hi, guard)
            if read is None:  # too full to hold: narrow the window and read it again
                width = max(1, width // 2)
                continue
            for page in read:
                yield from self.checked("events", page)
            if hi is None:
                break
            count = sum(len(p.records) for p in read)
            if count < EVENT_WINDOW_TARGET // 4:
                width = min(width * 2, EVENT_WINDOW_MAX_SECONDS)
            elif count > EVENT_WINDOW_TARGET:
                width = max(1, width // 2)
            lo = hi + 1
        self.tally.done("events")

    def _window(self, params: dict[str, Any], lo: int, hi: int | None, guard: PagingGuard) -> list[Page] | None:
        """Every page of one window, or None if it holds more than EVENT_WINDOW_MAX_PAGES pages."""
        query = {**params, "filter[created_at][from]": lo}
        if hi is not None:
            query["filter[created_at][to]"] = hi
        read: list[Page] = []
        for page in self.client.pages("/api/v4/events", "events", query, EVENTS_PAGE_LIMIT, guard=guard):
            read.append(page)
            if len(read) > EVENT_WINDOW_MAX_PAGES and hi is not None and hi > lo:
                return None
        return read
