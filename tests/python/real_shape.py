"""The real-shape amoCRM account: records written after the amoCRM API v4 documentation examples
(tests/python/fixtures/amocrm/*.json, one file per entity or variant) loaded into a `DemoAccount`,
and a demo API server that serves them as they are.

Each fixture file holds the records of one listing, as `_embedded.<entity>` of the documented
response holds them (leads as `with=contacts,loss_reason` shows them; the trash record as
`with=only_deleted` shows it). The demo API serves `_embedded.loss_reason` as a record holds it
(an array, or the object amoCRM's parameter table describes) and logs every reply's status and
record count (`DemoApi.log`), so a test can see the 204 that follows a full page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingestion.demo.account import DemoAccount
from ingestion.demo.api import DemoApiServer
from ingestion.demo.faults import Faults

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


def serve(account: DemoAccount, faults: Faults | None = None) -> DemoApiServer:
    """A started demo API server for `account` (stop it with `.stop()`; its replies are in `.api.log`)."""
    return DemoApiServer(account, faults=faults).start()
