"""The real-shape amoCRM account: records written after the amoCRM API v4 documentation examples
(tests/python/fixtures/amocrm/*.json, one file per entity or variant) loaded into a `DemoAccount`,
and a demo API server that serves them as they are.

Each fixture file holds the records of one listing, as `_embedded.<entity>` of the documented
response holds them (leads as `with=contacts,loss_reason` shows them; the trash record as
`with=only_deleted` shows it). `serve()` adds two things the demo API lacks:
- `_embedded.loss_reason` served as the fixture gives it: the demo API rebuilds it as an array from
  `loss_reason_id`, while amoCRM's own parameter table calls it an object (its example shows an
  array); a lead whose fixture holds the object keeps it, and keeps its loss_reason_id, which
  staging reads;
- a log of every reply's status and record count, so a test can see the 204 that follows a full page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.demo_account import DemoAccount
from ingestion.demo_api import DemoApiServer
from ingestion.demo_faults import Faults

FIXTURES = Path(__file__).parent / "fixtures" / "amocrm"


def load(name: str) -> Any:
    """One fixture file (`<name>.json`), freshly parsed."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def load_account() -> DemoAccount:
    """Every fixture in one account, in the lists the demo API serves them from."""
    account = load("account")
    embedded = account["_embedded"]
    task_types = embedded.pop("task_types")  # served with `with=task_types`
    embedded.pop("users_groups")  # the demo API derives it from the users' groups
    return DemoAccount(
        account=account,
        users=load("users"),
        pipelines=load("pipelines"),
        # a deleted lead is a lead: the demo API lists it only with `with=only_deleted`
        leads=load("leads") + load("leads_only_deleted"),
        contacts=load("contacts"),
        companies=load("companies"),
        tasks=load("tasks"),
        events=load("events_read_by_marts") + load("events_not_read"),
        notes=load("notes_leads"),
        contact_notes=load("notes_contacts"),
        company_notes=load("notes_companies"),
        loss_reasons=load("loss_reasons"),
        custom_fields=load("custom_fields_leads") + load("custom_fields_contacts") + load("custom_fields_companies"),
        task_types=task_types,
    )


@dataclass
class Reply:
    path: str
    query: dict[str, list[str]]
    status: int
    records: int  # records on the page (0 for 204 and for non-list replies)
    numbered: bool  # the page carried `_page`
    has_next: bool  # the page carried `_links.next`

    @property
    def page(self) -> int:
        return int((self.query.get("page") or ["1"])[0] or 1)


@dataclass
class RealShapeServer:
    server: DemoApiServer
    replies: list[Reply] = field(default_factory=list)

    def listing(self, path: str) -> list[Reply]:
        return [r for r in self.replies if r.path == path]


def serve(account: DemoAccount, faults: Faults | None = None) -> RealShapeServer:
    """A started demo API server for `account` (stop it with `.server.stop()`)."""
    server = DemoApiServer(account, faults=faults)
    api = server.api
    handle = api.handle
    shape = RealShapeServer(server)

    def logged(path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Any:
        status, body = handle(path, query, headers)
        records, numbered, has_next = 0, False, False
        if isinstance(body, dict) and isinstance(body.get("_embedded"), dict):
            records = sum(len(v) for v in body["_embedded"].values() if isinstance(v, list))
            numbered, has_next = "_page" in body, "next" in (body.get("_links") or {})
        shape.replies.append(Reply(path.rstrip("/"), query, status, records, numbered, has_next))
        return status, body

    api.handle = logged  # type: ignore[method-assign]
    server.start()
    return shape
