"""The `amocrm` dlt source: amoCRM API v4 -> dlt resources.

Configuration follows dlt conventions (section `sources.amocrm`): `base_url`
(https://<subdomain>.amocrm.ru or .kommo.com) and either `access_token` (a long-lived token) or
OAuth2 (`client_id`, `client_secret`, `redirect_uri`, `token_file`); see README "Connect your
amoCRM account".

Resources yield whole pages. Facts are merged on (account_id, id) with an incremental cursor on
`updated_at` (events: `created_at`) and a look-back window; entities that amoCRM orders by that
cursor are paged by the cursor itself (keyset), so records edited while we page cannot shift
others past us. Records that break their entity's contract go to `quarantine`; a page that is
not JSON even after retries stops its resource without moving its cursor past the unread page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
from dlt.common.typing import TSecretStrValue
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from requests.auth import AuthBase

from ingestion.amocrm_client import AmoCrmClient, AmoCrmError, MalformedPage, Page
from ingestion.progress import Progress
from ingestion.records import problems, quarantine_row

PAGE_LIMIT = 250
EVENTS_PAGE_LIMIT = 100
FAR_FUTURE = 2**40
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

# The raw contract: every column the dbt staging models read, with its type. Given to dlt as
# hints, so types never depend on what one page happened to contain, nested objects whose shape
# varies stay JSON (staging unpacks them), and the runner can create a table that received no rows.
_BIGINT, _TEXT, _JSON, _BOOL = "bigint", "text", "json", "bool"
_ENTITY = {"account_id": _BIGINT, "id": _BIGINT, "name": _TEXT, "responsible_user_id": _BIGINT, "group_id": _BIGINT,
           "created_by": _BIGINT, "updated_by": _BIGINT, "created_at": _BIGINT, "updated_at": _BIGINT,
           "closest_task_at": _BIGINT, "is_deleted": _BOOL, "custom_fields_values": _JSON, "_embedded": _JSON}
RAW_COLUMNS: dict[str, dict[str, str]] = {
    "account": {"id": _BIGINT, "name": _TEXT, "subdomain": _TEXT, "currency": _TEXT, "created_at": _BIGINT,
                "_embedded": _JSON},
    "users": {"account_id": _BIGINT, "id": _BIGINT, "name": _TEXT, "email": _TEXT, "_embedded": _JSON,
              "rights__group_id": _BIGINT, "rights__role_id": _BIGINT, "rights__is_active": _BOOL,
              "rights__is_admin": _BOOL},
    "pipelines": {"account_id": _BIGINT, "id": _BIGINT, "name": _TEXT, "sort": _BIGINT, "is_main": _BOOL,
                  "is_archive": _BOOL, "_embedded": _JSON},
    "statuses": {"account_id": _BIGINT, "pipeline_id": _BIGINT, "id": _BIGINT, "name": _TEXT, "sort": _BIGINT,
                 "type": _BIGINT},
    "loss_reasons": {"account_id": _BIGINT, "id": _BIGINT, "name": _TEXT, "sort": _BIGINT},
    "custom_fields": {"account_id": _BIGINT, "entity_type": _TEXT, "id": _BIGINT, "name": _TEXT, "type": _TEXT,
                      "code": _TEXT, "sort": _BIGINT, "enums": _JSON, "required_statuses": _JSON,
                      "group_id": _TEXT, "remind": _JSON},
    "leads": {**_ENTITY, "price": _BIGINT, "status_id": _BIGINT, "pipeline_id": _BIGINT, "loss_reason_id": _BIGINT,
              "closed_at": _BIGINT, "score": _BIGINT, "labor_cost": _BIGINT},
    "contacts": {**_ENTITY, "first_name": _TEXT, "last_name": _TEXT},
    "companies": dict(_ENTITY),
    "tasks": {"account_id": _BIGINT, "id": _BIGINT, "entity_id": _BIGINT, "entity_type": _TEXT,
              "responsible_user_id": _BIGINT, "group_id": _BIGINT, "created_by": _BIGINT, "updated_by": _BIGINT,
              "created_at": _BIGINT, "updated_at": _BIGINT, "complete_till": _BIGINT, "task_type_id": _BIGINT,
              "is_completed": _BOOL, "text": _TEXT, "duration": _BIGINT, "result": _JSON},
    "notes": {"account_id": _BIGINT, "id": _BIGINT, "entity_id": _BIGINT, "note_type": _TEXT,
              "responsible_user_id": _BIGINT, "group_id": _BIGINT, "created_by": _BIGINT, "updated_by": _BIGINT,
              "created_at": _BIGINT, "updated_at": _BIGINT, "params__uniq": _TEXT, "params__duration": _BIGINT,
              "params__source": _TEXT, "params__link": _TEXT, "params__phone": _TEXT, "params__call_result": _TEXT,
              "params__call_status": _BIGINT},
    "events": {"account_id": _BIGINT, "id": _TEXT, "type": _TEXT, "entity_id": _BIGINT, "entity_type": _TEXT,
               "created_by": _BIGINT, "created_at": _BIGINT, "value_after": _JSON, "value_before": _JSON},
    "quarantine": {"payload_hash": _TEXT, "entity": _TEXT, "record_id": _TEXT, "problem": _TEXT, "payload": _TEXT,
                   "source_url": _TEXT, "account_id": _BIGINT, "quarantined_at": _BIGINT},
}


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


@dlt.source(name="amocrm", section="amocrm", max_table_nesting=2)
def amocrm_source(
    base_url: str = dlt.config.value,
    access_token: TSecretStrValue | None = None,
    client_id: str | None = None,
    client_secret: TSecretStrValue | None = None,
    redirect_uri: str | None = None,
    token_file: str | None = None,
    requests_per_second: float = 6.5,
    lookback_seconds: int = 600,
    since: int | None = None,
    request_timeout: float = 60.0,
    request_max_attempts: int = 5,
    request_backoff_factor: float = 1.0,
    progress: Any = None,
) -> Any:
    """amoCRM API v4 entities. `requests_per_second` stays under amoCRM's limit (7/s) for real accounts;
    `since` (unix seconds) re-reads everything changed since then without touching the cursors."""
    auth = make_auth(base_url, access_token, client_id, client_secret, redirect_uri, token_file)
    client = AmoCrmClient(base_url, auth, requests_per_second, request_timeout, request_max_attempts,
                          request_backoff_factor)
    tally: Progress = progress if isinstance(progress, Progress) else Progress(enabled=False)
    account = client.get("/api/v4/account", params={"with": "datetime_settings,users_groups"})
    if account is None or "id" not in account:
        raise AmoCrmError(f"{base_url}/api/v4/account returned no account: is this an amoCRM address?")
    account_id = int(account["id"])

    def with_account(records: list[dict]) -> list[dict]:
        """Every raw row carries the account id, so several accounts can share one warehouse."""
        for record in records:
            if record.get("account_id") is None:
                record["account_id"] = account_id
        return records

    def checked(entity: str, page: Page) -> Iterator[Any]:
        good, bad = [], []
        for record in page.records:
            found = problems(entity, record)
            if found:
                bad.append(quarantine_row(entity, record, "; ".join(found), page.url, account_id))
            else:
                good.append(record)
        tally.page(entity, len(good), len(bad))
        if good:
            yield with_account(good)
        if bad:
            yield dlt.mark.with_hints(bad, QUARANTINE_HINTS, create_table_variant=True)

    def broken_page(entity: str, error: MalformedPage) -> Any:
        tally.page(entity, 0, 1)
        tally.stopped_early(entity, f"{error}; the rest is fetched on the next run")
        row = quarantine_row(entity, error.body, f"malformed page: {error.reason}", error.url, account_id)
        return dlt.mark.with_hints([row], QUARANTINE_HINTS, create_table_variant=True)

    def whole(entity: str, path: str, key: str, params: dict[str, Any]) -> Iterator[Any]:
        for page in client.pages(path, key, params, PAGE_LIMIT):
            tally.page(entity, len(page.records))
            yield with_account(page.records)
        tally.done(entity)

    def by_cursor(entity: str, path: str, key: str, params: dict[str, Any], cursor_field: str, start: int,
                  limit: int = PAGE_LIMIT) -> Iterator[Any]:
        """Keyset paging: ask again from the newest cursor value seen, so edits made while we page
        (which move records to the end) never shift an unread record onto a page already read."""
        cursor, number = start, 1
        while True:
            query = {**params, f"filter[{cursor_field}][from]": cursor, f"order[{cursor_field}]": "asc",
                     "page": number, "limit": limit}
            try:
                body = client.get(path, query)
            except MalformedPage as error:
                yield broken_page(entity, error)
                return
            if body is None:
                break
            records = (body.get("_embedded") or {}).get(key) or []
            stamps = [r[cursor_field] for r in records if isinstance(r, dict) and not problems(entity, r)]
            if stamps != sorted(stamps):
                raise AmoCrmError(f"{path} did not return records in {cursor_field} order; paging by it is unsafe")
            yield from checked(entity, Page(number, records, False, path))
            if not (body.get("_links") or {}).get("next") or len(records) < limit:
                break
            newest = max(stamps, default=cursor)
            cursor, number = (newest, 1) if newest > cursor else (cursor, number + 1)
        tally.done(entity)

    def incremental(cursor_field: str) -> Any:
        if since is not None:  # a backfill: reads from `since`, leaves the stored cursor alone
            return dlt.sources.incremental(cursor_field, initial_value=since, end_value=FAR_FUTURE,
                                           on_cursor_value_missing="include")
        return dlt.sources.incremental(cursor_field, initial_value=0, lag=lookback_seconds or None,
                                       on_cursor_value_missing="include")

    @dlt.resource(name="account", write_disposition="merge", primary_key="id", columns=_columns("account"))
    def account_resource() -> Iterator[dict]:
        yield account

    @dlt.resource(name="users", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("users"))
    def users() -> Iterator[Any]:
        yield from whole("users", "/api/v4/users", "users", {"with": "role,group"})

    def fetch_pipelines() -> list[dict]:
        body = client.get("/api/v4/leads/pipelines") or {}
        return (body.get("_embedded") or {}).get("pipelines") or []

    @dlt.resource(name="pipelines", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("pipelines"))
    def pipelines() -> Iterator[list[dict]]:
        rows = fetch_pipelines()
        for pipeline in rows:
            pipeline.get("_embedded", {}).pop("statuses", None)
        yield with_account(rows)

    # won (142) and lost (143) exist in every pipeline: a status is keyed by pipeline and id
    @dlt.resource(name="statuses", write_disposition="merge", primary_key=("account_id", "pipeline_id", "id"),
                  columns=_columns("statuses"))
    def statuses() -> Iterator[list[dict]]:
        for pipeline in fetch_pipelines():
            yield with_account(pipeline.get("_embedded", {}).get("statuses", []))

    @dlt.resource(name="loss_reasons", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("loss_reasons"))
    def loss_reasons() -> Iterator[Any]:
        yield from whole("loss_reasons", "/api/v4/leads/loss_reasons", "loss_reasons", {})

    @dlt.resource(name="custom_fields", write_disposition="merge", primary_key=("account_id", "entity_type", "id"),
                  columns=_columns("custom_fields"))
    def custom_fields() -> Iterator[list[dict]]:
        for entity in ("leads", "contacts", "companies"):
            for page in client.pages(f"/api/v4/{entity}/custom_fields", "custom_fields", {}, PAGE_LIMIT):
                for field in page.records:
                    field["entity_type"] = entity
                    field.pop("_links", None)
                tally.page("custom_fields", len(page.records))
                yield with_account(page.records)
        tally.done("custom_fields")

    def keyset_resource(name: str, path: str, extra: dict[str, Any], table: str | None = None) -> Any:
        table = table or name
        cursor = incremental("updated_at")

        @dlt.resource(name=name, table_name=table, write_disposition="merge", primary_key=("account_id", "id"),
                      columns=_columns(table, "updated_at"))
        def resource(updated_at: dlt.sources.incremental[int] = cursor) -> Iterator[Any]:
            yield from by_cursor(table, path, table, extra, "updated_at", updated_at.start_value)

        return resource()

    tasks_cursor, events_cursor = incremental("updated_at"), incremental("created_at")

    @dlt.resource(name="tasks", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("tasks", "updated_at"))
    def tasks(updated_at: dlt.sources.incremental[int] = tasks_cursor) -> Iterator[Any]:
        # amoCRM cannot order tasks by updated_at, so a page read later may hold older changes:
        # hold the run's pages and load none if one is unreadable, or the cursor would skip it
        pages = []
        try:
            for page in client.pages("/api/v4/tasks", "tasks", {"filter[updated_at][from]": updated_at.start_value},
                                     PAGE_LIMIT):
                pages.append(list(checked("tasks", page)))
        except MalformedPage as error:
            yield broken_page("tasks", error)
            return
        for items in pages:
            yield from items
        tally.done("tasks")

    @dlt.resource(name="events", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("events"))
    def events(created_at: dlt.sources.incremental[int] = events_cursor) -> Iterator[Any]:
        yield from by_cursor("events", "/api/v4/events", "events", {"filter[type]": ",".join(EVENT_TYPES)},
                             "created_at", created_at.start_value, EVENTS_PAGE_LIMIT)

    resources = [
        account_resource, users, pipelines, statuses, loss_reasons, custom_fields,
        keyset_resource("leads", "/api/v4/leads", {"with": "contacts,loss_reason"}),
        # deleted leads vanish from the list; amoCRM lists them on request. Their own cursor, so
        # neither listing can move the other's past records it has not read.
        keyset_resource("deleted_leads", "/api/v4/leads", {"with": "only_deleted"}, table="leads"),
        keyset_resource("contacts", "/api/v4/contacts", {"with": "companies"}),
        keyset_resource("companies", "/api/v4/companies", {}),
        keyset_resource("notes", "/api/v4/leads/notes", {"filter[note_type][]": ["call_in", "call_out"]}),
        tasks,
        events,
    ]
    for resource in resources:
        resource.amocrm_client = client  # type: ignore[attr-defined]  # read by the runner's summary
    return resources
