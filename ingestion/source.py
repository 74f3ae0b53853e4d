"""The `amocrm` dlt source: amoCRM API v4 -> dlt resources.

Configuration follows dlt conventions (section `sources.amocrm`):
`SOURCES__AMOCRM__BASE_URL` (https://<subdomain>.amocrm.ru or .kommo.com) and
`SOURCES__AMOCRM__ACCESS_TOKEN` (a long-lived token), or the same keys in `.dlt/config.toml` /
`.dlt/secrets.toml`.

Every resource yields whole pages. Dimension-like resources are replaced on each run; facts are
merged on their primary key with an incremental cursor (`updated_at`; events: `created_at`), so a
re-run with no changes in the account loads nothing new and never duplicates a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dlt
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.exceptions import IgnoreResponseException
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import HTTPError, Request, Response

from ingestion.throttle import RateLimiter, ThrottledAdapter

PAGE_LIMIT = 250

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
}


def _columns(table: str) -> dict[str, dict[str, Any]]:
    # a fresh dict per call: dlt writes the column name into the hint it is given
    return {name: {"data_type": dtype, "nullable": True} for name, dtype in RAW_COLUMNS[table].items()}
EVENTS_PAGE_LIMIT = 100
# Events the marts use: stage moves, responsible changes, calls, creation and deletion of leads.
EVENT_TYPES = (
    "lead_added",
    "lead_deleted",
    "lead_restored",
    "lead_status_changed",
    "entity_responsible_changed",
    "incoming_call",
    "outgoing_call",
)


class AmoCrmAccessError(HTTPError):
    """The account refused us: bad or expired token (401), unpaid account (402), no access (403)."""


_ACCESS_HINTS = {
    401: "the access token is missing, wrong or expired; set SOURCES__AMOCRM__ACCESS_TOKEN",
    402: "the amoCRM account is not paid; amoCRM refuses API access until it is",
    403: "access denied: the token's user lacks rights, or amoCRM blocked the account/IP for too many requests",
    404: "no such endpoint: check SOURCES__AMOCRM__BASE_URL (https://<subdomain>.amocrm.ru)",
}


def _check_response(response: Response, *args: Any, **kwargs: Any) -> None:
    """Response hook: 204 ends paging; access errors fail fast; 429/5xx go to dlt's retry."""
    if response.status_code == 204:
        raise IgnoreResponseException()
    hint = _ACCESS_HINTS.get(response.status_code)
    if hint:
        raise AmoCrmAccessError(f"amoCRM answered {response.status_code} for {response.url}: {hint}",
                                response=response)
    response.raise_for_status()


