"""The embedded demo amoCRM API: a real HTTP server that speaks amoCRM API v4 on loopback.

It serves a `DemoAccount` the way amoCRM does: HAL JSON (`_embedded`, `_links`, `_page`),
`page`/`limit` paging (limit max 250, events max 100), HTTP 204 with an empty body past the last
page or when a filter matches nothing, `_links.next` on every full page (so also on the last one
when it happens to be full), `filter[updated_at][from|to]`, `filter[created_at][from|to]` for
events, `order[updated_at]=asc`, `with=only_deleted` for leads, and `Authorization: Bearer` (401
without a valid token). With a `TokenAuthority` it also serves `POST /oauth2/access_token` and
accepts the OAuth access tokens it issued; with `Faults` it misbehaves the ways amoCRM does.
"""

from __future__ import annotations

import json
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from ingestion.demo_account import DemoAccount
from ingestion.demo_faults import FaultResponse, Faults, corrupt_lead, distort_lead

DEFAULT_TOKEN = "demo-token"
MAX_LIMIT = 250
MAX_EVENTS_LIMIT = 100
DEFAULT_LIMIT = 50


class Authority(Protocol):
    """What the API needs of an OAuth token authority (ingestion.demo_oauth.TokenAuthority)."""

    def is_valid(self, access_token: str) -> bool: ...

    def handle_token_request(self, body: dict) -> tuple[int, dict]: ...


Reply = tuple[int, "dict | FaultResponse | None"]


def _problem(status: int, title: str, detail: str) -> dict:
    return {"title": title, "type": f"https://httpstatus.es/{status}", "status": status, "detail": detail}


