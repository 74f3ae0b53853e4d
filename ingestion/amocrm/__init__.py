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
Records that break their entity's contract go to `quarantine`; a resource that fails stops only
itself (see `helpers`).

Laid out as dlt's verified sources are: the source function and the resources here, how they read
amoCRM in `helpers` (`AccountReader`), fixed settings in `settings`, the raw contract in
`raw_schema`, HTTP in `client` (with `throttle` and `paging`), OAuth2 in `oauth`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
from dlt.common.typing import TSecretStrValue
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from requests.auth import AuthBase

from ingestion.amocrm.client import AmoCrmClient
from ingestion.amocrm.errors import AmoCrmError
from ingestion.amocrm.helpers import AccountReader, Tag, card_tag, columns, trimmed
from ingestion.amocrm.progress import Progress
from ingestion.amocrm.raw_schema import RAW_COLUMNS
from ingestion.amocrm.settings import CALL_NOTE_TYPES, CARDS, EVENT_TYPES, EVENT_WINDOW_SECONDS, PAGE_LIMIT
from ingestion.amocrm.urls import origin_url

__all__ = ["EVENT_TYPES", "RAW_COLUMNS", "amocrm_source", "make_auth"]


def make_auth(base_url: str, access_token: str | None, client_id: str | None, client_secret: str | None,
              redirect_uri: str | None, token_file: str | None) -> AuthBase:
    if access_token:
        return BearerTokenAuth(access_token)
    if client_id and client_secret and token_file:
        from ingestion.amocrm.oauth import AmoCrmOAuth2, TokenStore

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
    `request_deadline` (seconds) each answer as a whole, `max_response_bytes` each answer's size.
    `progress` (a `Progress`) is told of every page and gets the client, so the caller can count
    requests and hand the account over quietly."""
    auth = make_auth(base_url, access_token, client_id, client_secret, redirect_uri, token_file)
    client = AmoCrmClient(base_url, auth, requests_per_second, request_timeout, request_max_attempts,
                          request_backoff_factor, max_pages, request_deadline, max_response_bytes)
    tally: Progress = progress if isinstance(progress, Progress) else Progress(enabled=False)
    tally.client = client
    account = client.get("/api/v4/account", params={"with": "datetime_settings,users_groups,task_types"})
    if account is None or "id" not in account:
        raise AmoCrmError(f"{base_url}/api/v4/account returned no account: is this an amoCRM address?")
    task_types = list((account.get("_embedded") or {}).pop("task_types", None) or [])
    reader = AccountReader(client, account, tally, since, lookback_seconds, event_window_seconds)

    def keyset(name: str, path: str, key: str, extra: dict[str, Any], table: str | None = None,
               tag: Tag | None = None) -> Any:
        table = table or name
        resource = dlt.resource(keyset_listing, name=name, table_name=table, write_disposition="merge",
                                primary_key=("account_id", "id"), columns=columns(table, "updated_at"))
        return resource(reader, name, table, path, key, extra, tag, updated_at=reader.incremental("updated_at"))

    return [
        # the host the account lives on (amocrm.ru, amocrm.com, kommo.com): only the origin of the
        # base URL, so links to lead cards can be built; never a path, query or token
        account_resource({**account, "_base_url": origin_url(base_url)}),
        task_types_resource(reader, task_types),
        users(reader),
        pipelines(reader),
        statuses(reader),
        loss_reasons(reader),
        custom_fields(reader),
        keyset("leads", "/api/v4/leads", "leads", {"with": "contacts,loss_reason"}),
        # deleted leads vanish from the list; amoCRM lists them, trimmed to id, updated_at,
        # updated_by and is_deleted, on request. Their own table (merged into the lead by staging)
        # and their own cursor, so neither listing can move the other's past records it has not read.
        keyset("deleted_leads", "/api/v4/leads", "leads", {"with": "only_deleted"}, tag=trimmed),
        keyset("contacts", "/api/v4/contacts", "contacts", {"with": "companies"}),
        keyset("companies", "/api/v4/companies", "companies", {}),
        # calls live on any card: one resource per card, one `notes` table
        *(keyset(f"{singular}_notes", f"/api/v4/{card}/notes", "notes", {"filter[note_type][]": CALL_NOTE_TYPES},
                 table="notes", tag=card_tag(card))
          for card, singular in zip(CARDS, ("lead", "contact", "company"), strict=True)),
        tasks(reader, updated_at=reader.incremental("updated_at")),
        events(reader, created_at=reader.incremental("created_at")),
    ]


@dlt.resource(name="account", write_disposition="merge", primary_key="id", columns=columns("account"))
def account_resource(account: dict) -> Iterator[dict]:
    yield account


@dlt.resource(name="task_types", write_disposition="merge", primary_key=("account_id", "id"),
              columns=columns("task_types"))
def task_types_resource(reader: AccountReader, task_types: list[dict]) -> Iterator[list[dict]]:
    # per account: 1 (follow-up) and 2 (meeting) are built in; the account adds its own
    yield reader.with_account([{k: v for k, v in t.items() if k != "_links"} for t in task_types])


@dlt.resource(name="users", write_disposition="merge", primary_key=("account_id", "id"), columns=columns("users"))
def users(reader: AccountReader) -> Iterator[Any]:
    yield from reader.isolated("users", lambda: reader.whole("users", "/api/v4/users", "users",
                                                             {"with": "role,group"}))


@dlt.resource(name="pipelines", write_disposition="merge", primary_key=("account_id", "id"),
              columns=columns("pipelines"))
def pipelines(reader: AccountReader) -> Iterator[Any]:
    def rows() -> Iterator[list[dict]]:
        found = reader.pipelines()
        for pipeline in found:
            pipeline.get("_embedded", {}).pop("statuses", None)
        yield reader.with_account(found)
    yield from reader.isolated("pipelines", rows)


# won (142) and lost (143) exist in every pipeline: a status is keyed by pipeline and id
@dlt.resource(name="statuses", write_disposition="merge", primary_key=("account_id", "pipeline_id", "id"),
              columns=columns("statuses"))
def statuses(reader: AccountReader) -> Iterator[Any]:
    def rows() -> Iterator[list[dict]]:
        for pipeline in reader.pipelines():
            yield reader.with_account(pipeline.get("_embedded", {}).get("statuses", []))
    yield from reader.isolated("statuses", rows)


@dlt.resource(name="loss_reasons", write_disposition="merge", primary_key=("account_id", "id"),
              columns=columns("loss_reasons"))
def loss_reasons(reader: AccountReader) -> Iterator[Any]:
    yield from reader.isolated("loss_reasons", lambda: reader.whole(
        "loss_reasons", "/api/v4/leads/loss_reasons", "loss_reasons", {}))


@dlt.resource(name="custom_fields", write_disposition="merge", primary_key=("account_id", "entity_type", "id"),
              columns=columns("custom_fields"))
def custom_fields(reader: AccountReader) -> Iterator[Any]:
    def rows() -> Iterator[list[dict]]:
        guard = reader.client.guard("custom_fields")
        for entity in CARDS:
            # amoCRM serves at most 50 fields a page whatever `limit` says: follow `_links.next`
            for page in reader.client.pages(f"/api/v4/{entity}/custom_fields", "custom_fields", {}, PAGE_LIMIT,
                                            guard=guard):
                for field in page.records:
                    field["entity_type"] = entity
                    field.pop("_links", None)
                reader.tally.page("custom_fields", len(page.records))
                yield reader.with_account(page.records)
        reader.tally.done("custom_fields")
    yield from reader.isolated("custom_fields", rows)


def keyset_listing(reader: AccountReader, name: str, table: str, path: str, key: str, extra: dict[str, Any],
                   tag: Tag | None, updated_at: dlt.sources.incremental[int] = dlt.sources.incremental("updated_at")
                   ) -> Iterator[Any]:
    """A listing amoCRM orders by updated_at, paged by that cursor into `table` (one resource per
    listing: leads, deleted leads, contacts, companies, the notes of each card)."""
    yield from reader.isolated(name, lambda: reader.by_cursor(name, table, path, key, extra, "updated_at",
                                                              updated_at.start_value, tag), table)


@dlt.resource(name="tasks", write_disposition="merge", primary_key=("account_id", "id"),
              columns=columns("tasks", "updated_at"))
def tasks(reader: AccountReader,
          updated_at: dlt.sources.incremental[int] = dlt.sources.incremental("updated_at")) -> Iterator[Any]:
    yield from reader.isolated("tasks", lambda: reader.tasks(updated_at.start_value), "tasks")


@dlt.resource(name="events", write_disposition="merge", primary_key=("account_id", "id"), columns=columns("events"))
def events(reader: AccountReader,
           created_at: dlt.sources.incremental[int] = dlt.sources.incremental("created_at")) -> Iterator[Any]:
    yield from reader.isolated("events", lambda: reader.events(created_at.start_value), "events")
