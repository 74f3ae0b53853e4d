"""The `amocrm` dlt source: amoCRM API v4 -> dlt resources.

Configuration follows dlt conventions (section `sources.amocrm`): `base_url`
(https://<subdomain>.amocrm.ru or .kommo.com) and either `access_token` (a long-lived token) or
OAuth2 (`client_id`, `client_secret`, `redirect_uri`, `token_file`); see README "Connect your
amoCRM account".

Resources yield whole pages. Facts are merged on (account_id, id) with an incremental cursor on
`updated_at` (events: `created_at`) and a look-back window. Entities amoCRM orders by that cursor
are paged by the cursor itself (keyset), so records edited while we page cannot shift others past
us; events, which amoCRM serves newest first with no `order`, are read in bounded `created_at`
windows, each read whole before it is handed on, so the cursor never passes an unread event.
Records that break their entity's contract go to `quarantine`. A resource that fails (a page
that is not JSON even after retries, a listing that never ends, an error amoCRM keeps answering)
stops only itself: the others load, and the run reports what is missing for the next run to fetch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dlt
from dlt.common.typing import TSecretStrValue
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from requests import RequestException
from requests.auth import AuthBase

from ingestion.amocrm_client import AmoCrmAccessError, AmoCrmClient, AmoCrmError, MalformedPage, Page, PagingGuard
from ingestion.progress import Progress
from ingestion.raw_schema import RAW_COLUMNS
from ingestion.records import problems, quarantine_row

__all__ = ["RAW_COLUMNS", "amocrm_source", "make_auth"]

PAGE_LIMIT = 250
EVENTS_PAGE_LIMIT = 100
FAR_FUTURE = 2**40
CARDS = ("leads", "contacts", "companies")  # the cards calls and other notes live on
CALL_NOTE_TYPES = ["call_in", "call_out"]
# Events the marts use: stage moves, responsible changes, calls, creation, deletion and restoring.
EVENT_TYPES = (
    "lead_added",
    "lead_deleted",
    "lead_restored",
    "lead_status_changed",
    "entity_responsible_changed",
    "incoming_call",
    "outgoing_call",
)
# Event windows: start a week wide; widen while windows hold few events, narrow when they hold many.
EVENT_WINDOW_SECONDS = 7 * 86_400
EVENT_WINDOW_TARGET = 2_000  # events a window should hold (what is buffered before handing on)
EVENT_WINDOW_MAX_PAGES = 50  # a window that grows past this is narrowed and read again
EVENT_WINDOW_MAX_SECONDS = 366 * 86_400


def _columns(table: str, cursor: str | None = None) -> dict[str, dict[str, Any]]:
    # a fresh dict per call: dlt writes the column name into the hint it is given
    columns: dict[str, dict[str, Any]] = {
        name: {"data_type": dtype, "nullable": True} for name, dtype in RAW_COLUMNS[table].items()
    }
    if cursor:  # a record seen twice in one run (edited while we paged) keeps its newest version
        columns[cursor]["dedup_sort"] = "desc"
    return columns


QUARANTINE_HINTS = dlt.mark.make_hints(table_name="quarantine", write_disposition="merge",
                                       primary_key="payload_hash", columns=_columns("quarantine"))


def make_auth(base_url: str, access_token: str | None, client_id: str | None, client_secret: str | None,
              redirect_uri: str | None, token_file: str | None) -> AuthBase:
    if access_token:
        return BearerTokenAuth(access_token)
    if client_id and client_secret and token_file:
        from ingestion.oauth import AmoCrmOAuth2, TokenStore

        return AmoCrmOAuth2(base_url, client_id, client_secret, redirect_uri or "", TokenStore(Path(token_file)))
    raise AmoCrmError("no amoCRM credentials: set SOURCES__AMOCRM__ACCESS_TOKEN (a long-lived token), or "
                      "SOURCES__AMOCRM__CLIENT_ID, SOURCES__AMOCRM__CLIENT_SECRET, SOURCES__AMOCRM__REDIRECT_URI "
                      "and SOURCES__AMOCRM__TOKEN_FILE for OAuth2 (see README)")


# parallelized: resources are read concurrently (dlt's thread pool) under the client's one limiter,
# so the API stays busy up to amoCRM's limit while pages are checked and written
@dlt.source(name="amocrm", section="amocrm", max_table_nesting=2, parallelized=True)
def amocrm_source(
    base_url: str = dlt.config.value,
    access_token: TSecretStrValue | None = None,
    client_id: str | None = None,
    client_secret: TSecretStrValue | None = None,
    redirect_uri: str | None = None,
    token_file: str | None = None,
    requests_per_second: float = 7.0,
    lookback_seconds: int = 600,
    since: int | None = None,
    request_timeout: float = 60.0,
    request_max_attempts: int = 5,
    request_backoff_factor: float = 1.0,
    max_pages: int = 20_000,
    request_deadline: float = 120.0,
    max_response_bytes: int = 32 * 1024 * 1024,
    event_window_seconds: int = EVENT_WINDOW_SECONDS,
    progress: Any = None,
) -> Any:
    """amoCRM API v4 entities. `requests_per_second` is amoCRM's limit (7/s): never more in any
    second as the server counts them; `since` (unix seconds) re-reads everything changed since then
    without touching the cursors; `max_pages` bounds each resource's pages per run,
    `request_deadline` (seconds) each answer as a whole, `max_response_bytes` each answer's size."""
    auth = make_auth(base_url, access_token, client_id, client_secret, redirect_uri, token_file)
    client = AmoCrmClient(base_url, auth, requests_per_second, request_timeout, request_max_attempts,
                          request_backoff_factor, max_pages, request_deadline, max_response_bytes)
    tally: Progress = progress if isinstance(progress, Progress) else Progress(enabled=False)
    account = client.get("/api/v4/account", params={"with": "datetime_settings,users_groups,task_types"})
    if account is None or "id" not in account:
        raise AmoCrmError(f"{base_url}/api/v4/account returned no account: is this an amoCRM address?")
    account_id = int(account["id"])
    task_types = list((account.get("_embedded") or {}).pop("task_types", None) or [])

    def with_account(records: list[dict]) -> list[dict]:
        """Every raw row carries the account id, so several accounts can share one warehouse."""
        for record in records:
            if record.get("account_id") is None:
                record["account_id"] = account_id
        return records

    def isolated(name: str, rows: Callable[[], Iterator[Any]]) -> Iterator[Any]:
        """Run one resource; if it fails, stop just it: what it yielded loads, its cursor stays at
        what was read, the other resources go on, and the run reports it as incomplete. Access
        errors (401, 402, 403) concern the whole account and stop the run."""
        try:
            yield from rows()
        except AmoCrmAccessError:
            raise
        except (AmoCrmError, RequestException) as error:
            # one quarantine row says what stopped the resource (keyed by content: a re-run that
            # meets the same problem does not add it twice)
            where = getattr(error, "url", None) or getattr(getattr(error, "request", None), "url", None) or base_url
            problem = f"{type(error).__name__}: {error}"
            yield dlt.mark.with_hints([quarantine_row(name, {"resource": name, "stopped": problem}, problem,
                                                      str(where).split("?", 1)[0], account_id)],
                                      QUARANTINE_HINTS, create_table_variant=True)
            tally.stopped_early(name, f"{error}; the next run fetches the rest")

    def checked(entity: str, page: Page, tally_as: str | None = None) -> Iterator[Any]:
        good, bad = [], []
        for record in page.records:
            found = problems(entity, record)
            if found:
                bad.append(quarantine_row(entity, record, "; ".join(found), page.url, account_id))
            else:
                good.append(record)
        tally.page(tally_as or entity, len(good), len(bad))
        if good:
            yield with_account(good)
        if bad:
            yield dlt.mark.with_hints(bad, QUARANTINE_HINTS, create_table_variant=True)

    def broken_page(entity: str, error: MalformedPage, name: str | None = None) -> Any:
        tally.page(name or entity, 0, 1)
        tally.stopped_early(name or entity, f"{error}; the rest is fetched on the next run")
        row = quarantine_row(entity, error.body, f"malformed page: {error.reason}", error.url, account_id)
        return dlt.mark.with_hints([row], QUARANTINE_HINTS, create_table_variant=True)

    def whole(entity: str, path: str, key: str, params: dict[str, Any]) -> Iterator[Any]:
        for page in client.pages(path, key, params, PAGE_LIMIT, guard=client.guard(entity)):
            tally.page(entity, len(page.records))
            yield with_account(page.records)
        tally.done(entity)

    def by_cursor(name: str, entity: str, path: str, key: str, params: dict[str, Any], cursor_field: str,
                  start: int, tag: Callable[[dict], None] | None = None) -> Iterator[Any]:
        """Keyset paging: ask again from the newest cursor value seen, so edits made while we page
        (which move records to the end) never shift an unread record onto a page already read."""
        cursor, number = start, 1
        guard = client.guard(name)
        guard.new_listing(path)
        while True:
            query = {**params, f"filter[{cursor_field}][from]": cursor, f"order[{cursor_field}]": "asc",
                     "page": number, "limit": PAGE_LIMIT}
            try:
                body = client.get(path, query)
            except MalformedPage as error:
                yield broken_page(entity, error, name)
                return
            if body is None:
                break
            records = (body.get("_embedded") or {}).get(key) or []
            guard.check(records)
            stamps = [r[cursor_field] for r in records if isinstance(r, dict) and not problems(entity, r)]
            if stamps != sorted(stamps):
                raise AmoCrmError(f"{path} did not return records in {cursor_field} order; paging by it is unsafe")
            if tag is not None:
                for record in records:
                    if isinstance(record, dict):
                        tag(record)
            yield from checked(entity, Page(number, records, False, path), name)
            if not (body.get("_links") or {}).get("next") or not records:
                break
            newest = max(stamps, default=cursor)
            cursor, number = (newest, 1) if newest > cursor else (cursor, number + 1)
        tally.done(name)

    def incremental(cursor_field: str) -> Any:
        if since is not None:  # a backfill: reads from `since`, leaves the stored cursor alone
            return dlt.sources.incremental(cursor_field, initial_value=since, end_value=FAR_FUTURE,
                                           on_cursor_value_missing="include")
        return dlt.sources.incremental(cursor_field, initial_value=0, lag=lookback_seconds or None,
                                       on_cursor_value_missing="include")

    @dlt.resource(name="account", write_disposition="merge", primary_key="id", columns=_columns("account"))
    def account_resource() -> Iterator[dict]:
        yield account

    @dlt.resource(name="task_types", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("task_types"))
    def task_types_resource() -> Iterator[list[dict]]:
        # per account: 1 (follow-up) and 2 (meeting) are built in; the account adds its own
        yield with_account([{k: v for k, v in t.items() if k != "_links"} for t in task_types])

    @dlt.resource(name="users", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("users"))
    def users() -> Iterator[Any]:
        yield from isolated("users", lambda: whole("users", "/api/v4/users", "users", {"with": "role,group"}))

    def fetch_pipelines() -> list[dict]:
        body = client.get("/api/v4/leads/pipelines") or {}
        return (body.get("_embedded") or {}).get("pipelines") or []

    @dlt.resource(name="pipelines", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("pipelines"))
    def pipelines() -> Iterator[list[dict]]:
        def rows() -> Iterator[list[dict]]:
            found = fetch_pipelines()
            for pipeline in found:
                pipeline.get("_embedded", {}).pop("statuses", None)
            yield with_account(found)
        yield from isolated("pipelines", rows)

    # won (142) and lost (143) exist in every pipeline: a status is keyed by pipeline and id
    @dlt.resource(name="statuses", write_disposition="merge", primary_key=("account_id", "pipeline_id", "id"),
                  columns=_columns("statuses"))
    def statuses() -> Iterator[list[dict]]:
        def rows() -> Iterator[list[dict]]:
            for pipeline in fetch_pipelines():
                yield with_account(pipeline.get("_embedded", {}).get("statuses", []))
        yield from isolated("statuses", rows)

    @dlt.resource(name="loss_reasons", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("loss_reasons"))
    def loss_reasons() -> Iterator[Any]:
        yield from isolated("loss_reasons", lambda: whole(
            "loss_reasons", "/api/v4/leads/loss_reasons", "loss_reasons", {}))

    @dlt.resource(name="custom_fields", write_disposition="merge", primary_key=("account_id", "entity_type", "id"),
                  columns=_columns("custom_fields"))
    def custom_fields() -> Iterator[list[dict]]:
        def rows() -> Iterator[list[dict]]:
            guard = client.guard("custom_fields")
            for entity in CARDS:
                # amoCRM serves at most 50 fields a page whatever `limit` says: follow `_links.next`
                for page in client.pages(f"/api/v4/{entity}/custom_fields", "custom_fields", {}, PAGE_LIMIT,
                                         guard=guard):
                    for field in page.records:
                        field["entity_type"] = entity
                        field.pop("_links", None)
                    tally.page("custom_fields", len(page.records))
                    yield with_account(page.records)
            tally.done("custom_fields")
        yield from isolated("custom_fields", rows)

    def keyset_resource(name: str, path: str, key: str, extra: dict[str, Any], table: str | None = None,
                        tag: Callable[[dict], None] | None = None) -> Any:
        """A listing amoCRM orders by updated_at, paged by that cursor into `table` (default: `name`)."""
        table = table or name
        cursor = incremental("updated_at")

        @dlt.resource(name=name, table_name=table, write_disposition="merge", primary_key=("account_id", "id"),
                      columns=_columns(table, "updated_at"))
        def resource(updated_at: dlt.sources.incremental[int] = cursor) -> Iterator[Any]:
            yield from isolated(name, lambda: by_cursor(name, table, path, key, extra, "updated_at",
                                                        updated_at.start_value, tag))

        return resource()

    tasks_cursor, events_cursor = incremental("updated_at"), incremental("created_at")

    @dlt.resource(name="tasks", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("tasks", "updated_at"))
    def tasks(updated_at: dlt.sources.incremental[int] = tasks_cursor) -> Iterator[Any]:
        # amoCRM cannot order tasks by updated_at, so a page read later may hold older changes:
        # hold the run's pages and load none if one is unreadable, or the cursor would skip it
        def rows() -> Iterator[Any]:
            pages = []
            try:
                for page in client.pages("/api/v4/tasks", "tasks", {"filter[updated_at][from]": updated_at.start_value},
                                         PAGE_LIMIT, guard=client.guard("tasks")):
                    pages.append(list(checked("tasks", page)))
            except MalformedPage as error:
                yield broken_page("tasks", error)
                return
            for items in pages:
                yield from items
            tally.done("tasks")
        yield from isolated("tasks", rows)

    @dlt.resource(name="events", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("events"))
    def events(created_at: dlt.sources.incremental[int] = events_cursor) -> Iterator[Any]:
        yield from isolated("events", lambda: events_by_window(created_at.start_value))

    def events_by_window(start: int) -> Iterator[Any]:
        """amoCRM documents no order for events (they come newest first), so page each bounded
        `created_at` window to its end, then hand the window on: windows go oldest first, so the
        cursor (the newest created_at handed on) never passes an event not yet read. A window too
        full to hold is narrowed and read again; the last window, from the run's start on, is
        open-ended, for events that arrive while we read."""
        params = {"filter[type]": ",".join(EVENT_TYPES)}
        guard = client.guard("events")  # one page budget over all windows
        lo = max(start, int(account.get("created_at") or 0) - 86_400, 0)
        until = int(time.time())
        width = max(1, event_window_seconds)
        while True:
            hi = None if lo > until else min(lo + width - 1, until)
            read = read_window(params, lo, hi, guard)
            if read is None:  # too full to hold: narrow the window and read it again
                width = max(1, width // 2)
                continue
            for page in read:
                yield from checked("events", page)
            if hi is None:
                break
            count = sum(len(p.records) for p in read)
            if count < EVENT_WINDOW_TARGET // 4:
                width = min(width * 2, EVENT_WINDOW_MAX_SECONDS)
            elif count > EVENT_WINDOW_TARGET:
                width = max(1, width // 2)
            lo = hi + 1
        tally.done("events")

    def read_window(params: dict[str, Any], lo: int, hi: int | None, guard: PagingGuard) -> list[Page] | None:
        """Every page of one window, or None if it holds more than EVENT_WINDOW_MAX_PAGES pages."""
        query = {**params, "filter[created_at][from]": lo}
        if hi is not None:
            query["filter[created_at][to]"] = hi
        read: list[Page] = []
        for page in client.pages("/api/v4/events", "events", query, EVENTS_PAGE_LIMIT, guard=guard):
            read.append(page)
            if len(read) > EVENT_WINDOW_MAX_PAGES and hi is not None and hi > lo:
                return None
        return read

    def trimmed(record: dict) -> None:
        # amoCRM fills only these of a deleted lead (the other keys come null): keep just them
        for key in [k for k in record if k not in RAW_COLUMNS["deleted_leads"]]:
            del record[key]

    def card_tag(card: str) -> Callable[[dict], None]:
        def tag(record: dict) -> None:
            record["entity_type"] = card  # which card entity_id is: the path said so, the record does not
        return tag

    notes_resources = [
        keyset_resource(f"{singular}_notes", f"/api/v4/{card}/notes", "notes",
                        {"filter[note_type][]": CALL_NOTE_TYPES}, table="notes", tag=card_tag(card))
        for card, singular in zip(CARDS, ("lead", "contact", "company"), strict=True)
    ]
    resources = [
        account_resource, task_types_resource, users, pipelines, statuses, loss_reasons, custom_fields,
        keyset_resource("leads", "/api/v4/leads", "leads", {"with": "contacts,loss_reason"}),
        # deleted leads vanish from the list; amoCRM lists them, trimmed to id, updated_at,
        # updated_by and is_deleted, on request. Their own table (merged into the lead by staging)
        # and their own cursor, so neither listing can move the other's past records it has not read.
        keyset_resource("deleted_leads", "/api/v4/leads", "leads", {"with": "only_deleted"}, tag=trimmed),
        keyset_resource("contacts", "/api/v4/contacts", "contacts", {"with": "companies"}),
        keyset_resource("companies", "/api/v4/companies", "companies", {}),
        *notes_resources,
        tasks,
        events,
    ]
    for resource in resources:
        resource.amocrm_client = client  # type: ignore[attr-defined]  # read by the runner's summary
    return resources