class _Problem(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def _int_param(query: dict[str, list[str]], key: str) -> int | None:
    values = query.get(key)
    if not values or values[0] == "":
        return None
    try:
        return int(values[0])
    except ValueError as exc:
        raise _Problem(400, "Bad Request", f"{key} must be an integer") from exc


def _range_filter(query: dict[str, list[str]], field: str) -> Callable[[dict], bool]:
    lo = _int_param(query, f"filter[{field}][from]")
    hi = _int_param(query, f"filter[{field}][to]")
    exact = _int_param(query, f"filter[{field}]")
    if exact is not None:
        lo = hi = exact

    def keep(record: dict) -> bool:
        value = record.get(field) or 0
        return (lo is None or value >= lo) and (hi is None or value <= hi)

    return keep


class DemoApi:
    """Routing and paging over one account; independent of the HTTP plumbing for clarity."""

    def __init__(self, account: DemoAccount, token: str = DEFAULT_TOKEN, faults: Faults | None = None,
                 authority: Authority | None = None) -> None:
        self.account = account
        self.token = token
        self.faults = faults or Faults()
        self.authority = authority
        self._lock = threading.Lock()
        self._selections: dict[tuple, tuple[tuple, list[dict], list[int]]] = {}
        self._moved_leads: set[int] = set()

    @property
    def requests_served(self) -> int:
        return self.faults.requests

    def _authorized(self, headers: dict[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return False
        if self.authority is not None:
            return self.authority.is_valid(token)
        return token == self.token

    def handle_post(self, path: str, body: dict[str, Any]) -> Reply:
        number, fault, stall = self.faults.before()
        if fault is not None:
            return fault.status, fault
        if path.rstrip("/") == "/oauth2/access_token" and self.authority is not None:
            return self.authority.handle_token_request(body)
        return 404, _problem(404, "Not Found", f"No route for POST {path}")

    def _cached(self, name: str, records: list[dict], query: dict[str, list[str]],
                select: Callable[[dict[str, list[str]]], list[dict]], range_field: str | None = None) -> list[dict]:
        """Filtering and sorting 40k events on every page request would make paging quadratic:
        keep each selection while the records it came from are unchanged (count and timestamps).
        A selection sorted ascending by `range_field` is cached without that field's range filter,
        which is then applied by bisection, so cursor (keyset) paging hits the cache too."""
        ascending = range_field is not None and (
            range_field == "created_at" or query.get(f"order[{range_field}]", [""])[0] == "asc")
        base = {k: v for k, v in query.items()
                if k not in ("page", "limit") and not (ascending and k.startswith(f"filter[{range_field}]"))}
        key = (name, tuple(sorted((k, tuple(v)) for k, v in base.items())))
        fingerprint = (id(records), len(records), sum(r.get("updated_at") or r.get("created_at") or 0 for r in records))
        with self._lock:
            hit = self._selections.get(key)
        if hit is None or hit[0] != fingerprint:
            selected = select(base)
            hit = (fingerprint, selected, [r[range_field] for r in selected] if ascending else [])
            with self._lock:
                self._selections[key] = hit
        if not ascending:
            return hit[1]
        lo = _int_param(query, f"filter[{range_field}][from]")
        hi = _int_param(query, f"filter[{range_field}][to]")
        first = bisect_left(hit[2], lo) if lo is not None else 0
        last = bisect_right(hit[2], hi) if hi is not None else len(hit[2])
        return hit[1][first:last]

    def handle(self, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Reply:
        number, fault, stall = self.faults.before()
        if fault is not None:
            return fault.status, fault
        if stall:
            time.sleep(stall)
        if not self._authorized(headers):
            return 401, _problem(401, "Unauthorized", "Invalid or missing access token")
        acc = self.account
        routes: dict[str, Callable[[], tuple[int, dict | None]]] = {
            "/api/v4/account": lambda: (200, self._account(query)),
            "/api/v4/users": lambda: self._page(path, query, "users", acc.users),
            "/api/v4/leads/pipelines": lambda: self._whole(path, "pipelines", acc.pipelines),
            "/api/v4/leads/loss_reasons": lambda: self._page(path, query, "loss_reasons", acc.loss_reasons),
            "/api/v4/leads": lambda: self._leads_page(path, query),
            "/api/v4/contacts": lambda: self._page(path, query, "contacts", self._cached(
                "contacts", acc.contacts, query, lambda q: self._updated(q, acc.contacts), "updated_at")),
            "/api/v4/companies": lambda: self._page(path, query, "companies", self._cached(
                "companies", acc.companies, query, lambda q: self._updated(q, acc.companies), "updated_at")),
            "/api/v4/tasks": lambda: self._page(path, query, "tasks", self._cached(
                "tasks", acc.tasks, query, self._tasks)),
            "/api/v4/leads/notes": lambda: self._page(path, query, "notes", self._cached(
                "notes", acc.notes, query, self._notes, "updated_at")),
            "/api/v4/events": lambda: self._page(path, query, "events", self._cached(
                "events", acc.events, query, self._events, "created_at"), MAX_EVENTS_LIMIT),
        }
        for entity in ("leads", "contacts", "companies"):
            routes[f"/api/v4/{entity}/custom_fields"] = lambda entity=entity: self._page(
                path, query, "custom_fields", [f for f in acc.custom_fields if f["entity_type"] == entity])
        route = routes.get(path.rstrip("/"))
        if route is None:
            return 404, _problem(404, "Not Found", f"No route for {path}")
        try:
            status, body = route()
        except _Problem as p:
            return p.status, _problem(p.status, p.title, p.detail)
        path_number = self.faults.count_path(path.rstrip("/"))
        if body is not None and self.faults.breaks_json(number, path.rstrip("/"), path_number):
            text = json.dumps(body, ensure_ascii=False)
            return status, FaultResponse(status, text[: len(text) // 2].encode(), "application/hal+json")
        return status, body

    def _leads_page(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict | None]:
        acc = self.account
        only_deleted = "only_deleted" in ",".join(query.get("with", [])).split(",")
        # deleted leads vanish from normal lists; `with=only_deleted` lists just them
        selection = self._cached("leads", acc.leads, query, lambda q: self._updated(
            q, [lead for lead in acc.leads if bool(lead.get("is_deleted")) == only_deleted]), "updated_at")
        status, body = self._page(path, query, "leads", selection)
        if body is None:
            return status, body
        chunk = body["_embedded"]["leads"]
        if self.faults.corrupt_lead_ids:
            body["_embedded"]["leads"] = [corrupt_lead(r) if r["id"] in self.faults.corrupt_lead_ids else r
                                          for r in chunk]
        f = self.faults
        if f.duplicate_lead_ids or f.negative_price_lead_ids or f.orphan_status_lead_ids:
            body["_embedded"]["leads"] = [d for r in body["_embedded"]["leads"] for d in distort_lead(r, f)]
        if self.faults.move_leads_while_paging and "order[updated_at]" in query:
            page = _int_param(query, "page") or 1
            start = _int_param(query, "filter[updated_at][from]") or 0
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

    # entity selections ----------------------------------------------------------------------
    def _account(self, query: dict[str, list[str]]) -> dict:
        record = dict(self.account.account)
        with_ = ",".join(query.get("with", [])).split(",")
        embedded = dict(record.get("_embedded", {}))
        if "datetime_settings" not in with_:
            embedded.pop("datetime_settings", None)
        if "users_groups" in with_:
            groups = {g["id"]: g for u in self.account.users for g in u["_embedded"]["groups"]}
            embedded["users_groups"] = [{"id": 0, "name": "Отдел продаж", "uuid": None}] + list(groups.values())
        record["_embedded"] = embedded
        return record

    def _updated(self, query: dict[str, list[str]], records: list[dict]) -> list[dict]:
        keep = _range_filter(query, "updated_at")
        selected = [r for r in records if keep(r)]
        if query.get("order[updated_at]", [""])[0] in ("asc", "desc"):
            selected.sort(key=lambda r: (r["updated_at"], r["id"]), reverse=query["order[updated_at]"][0] == "desc")
        else:
            selected.sort(key=lambda r: r["id"])
        return selected

    def _tasks(self, query: dict[str, list[str]]) -> list[dict]:
        if "order[updated_at]" in query:
            raise _Problem(400, "Bad Request", "tasks cannot be ordered by updated_at")
        keep = _range_filter(query, "updated_at")
        return sorted((t for t in self.account.tasks if keep(t)), key=lambda t: t["id"])

    def _notes(self, query: dict[str, list[str]]) -> list[dict]:
        types = set(query.get("filter[note_type][]", []) + query.get("filter[note_type]", []))
        keep = _range_filter(query, "updated_at")
        notes = [n for n in self.account.notes if keep(n) and (not types or n["note_type"] in types)]
        return self._updated({k: v for k, v in query.items() if not k.startswith("filter")}, notes)

    def _events(self, query: dict[str, list[str]]) -> list[dict]:
        types = {t for v in query.get("filter[type][]", []) + query.get("filter[type]", []) for t in v.split(",")}
        keep = _range_filter(query, "created_at")
        events = [e for e in self.account.events if keep(e) and (not types or e["type"] in types)]
        if self.faults.missing_event_days:  # days (account time) whose events the API never returns
            settings = (self.account.account.get("_embedded") or {}).get("datetime_settings") or {}
            tz = ZoneInfo(settings.get("timezone") or "UTC")
            gone = self.faults.missing_event_days
            events = [e for e in events
                      if datetime.fromtimestamp(e["created_at"], tz).date().isoformat() not in gone]
        return sorted(events, key=lambda e: (e["created_at"], e["id"]))

    # HAL envelopes --------------------------------------------------------------------------
    def _whole(self, path: str, key: str, records: Iterable[dict]) -> tuple[int, dict]:
        records = list(records)
        return 200, {"_total_items": len(records), "_links": {"self": {"href": path}},
                     "_embedded": {key: records}}

    def _page(self, path: str, query: dict[str, list[str]], key: str, records: list[dict],
              max_limit: int = MAX_LIMIT) -> tuple[int, dict | None]:
        page = _int_param(query, "page") or 1
        limit = _int_param(query, "limit") or DEFAULT_LIMIT
        if limit > max_limit or limit < 1 or page < 1:
            raise _Problem(400, "Bad Request", f"limit must be within 1..{max_limit} and page >= 1")
        chunk = records[(page - 1) * limit : page * limit]
        if not chunk:
            return 204, None
        flat = {k: v[0] for k, v in query.items() if k != "page"}
        links = {"self": {"href": f"{path}?{urlencode({**flat, 'page': page})}"}}
        if len(chunk) == limit:  # amoCRM links a next page whenever this one is full
            links["next"] = {"href": f"{path}?{urlencode({**flat, 'page': page + 1})}"}
        if page > 1:
            links["prev"] = {"href": f"{path}?{urlencode({**flat, 'page': page - 1})}"}
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
            self._reply(*api.handle_post(urlsplit(self.path).path, body))

        def _reply(self, status: int, body: dict | FaultResponse | None) -> None:
            if isinstance(body, FaultResponse):
                payload, ctype = body.body, body.content_type
            elif body is None:
                payload, ctype = b"", None
            else:
                if "_links" in body:  # absolute links, as amoCRM sends them
                    for link in body["_links"].values():
                        link["href"] = base_url_holder[0] + link["href"]
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

        def log_message(self, format: str, *args: object) -> None:  # quiet by default
            return

    return Handler


class DemoApiServer:
    """Serve a demo account on loopback in a background thread: `with DemoApiServer(acc) as srv:`."""

    def __init__(self, account: DemoAccount, host: str = "127.0.0.1", port: int = 0,
                 token: str = DEFAULT_TOKEN, faults: Faults | None = None,
                 authority: Authority | None = None) -> None:
        self.api = DemoApi(account, token, faults, authority)
        self._base: list[str] = [""]
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self.api, self._base))
        self._httpd.daemon_threads = True
        self._base[0] = f"http://{host}:{self._httpd.server_address[1]}"
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

    def start(self) -> DemoApiServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="demo-amocrm-api", daemon=True)
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
