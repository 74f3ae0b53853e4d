"""The embedded demo amoCRM API: a real HTTP server that speaks amoCRM API v4 on loopback.

It serves a `DemoAccount` the way documented amoCRM does; `docs/demo_api.md` lists each behaviour
with where amoCRM documents it, and `tests/python/test_demo_api.py` checks each one over HTTP. In
short: HAL JSON (`_embedded`, `_links`, `_page`), `page`/`limit` paging (default 50, max 250,
events max 100, custom fields 50 a page whatever `limit` says), HTTP 204 with an empty body past
the last page or when a filter matches nothing, `_links.next` on every full page (so also on a
full last page); filters `filter[id]`, `filter[updated_at]` (a bare timestamp means "from"),
`filter[pipeline_id]`, `filter[statuses]`, events `filter[type]`/`filter[entity]`/
`filter[entity_id]`/`filter[created_at]`; `order[...]` where amoCRM has it, while events come
newest first and ignore `order`; `with=only_deleted` lists trimmed deleted leads; notes on lead,
contact and company cards; account task types (`with=task_types`); single-record routes; and
`Authorization: Bearer` (401 without a valid token). With a `TokenAuthority` it also serves
`POST /oauth2/access_token`; with `Faults` it misbehaves the ways amoCRM does. A `ScalableAccount`
(columnar, up to a million leads) is served through the same filters, page by page, plus the
demo's `POST /demo/change`.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import numpy as np

from ingestion.demo.account import DemoAccount
from ingestion.demo.columnar import Ordered, Rows, Table
from ingestion.demo.faults import FaultResponse, Faults, corrupt_lead, distort_lead
from ingestion.demo.query import (
    EVENT_ENTITIES,
    Problem,
    Query,
    as_int,
    bounds_of,
    in_range,
    int_param,
    order_of,
    status_filter,
    values_of,
)
from ingestion.demo.scalable import EVENT_CARDS, EVENT_TYPES, NOTE_CARDS, TASK_CARDS, ScalableAccount, event_number

DEFAULT_TOKEN = "demo-token"
MAX_LIMIT = 250
MAX_EVENTS_LIMIT = 100
CUSTOM_FIELDS_PAGE = 50  # amoCRM pages custom fields 50 at a time whatever `limit` asks
DEFAULT_LIMIT = 50
MAX_SELECTIONS = 16  # cached selections kept (a 1M-lead account's event selection is ~150 MB)
CARDS = ("leads", "contacts", "companies")
# what `with=only_deleted` returns of a deleted lead in the trash: these keys keep their values, every
# other key of the lead is there but null (amoCRM docs, leads-api `with`; amocrm-api-php issue #254)
TRIMMED_LEAD_FIELDS = ("id", "updated_at", "updated_by", "is_deleted", "account_id")


class Authority(Protocol):
    """What the API needs of an OAuth token authority (ingestion.demo.oauth.TokenAuthority)."""

    def is_valid(self, access_token: str) -> bool: ...

    def handle_token_request(self, body: dict) -> tuple[int, dict]: ...


Reply = tuple[int, "dict | FaultResponse | None"]


def _problem(status: int, title: str, detail: str) -> dict:
    return {"title": title, "type": f"https://httpstatus.es/{status}", "status": status, "detail": detail}


@dataclass(frozen=True)
class Served:
    """One answered GET, as the log keeps it: what was asked and the shape of the reply."""

    path: str
    query: Query
    status: int
    records: int  # records on a list page (0 for a 204 and for single records)
    numbered: bool  # the page carried `_page`
    has_next: bool  # the page carried `_links.next`

    @property
    def page(self) -> int:
        return int((self.query.get("page") or ["1"])[0] or 1)


class _Selection:
    """A filtered, sorted list and its sort keys, for page slicing and range look-ups by bisection."""

    def __init__(self, records: list[dict], key: str | None, descending: bool) -> None:
        self.records = records
        self.key, self.descending = key, descending
        sign = -1 if descending else 1
        self.keys = [sign * (r.get(key) or 0) for r in records] if key else []

    def within(self, bounds: tuple[int | None, int | None]) -> _Slice:
        lo, hi = bounds
        if self.descending:
            lo, hi = (None if hi is None else -hi), (None if lo is None else -lo)
        first = bisect_left(self.keys, lo) if lo is not None else 0
        last = bisect_right(self.keys, hi) if hi is not None else len(self.keys)
        return _Slice(self.records, first, last)


class _Slice:
    """records[first:last] without copying them (a cursor page near the start of 40k events would copy
    all of them on every request)."""

    def __init__(self, records: list[dict], first: int, last: int) -> None:
        self.records, self.first, self.last = records, first, last

    def __len__(self) -> int:
        return self.last - self.first

    def __getitem__(self, part: slice) -> list[dict]:
        start, stop, _ = part.indices(len(self))
        return self.records[self.first + start:self.first + stop]


class DemoApi:
    """Routing and paging over one account; independent of the HTTP plumbing for clarity."""

    def __init__(self, account: DemoAccount | ScalableAccount, token: str = DEFAULT_TOKEN,
                 faults: Faults | None = None, authority: Authority | None = None) -> None:
        self.account: Any = account
        self.token = token
        self.faults = faults or Faults()
        self.authority = authority
        self._lock = threading.Lock()
        self._selections: dict[tuple, tuple[Any, Any]] = {}  # (fingerprint or version, selection)
        self._moved_leads: set[int] = set()
        self.columnar = isinstance(account, ScalableAccount)
        self.selections_built = 0  # columnar selections computed (one per listing and account version)
        self.log: deque[Served] = deque(maxlen=100_000)  # the GET requests answered past authorisation

    @property
    def requests_served(self) -> int:
        return self.faults.requests

    def listing(self, path: str) -> list[Served]:
        """The logged replies to one path, in order."""
        return [served for served in self.log if served.path == path]

    def _authorized(self, headers: dict[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return False
        if self.authority is not None:
            return self.authority.is_valid(token)
        return token == self.token

    def handle_post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        number, fault, stall = self.faults.before()
        if fault is not None:
            return fault.status, fault
        if path.rstrip("/") == "/oauth2/access_token" and self.authority is not None:
            return self.authority.handle_token_request(body)
        if path.rstrip("/") == "/demo/change" and self.columnar:
            return self._change(body, headers or {})
        return 404, _problem(404, "Not Found", f"No route for POST {path}")

    def _change(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        """The demo's admin route (not amoCRM): change `percent` % of the account, as `ScalableAccount.change`."""
        if not self._authorized(headers):
            return 401, _problem(401, "Unauthorized", "Invalid or missing access token")
        try:
            percent, seed = float(body.get("percent", 1)), int(body.get("seed", 1))
        except (TypeError, ValueError):
            return 400, _problem(400, "Bad Request", "percent must be a number and seed an integer")
        if not 0 < percent <= 100:
            return 400, _problem(400, "Bad Request", "percent must be in (0, 100]")
        with self._lock:
            done = self.account.change(percent, seed)
        return 200, {"at": done.at, **done.counts()}

    def _columns(self, name: str, table: Table, query: Query, mask: Callable[[Query], np.ndarray | None],
                 order: tuple[str, bool], range_field: str | None = None) -> Rows:
        """The columnar twin of `_cached`: rows chosen by `mask` and ordered once per listing and account
        version; a page then costs a bisection and the `limit` records it builds."""
        base = {k: v for k, v in query.items()
                if k not in ("page", "limit") and not (range_field and k.startswith(f"filter[{range_field}]"))}
        key = (name, tuple(sorted((k, tuple(v)) for k, v in base.items())))
        version = self.account.version
        with self._lock:
            hit = self._selections.get(key)
        if hit is None or hit[0] != version:
            hit = (version, Ordered(table, mask(base), order[0], order[1]))
            with self._lock:
                self._selections.pop(key, None)
                self._selections[key] = hit
                self.selections_built += 1
                while len(self._selections) > MAX_SELECTIONS:  # runs with new task cursors add keys: drop the oldest
                    self._selections.pop(next(iter(self._selections)))
        return hit[1].within(bounds_of(query, range_field)) if range_field else hit[1].all()

    def _cached(self, name: str, records: list[dict], query: Query, select: Callable[[Query], list[dict]],
                range_field: str | None = None, descending: bool = False) -> Sequence[dict]:
        """Filtering and sorting 40k events on every page request would make paging quadratic:
        keep each selection while the records it came from are unchanged (count and timestamps).
        A selection sorted by `range_field` is cached without that field's range filter, which is
        then applied by bisection, so cursor (keyset) and time-window paging hit the cache too."""
        sorted_by_range = range_field is not None
        base = {k: v for k, v in query.items()
                if k not in ("page", "limit") and not (sorted_by_range and k.startswith(f"filter[{range_field}]"))}
        key = (name, tuple(sorted((k, tuple(v)) for k, v in base.items())))
        fingerprint = (id(records), len(records), sum(r.get("updated_at") or r.get("created_at") or 0 for r in records))
        with self._lock:
            hit = self._selections.get(key)
        if hit is None or hit[0] != fingerprint:
            hit = (fingerprint, _Selection(select(base), range_field, descending))
            with self._lock:
                self._selections[key] = hit
        if not sorted_by_range:
            return hit[1].records
        return hit[1].within(bounds_of(query, range_field))

    def handle(self, path: str, query: Query, headers: dict[str, str]) -> Reply:
        number, fault, stall = self.faults.before()
        if fault is not None:
            return fault.status, fault
        if stall:
            time.sleep(stall)
        if not self._authorized(headers):
            return 401, _problem(401, "Unauthorized", "Invalid or missing access token")
        path = path.rstrip("/")
        hostile = self.faults.hostile(path)
        if hostile is not None:
            return hostile.status, hostile
        if self.faults.hostile_paths.get(path) == "repeat_page":  # page 1, linking to itself
            query = {**query, "page": ["1"]}
            status, body = self._answer(path, query)
            if isinstance(body, dict) and "_links" in body:
                body["_links"]["next"] = {"href": f"{path}?{urlencode({k: v[0] for k, v in query.items()})}"}
            return status, body
        status, body = self._answer(path, query)
        self._log(path, query, status, body)
        if status >= 400:  # a refusal is not a page: it is neither counted nor broken
            return status, body
        # counted per listing (path and `with`): a source reads several listings of one path at once
        path_number = self.faults.count_path(path + "?with=" + ",".join(query.get("with", [])))
        if body is not None and self.faults.breaks_json(number, path, path_number):
            text = json.dumps(body, ensure_ascii=False)
            return status, FaultResponse(status, text[: len(text) // 2].encode(), "application/hal+json")
        return status, body

    def _answer(self, path: str, query: Query) -> tuple[int, dict | FaultResponse | None]:
        failure = self.faults.fails(path)
        if failure is not None:
            return failure.status, failure
        try:
            return self._route(path, query)
        except Problem as p:
            return p.status, _problem(p.status, p.title, p.detail)

    def _log(self, path: str, query: Query, status: int, body: dict | FaultResponse | None) -> None:
        records, numbered, has_next = 0, False, False
        if isinstance(body, dict) and isinstance(body.get("_embedded"), dict) and "_links" in body:
            records = sum(len(v) for v in body["_embedded"].values() if isinstance(v, list))
            numbered, has_next = "_page" in body, "next" in body["_links"]
        self.log.append(Served(path, query, status, records, numbered, has_next))

    def _route(self, path: str, query: Query) -> tuple[int, dict | None]:
        acc = self.account
        if self.columnar:
            answer = self._columnar_route(path, query)
            if answer is not None:
                return answer
        lists: dict[str, Callable[[], tuple[int, dict | None]]] = {
            "/api/v4/account": lambda: (200, self._account(query)),
            "/api/v4/users": lambda: self._page(path, query, "users", self._by_id(query, acc.users)),
            "/api/v4/leads/pipelines": lambda: self._whole(path, "pipelines", acc.pipelines),
            "/api/v4/leads/loss_reasons": lambda: self._page(path, query, "loss_reasons", acc.loss_reasons),
            "/api/v4/leads": lambda: self._leads_page(path, query),
            "/api/v4/contacts": lambda: self._page(path, query, "contacts", self._updated_list(
                "contacts", acc.contacts, query)),
            "/api/v4/companies": lambda: self._page(path, query, "companies", self._updated_list(
                "companies", acc.companies, query)),
            "/api/v4/tasks": lambda: self._page(path, query, "tasks", self._cached(
                "tasks", acc.tasks, query, self._tasks)),
            "/api/v4/events": lambda: self._page(path, query, "events", self._cached(
                "events", acc.events, query, self._events, "created_at", descending=True), MAX_EVENTS_LIMIT),
        }
        for card in CARDS:
            lists[f"/api/v4/{card}/notes"] = lambda card=card: self._notes_page(path, query, card)
            lists[f"/api/v4/{card}/custom_fields"] = lambda card=card: self._page(
                path, query, "custom_fields", [f for f in acc.custom_fields if f["entity_type"] == card],
                CUSTOM_FIELDS_PAGE, cap=True)
        if path in lists:
            return lists[path]()
        return self._single(path, query)

    # the scalable account's tables ------------------------------------------------------------
    def _columnar_route(self, path: str, query: Query) -> tuple[int, dict | None] | None:
        """Listings and single records of a `ScalableAccount`'s tables; None for the small lists,
        which take the common routes."""
        acc = self.account
        if path == "/api/v4/leads":
            return self._leads_page(path, query)
        if path in ("/api/v4/contacts", "/api/v4/companies"):
            name = path.rsplit("/", 1)[1]
            return self._page(path, query, name, self._updated_rows(name, getattr(acc, name), query))
        if path == "/api/v4/tasks":
            order = order_of(query, ("created_at", "complete_till", "id")) or ("id", False)
            return self._page(path, query, "tasks", self._columns("tasks", acc.tasks, query, self._task_mask, order))
        if path == "/api/v4/events":
            return self._page(path, query, "events", self._columns(
                "events", acc.events, query, self._event_mask, ("created_at", True), "created_at"), MAX_EVENTS_LIMIT)
        match = re.fullmatch(r"/api/v4/(leads|contacts|companies)/notes", path)
        if match:
            return self._notes_page(path, query, match.group(1))
        match = re.fullmatch(r"/api/v4/(leads|contacts|companies|tasks|events)/([\w-]+)", path)
        if match and match.group(2) not in ("notes", "pipelines", "custom_fields", "loss_reasons"):
            entity, ident = match.groups()
            table: Table = getattr(acc, entity)
            wanted = event_number(ident) if entity == "events" else as_int(ident, "id")
            row = None if wanted is None else table.row_of("id", wanted)
            if row is None or (entity == "leads" and table.cols["is_deleted"][row]):
                return 204, None
            found = table.record(row)
            return 200, self._lead_view(found, query) if entity == "leads" else found
        match = re.fullmatch(r"/api/v4/(leads|contacts|companies)/notes/(\d+)", path)
        if match:
            row = acc.notes.row_of("id", int(match.group(2)))
            if row is None or NOTE_CARDS[acc.notes.cols["card"][row]] != match.group(1):
                return 204, None
            return 200, acc.notes.record(row)
        return None

    def _updated_rows(self, name: str, table: Table, query: Query,
                      extra: Callable[[Query], np.ndarray | None] | None = None,
                      orders: tuple[str, ...] = ("updated_at", "id")) -> Rows:
        """`_updated_list` on a table: the same filters, orders and default (id ascending)."""
        order = order_of(query, orders) or ("id", False)

        def mask(base: Query) -> np.ndarray | None:
            cols = table.cols
            keep = np.ones(len(table), dtype=bool)
            ids = [as_int(v, "filter[id]") for v in values_of(base, "filter[id]")]
            if ids:
                keep &= np.isin(cols["id"], ids)
            lo, hi = bounds_of(base, "updated_at")
            if lo is not None:
                keep &= cols["updated_at"] >= lo
            if hi is not None:
                keep &= cols["updated_at"] <= hi
            if extra is not None:
                more = extra(base)
                if more is not None:
                    keep &= more
            return keep

        return self._columns(name, table, query, mask, order, "updated_at" if order[0] == "updated_at" else None)

    def _lead_mask(self, only_deleted: bool) -> Callable[[Query], np.ndarray]:
        def mask(query: Query) -> np.ndarray:
            cols = self.account.leads.cols
            keep = cols["is_deleted"] == int(only_deleted)
            pipelines = [as_int(v, "filter[pipeline_id]") for v in values_of(query, "filter[pipeline_id]")]
            if pipelines:
                keep &= np.isin(cols["pipeline_id"], pipelines)
            statuses = status_filter(query)
            if statuses:
                pairs = np.zeros(len(keep), dtype=bool)
                for pipeline_id, status_id in statuses:
                    pairs |= (cols["pipeline_id"] == pipeline_id) & (cols["status_id"] == status_id)
                keep &= pairs
            return keep
        return mask

    def _note_mask(self, card: str) -> Callable[[Query], np.ndarray]:
        def mask(query: Query) -> np.ndarray:
            cols = self.account.notes.cols
            keep = cols["card"] == NOTE_CARDS.index(card)
            types = set(values_of(query, "filter[note_type]"))
            if types:
                keep &= np.isin(cols["outgoing"], [int(t == "call_out") for t in types & {"call_in", "call_out"}])
            cards = [as_int(v, "filter[entity_id]") for v in values_of(query, "filter[entity_id]")]
            if cards:
                keep &= np.isin(cols["entity_id"], cards)
            return keep
        return mask

    def _task_mask(self, query: Query) -> np.ndarray:
        cols = self.account.tasks.cols
        keep = np.ones(len(self.account.tasks), dtype=bool)
        ids = [as_int(v, "filter[id]") for v in values_of(query, "filter[id]")]
        types = [as_int(v, "filter[task_type]") for v in values_of(query, "filter[task_type]")]
        cards = set(values_of(query, "filter[entity_type]"))
        lo, hi = bounds_of(query, "updated_at")
        if lo is not None:
            keep &= cols["updated_at"] >= lo
        if hi is not None:
            keep &= cols["updated_at"] <= hi
        if ids:
            keep &= np.isin(cols["id"], ids)
        if types:
            keep &= np.isin(cols["task_type_id"], types)
        if cards:
            keep &= np.isin(cols["card"], [i for i, c in enumerate(TASK_CARDS) if c in cards])
        return keep

    def _event_mask(self, query: Query) -> np.ndarray:
        cols = self.account.events.cols
        types = set(values_of(query, "filter[type]"))
        ids = [event_number(v) for v in values_of(query, "filter[id]")]
        entities = {EVENT_ENTITIES.get(v, v) for v in values_of(query, "filter[entity]")}
        entity_ids = [as_int(v, "filter[entity_id]") for v in values_of(query, "filter[entity_id]")]
        if entity_ids and len(entities) != 1:
            raise Problem(400, "Bad Request", "filter[entity_id] needs exactly one filter[entity]")
        authors = [as_int(v, "filter[created_by]") for v in values_of(query, "filter[created_by]")]
        keep = np.ones(len(self.account.events), dtype=bool)
        if types:
            keep &= np.isin(cols["type"], [i for i, t in enumerate(EVENT_TYPES) if t in types])
        if values_of(query, "filter[id]"):
            keep &= np.isin(cols["id"], [n for n in ids if n is not None])
        if entities:
            keep &= np.isin(cols["card"], [i for i, c in enumerate(EVENT_CARDS) if c in entities])
        if entity_ids:
            keep &= np.isin(cols["entity_id"], entity_ids)
        if authors:
            keep &= np.isin(cols["created_by"], authors)
        return keep

    # single records --------------------------------------------------------------------------
    def _single(self, path: str, query: Query) -> tuple[int, dict | None]:
        """`/api/v4/<entity>/<id>` and friends: the record itself (no envelope), 204 when there is none."""
        acc = self.account
        match = re.fullmatch(r"/api/v4/(leads|contacts|companies|tasks|events|users)/([\w-]+)", path)
        if match:
            entity, ident = match.groups()
            records = {"leads": acc.leads, "contacts": acc.contacts, "companies": acc.companies,
                       "tasks": acc.tasks, "events": acc.events, "users": acc.users}
            wanted = ident if entity == "events" else as_int(ident, "id")
            found = next((r for r in records[entity] if r["id"] == wanted and not r.get("is_deleted")), None)
            if found is not None and entity == "leads":
                found = self._lead_view(found, query)
            return (204, None) if found is None else (200, found)
        match = re.fullmatch(r"/api/v4/(leads|contacts|companies)/notes/(\d+)", path)
        if match:
            found = next((n for n in self.account.notes_of(match.group(1)) if n["id"] == int(match.group(2))), None)
            return (204, None) if found is None else (200, found)
        match = re.fullmatch(r"/api/v4/(leads|contacts|companies)/(\d+)/notes", path)
        if match:  # the notes of one card
            card_id = int(match.group(2))
            scoped = {**query, "filter[entity_id][]": [str(card_id)]}
            return self._notes_page(path, scoped, match.group(1))
        match = re.fullmatch(r"/api/v4/leads/pipelines/(\d+)", path)
        if match:
            found = next((p for p in acc.pipelines if p["id"] == int(match.group(1))), None)
            return (204, None) if found is None else (200, found)
        match = re.fullmatch(r"/api/v4/(leads|contacts|companies)/custom_fields/(\d+)", path)
        if match:
            found = next((f for f in acc.custom_fields
                          if f["entity_type"] == match.group(1) and f["id"] == int(match.group(2))), None)
            return (204, None) if found is None else (200, found)
        raise Problem(404, "Not Found", f"No route for {path}")

    # lists ------------------------------------------------------------------------------------
    def _lead_view(self, lead: dict, query: Query) -> dict:
        """A lead as amoCRM shows it: contacts only `with=contacts`, the loss reason only
        `with=loss_reason` (as the record holds it, else as an array built from loss_reason_id)."""
        with_ = set(",".join(query.get("with", [])).split(","))
        embedded = dict(lead.get("_embedded") or {})
        if "contacts" not in with_:
            embedded.pop("contacts", None)
        stored = embedded.pop("loss_reason", None)
        if "loss_reason" in with_ and stored is not None:
            embedded["loss_reason"] = stored
        elif "loss_reason" in with_ and lead.get("loss_reason_id"):
            reason = next((r for r in self.account.loss_reasons if r["id"] == lead["loss_reason_id"]), None)
            embedded["loss_reason"] = [reason] if reason else []
        return {**lead, "_embedded": embedded}

    def _leads_page(self, path: str, query: Query) -> tuple[int, dict | None]:
        acc = self.account
        only_deleted = "only_deleted" in ",".join(query.get("with", [])).split(",")
        # deleted leads vanish from normal lists; `with=only_deleted` lists just them, trimmed
        name = "leads" + (":deleted" if only_deleted else "")
        orders = ("created_at", "updated_at", "id")
        selection: Sequence[dict]
        if self.columnar:
            selection = self._updated_rows(name, acc.leads, query, self._lead_mask(only_deleted), orders)
        else:
            selection = self._updated_list(name, acc.leads, query,
                                           lambda lead: bool(lead.get("is_deleted")) == only_deleted,
                                           self._lead_filter, orders=orders)
        status, body = self._page(path, query, "leads", selection)
        if body is None:
            return status, body
        chunk = body["_embedded"]["leads"]
        if only_deleted:
            body["_embedded"]["leads"] = [{k: (v if k in TRIMMED_LEAD_FIELDS else None) for k, v in lead.items()}
                                          for lead in chunk]
            return status, body
        body["_embedded"]["leads"] = chunk = [self._lead_view(lead, query) for lead in chunk]
        if self.faults.corrupt_lead_ids:
            body["_embedded"]["leads"] = [corrupt_lead(r) if r["id"] in self.faults.corrupt_lead_ids else r
                                          for r in chunk]
        f = self.faults
        if f.duplicate_lead_ids or f.negative_price_lead_ids or f.orphan_status_lead_ids:
            body["_embedded"]["leads"] = [d for r in body["_embedded"]["leads"] for d in distort_lead(r, f)]
        if self.faults.move_leads_while_paging and "order[updated_at]" in query and not self.columnar:
            page = int_param(query, "page") or 1
            start = bounds_of(query, "updated_at")[0] or 0
            # leads the client has read: earlier pages of this listing and everything before its cursor
            seen = [lead for lead in acc.leads if lead["updated_at"] < start and not lead.get("is_deleted")]
            self._edit_seen_leads(seen + selection[: (page - 1) * len(chunk)])
        return status, body

    def _edit_seen_leads(self, seen: list[dict]) -> None:
        """A manager edits leads the client already paged past: they jump to the end of the
        updated_at order and everything after them shifts one place towards page 1."""
        with self._lock:
            todo = self.faults.move_leads_while_paging - len(self._moved_leads)
            if todo <= 0:
                return
            newest = max(lead["updated_at"] for lead in self.account.leads)
            for lead in seen:
                if todo <= 0:
                    break
                if lead["id"] not in self._moved_leads:
                    newest += 1
                    lead["updated_at"] = newest
                    lead["name"] = lead["name"] + " (edited)"
                    self._moved_leads.add(lead["id"])
                    todo -= 1

    def _notes_page(self, path: str, query: Query, card: str) -> tuple[int, dict | None]:
        if self.columnar:
            return self._page(path, query, "notes", self._updated_rows(f"notes:{card}", self.account.notes, query,
                                                                        extra=self._note_mask(card)))
        notes = self.account.notes_of(card)
        return self._page(path, query, "notes", self._updated_list(f"notes:{card}", notes, query,
                                                                    extra=self._note_filter))

    # entity selections ----------------------------------------------------------------------
    def _account(self, query: Query) -> dict:
        record = dict(self.account.account)
        with_ = ",".join(query.get("with", [])).split(",")
        embedded = dict(record.get("_embedded", {}))
        if "datetime_settings" not in with_:
            embedded.pop("datetime_settings", None)
        if "users_groups" in with_:
            groups = {g["id"]: g for u in self.account.users for g in u["_embedded"]["groups"]}
            embedded["users_groups"] = [{"id": 0, "name": "Отдел продаж", "uuid": None}] + list(groups.values())
        if "task_types" in with_:
            embedded["task_types"] = [dict(t) for t in self.account.task_types]
        record["_embedded"] = embedded
        return record

    def _by_id(self, query: Query, records: list[dict]) -> list[dict]:
        ids = {as_int(v, "filter[id]") for v in values_of(query, "filter[id]")}
        return [r for r in records if not ids or r["id"] in ids]

    def _updated_list(self, name: str, records: list[dict], query: Query,
                      keep: Callable[[dict], bool] | None = None,
                      extra: Callable[[Query, dict], bool] | None = None,
                      orders: tuple[str, ...] = ("updated_at", "id")) -> list[dict]:
        """A list filtered by id, `updated_at` and `extra`, ordered by one of `orders` (amoCRM:
        leads by created_at, updated_at or id; contacts, companies and notes by updated_at or id;
        default id ascending); cached per query, the updated_at range applied by bisection."""
        order = order_of(query, orders)
        by_updated = order is not None and order[0] == "updated_at"

        def select(base: Query) -> list[dict]:
            ids = {as_int(v, "filter[id]") for v in values_of(base, "filter[id]")}
            bounds = bounds_of(base, "updated_at")
            chosen = [r for r in records if (keep is None or keep(r)) and (not ids or r["id"] in ids)
                      and in_range(r.get("updated_at"), bounds) and (extra is None or extra(base, r))]
            field, descending = order or ("id", False)
            chosen.sort(key=lambda r: (r.get(field) or 0, r["id"]), reverse=descending)
            return chosen

        return self._cached(name, records, query, select, "updated_at" if by_updated else None,
                            descending=bool(order and order[1]))

    def _lead_filter(self, query: Query, lead: dict) -> bool:
        pipelines = {as_int(v, "filter[pipeline_id]") for v in values_of(query, "filter[pipeline_id]")}
        if pipelines and lead["pipeline_id"] not in pipelines:
            return False
        statuses = status_filter(query)
        return not statuses or (lead["pipeline_id"], lead["status_id"]) in statuses

    @staticmethod
    def _note_filter(query: Query, note: dict) -> bool:
        types = set(values_of(query, "filter[note_type]"))
        cards = {as_int(v, "filter[entity_id]") for v in values_of(query, "filter[entity_id]")}
        return (not types or note["note_type"] in types) and (not cards or note["entity_id"] in cards)

    def _tasks(self, query: Query) -> list[dict]:
        # amoCRM orders tasks by created_at, complete_till or id, never by updated_at
        order = order_of(query, ("created_at", "complete_till", "id")) or ("id", False)
        ids = {as_int(v, "filter[id]") for v in values_of(query, "filter[id]")}
        types = {as_int(v, "filter[task_type]") for v in values_of(query, "filter[task_type]")}
        cards = set(values_of(query, "filter[entity_type]"))
        bounds = bounds_of(query, "updated_at")
        chosen = [t for t in self.account.tasks
                  if in_range(t.get("updated_at"), bounds) and (not ids or t["id"] in ids)
                  and (not types or t["task_type_id"] in types) and (not cards or t["entity_type"] in cards)]
        return sorted(chosen, key=lambda t: (t.get(order[0]) or 0, t["id"]), reverse=order[1])

    def _events(self, query: Query) -> list[dict]:
        """Events newest first (amoCRM documents no `order` for events and ignores one)."""
        types = set(values_of(query, "filter[type]"))
        ids = set(values_of(query, "filter[id]"))
        entities = {EVENT_ENTITIES.get(v, v) for v in values_of(query, "filter[entity]")}
        entity_ids = {as_int(v, "filter[entity_id]") for v in values_of(query, "filter[entity_id]")}
        if entity_ids and len(entities) != 1:
            raise Problem(400, "Bad Request", "filter[entity_id] needs exactly one filter[entity]")
        authors = {as_int(v, "filter[created_by]") for v in values_of(query, "filter[created_by]")}
        bounds = bounds_of(query, "created_at")
        events = [e for e in self.account.events
                  if in_range(e["created_at"], bounds) and (not types or e["type"] in types)
                  and (not ids or e["id"] in ids) and (not entities or e["entity_type"] in entities)
                  and (not entity_ids or e["entity_id"] in entity_ids)
                  and (not authors or e["created_by"] in authors)]
        if self.faults.missing_event_days:  # days (account time) whose events the API never returns
            settings = (self.account.account.get("_embedded") or {}).get("datetime_settings") or {}
            tz = ZoneInfo(settings.get("timezone") or "UTC")
            gone = self.faults.missing_event_days
            events = [e for e in events
                      if datetime.fromtimestamp(e["created_at"], tz).date().isoformat() not in gone]
        return sorted(events, key=lambda e: (e["created_at"], e["id"]), reverse=True)

    # HAL envelopes --------------------------------------------------------------------------
    def _whole(self, path: str, key: str, records: Iterable[dict]) -> tuple[int, dict]:
        records = list(records)
        return 200, {"_total_items": len(records), "_links": {"self": {"href": path}},
                     "_embedded": {key: records}}

    def _page(self, path: str, query: Query, key: str, records: Sequence[dict],
              max_limit: int = MAX_LIMIT, cap: bool = False) -> tuple[int, dict | None]:
        """One page. A `limit` above `max_limit` falls back to the default 50, as amoCRM does (no
        error); with `cap` (custom fields) a page never holds more than `max_limit` whatever `limit` says."""
        page = int_param(query, "page") or 1
        limit = int_param(query, "limit") or DEFAULT_LIMIT
        if limit > max_limit:
            limit = max_limit if cap else DEFAULT_LIMIT
        if limit < 1 or page < 1:
            raise Problem(400, "Bad Request", "limit and page must be positive")
        chunk = records[(page - 1) * limit : page * limit]
        if not chunk:
            return 204, None
        # a repeated filter (filter[note_type][]) keeps every value in the links
        rest = {k: v for k, v in query.items() if k != "page"}

        def href(number: int) -> dict[str, str]:
            return {"href": f"{path}?{urlencode({**rest, 'page': [number]}, doseq=True)}"}

        links = {"self": href(page)}
        if len(chunk) == limit:  # amoCRM links a next page whenever this one is full
            links["next"] = href(page + 1)
        if page > 1:
            links["prev"] = href(page - 1)
        if self.faults.omit_page_number:
            return 200, {"_links": links, "_embedded": {key: chunk}}
        return 200, {"_page": page, "_links": links, "_embedded": {key: chunk}}


def _handler_for(api: DemoApi, base_url_holder: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes; avoid 40 ms ACK stalls
        server_version = "amokpi-demo-amocrm/1.0"

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            parts = urlsplit(self.path)
            query = parse_qs(parts.query, keep_blank_values=True)
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._reply(*api.handle(parts.path, query, headers))

        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if (self.headers.get("Content-Type") or "").startswith("application/json"):
                try:
                    body = json.loads(raw or "{}")
                except ValueError:
                    body = {}
            else:
                body = {k: v[0] for k, v in parse_qs(raw).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._reply(*api.handle_post(urlsplit(self.path).path, body, headers))

        def _reply(self, status: int, body: dict | FaultResponse | None) -> None:
            if isinstance(body, FaultResponse) and (body.trickle_seconds or body.location):
                return self._misbehave(status, body)
            if isinstance(body, FaultResponse):
                payload, ctype = body.body, body.content_type
            elif body is None:
                payload, ctype = b"", None
            else:
                if "_links" in body and "_embedded" in body:  # absolute links, as amoCRM sends them
                    body = {**body, "_links": {name: {"href": base_url_holder[0] + link["href"]}
                                               for name, link in body["_links"].items()}}
                payload = json.dumps(body, ensure_ascii=False).encode()
                kind = "application/problem+json" if status >= 400 else "application/hal+json"
                if "access_token" in body:
                    kind = "application/json"
                ctype = f"{kind}; charset=utf-8"
            self.send_response(status)
            if ctype and status != HTTPStatus.NO_CONTENT:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload:
                self.wfile.write(payload)

        def _misbehave(self, status: int, fault: FaultResponse) -> None:
            self.send_response(status)
            if fault.location:
                self.send_header("Location", fault.location)
            self.send_header("Content-Type", fault.content_type or "application/octet-stream")
            self.send_header("Content-Length", str(len(fault.body)))
            self.end_headers()
            self.wfile.flush()
            if not fault.trickle_seconds:
                self.wfile.write(fault.body)
                return
            for i in range(len(fault.body)):  # bounded by the body; ends when the client hangs up
                time.sleep(fault.trickle_seconds)
                try:
                    self.wfile.write(fault.body[i:i + 1])
                    self.wfile.flush()
                except OSError:
                    self.close_connection = True
                    return

        def log_message(self, format: str, *args: object) -> None:  # quiet by default
            return

    return Handler


class DemoApiServer:
    """Serve a demo account on loopback in a background thread: `with DemoApiServer(acc) as srv:`."""

    def __init__(self, account: DemoAccount | ScalableAccount, host: str = "127.0.0.1", port: int = 0,
                 token: str = DEFAULT_TOKEN, faults: Faults | None = None,
                 authority: Authority | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.api = DemoApi(account, token, faults, authority)
        self._base: list[str] = [""]
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self.api, self._base))
        self._httpd.daemon_threads = True
        if tls is not None:  # HTTPS, as amoCRM serves: `tls` holds the certificate and key
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self._base[0] = f"{'https' if tls else 'http'}://{host}:{self._httpd.server_address[1]}"
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self._base[0]

    @property
    def token(self) -> str:
        return self.api.token

    @property
    def faults(self) -> Faults:
        return self.api.faults

    # how often the serving loop looks for `stop` (socketserver's default, 0.5 s, is what every stop then waits)
    POLL_SECONDS = 0.05

    def start(self) -> DemoApiServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(self.POLL_SECONDS,),
                                        name="demo-amocrm-api", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> DemoApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