class AmoCrmPaginator(BasePaginator):
    """amoCRM paging: `page`/`limit`; stop on 204, on a page without `_links.next`, or a short page."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.page = 1

    def init_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "page": self.page, "limit": self.limit}

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        has_next_link = bool(response.json().get("_links", {}).get("next"))
        self._has_next_page = has_next_link and bool(data) and len(data) >= self.limit
        self.page += 1

    def update_request(self, request: Request) -> None:
        request.params["page"] = self.page


def make_client(base_url: str, access_token: str, requests_per_second: float) -> tuple[RESTClient, ThrottledAdapter]:
    session = Client(raise_for_status=False, request_timeout=60).session
    adapter = ThrottledAdapter(RateLimiter(requests_per_second), pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    client = RESTClient(
        base_url=base_url.rstrip("/"),
        auth=BearerTokenAuth(access_token),
        session=session,
        headers={"Accept": "application/hal+json"},
    )
    return client, adapter


def _pages(
    client: RESTClient, path: str, key: str, params: dict[str, Any], limit: int = PAGE_LIMIT
) -> Iterator[list[dict]]:
    yield from client.paginate(
        path,
        params=params,
        paginator=AmoCrmPaginator(limit),
        data_selector=f"_embedded.{key}",
        hooks={"response": [_check_response]},
    )


def _with_account(page: list[dict], account_id: int) -> list[dict]:
    """Every raw row carries the account id, so several accounts can share one warehouse."""
    for record in page:
        record.setdefault("account_id", account_id)
        if record.get("account_id") is None:
            record["account_id"] = account_id
    return page


@dlt.source(name="amocrm", section="amocrm", max_table_nesting=2)
def amocrm_source(
    base_url: str = dlt.config.value,
    access_token: str = dlt.secrets.value,
    requests_per_second: float = 7.0,
    initial_updated_at: int = 0,
) -> Any:
    """amoCRM API v4 entities. `requests_per_second` stays at amoCRM's limit (7) for real accounts."""
    client, adapter = make_client(base_url, access_token, requests_per_second)
    account = client.get("/api/v4/account", params={"with": "datetime_settings"},
                         hooks={"response": [_check_response]}).json()
    account_id = int(account["id"])

    @dlt.resource(name="account", write_disposition="merge", primary_key="id", columns=_columns("account"))
    def account_resource() -> Iterator[dict]:
        yield account

    @dlt.resource(name="users", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("users"))
    def users() -> Iterator[list[dict]]:
        for page in _pages(client, "/api/v4/users", "users", {"with": "role,group"}):
            yield _with_account(page, account_id)

    def fetch_pipelines() -> list[dict]:
        response = client.get("/api/v4/leads/pipelines", hooks={"response": [_check_response]})
        return response.json()["_embedded"]["pipelines"]

    @dlt.resource(name="pipelines", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("pipelines"))
    def pipelines() -> Iterator[list[dict]]:
        rows = fetch_pipelines()
        for pipeline in rows:
            pipeline.get("_embedded", {}).pop("statuses", None)
        yield _with_account(rows, account_id)

    # won (142) and lost (143) exist in every pipeline: a status is keyed by pipeline and id
    @dlt.resource(name="statuses", write_disposition="merge", primary_key=("account_id", "pipeline_id", "id"),
                  columns=_columns("statuses"))
    def statuses() -> Iterator[list[dict]]:
        for pipeline in fetch_pipelines():
            yield _with_account(pipeline.get("_embedded", {}).get("statuses", []), account_id)

    @dlt.resource(name="loss_reasons", write_disposition="merge", primary_key=("account_id", "id"),
                  columns=_columns("loss_reasons"))
    def loss_reasons() -> Iterator[list[dict]]:
        for page in _pages(client, "/api/v4/leads/loss_reasons", "loss_reasons", {}):
            yield _with_account(page, account_id)

    def updated_since(name: str, path: str, key: str, extra: dict[str, Any], ordered: bool = True) -> Any:
        @dlt.resource(name=name, write_disposition="merge", primary_key="id", columns=_columns(name))
        def resource(
            updated_at: dlt.sources.incremental[int] = dlt.sources.incremental(
                "updated_at", initial_value=initial_updated_at
            ),
        ) -> Iterator[list[dict]]:
            params = {"filter[updated_at][from]": updated_at.start_value, **extra}
            if ordered:
                params["order[updated_at]"] = "asc"
            for page in _pages(client, path, key, params):
                yield _with_account(page, account_id)

        return resource

    leads = updated_since("leads", "/api/v4/leads", "leads", {"with": "contacts,loss_reason"})
    contacts = updated_since("contacts", "/api/v4/contacts", "contacts", {"with": "companies"})
    companies = updated_since("companies", "/api/v4/companies", "companies", {})
    tasks = updated_since("tasks", "/api/v4/tasks", "tasks", {}, ordered=False)
    notes = updated_since("notes", "/api/v4/leads/notes", "notes",
                          {"filter[note_type][]": ["call_in", "call_out"]}, ordered=False)

    @dlt.resource(name="events", write_disposition="merge", primary_key="id", columns=_columns("events"))
    def events(
        created_at: dlt.sources.incremental[int] = dlt.sources.incremental(
            "created_at", initial_value=initial_updated_at
        ),
    ) -> Iterator[list[dict]]:
        params = {"filter[created_at][from]": created_at.start_value, "filter[type]": ",".join(EVENT_TYPES)}
        for page in _pages(client, "/api/v4/events", "events", params, EVENTS_PAGE_LIMIT):
            yield _with_account(page, account_id)

    resources = [account_resource, users, pipelines, statuses, loss_reasons,
                 leads, contacts, companies, tasks, notes, events]
    for resource in resources:
        resource.requests_adapter = adapter  # type: ignore[attr-defined]  # read by the runner's summary
    return resources
