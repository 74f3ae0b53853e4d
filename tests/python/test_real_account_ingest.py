"""What a real amoCRM account does that the source must cope with, through real HTTP: events
served newest first with no `order`, custom fields 50 a page, calls on contact and company cards,
trimmed deleted leads, and one resource failing while the others load."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from expected import FACTS, assert_complete, served

from ingestion.demo.account import DemoAccount, generate_account, make_event
from ingestion.demo.api import DemoApiServer
from ingestion.demo.faults import Faults
from ingestion.pipeline import runner

FAST_RETRY = {"request_backoff_factor": 0.05, "requests_per_second": 0}
TABLES = [*FACTS, "custom_fields", "task_types"]


def raw(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def account() -> DemoAccount:
    return generate_account(seed=13, months=3, leads_per_month=120)


def test_a_full_load_reads_every_card_and_every_page_once(tmp_path: Path, env, account: DemoAccount) -> None:
    warehouse = tmp_path / "wh.duckdb"
    assert account.contact_notes and len([f for f in account.custom_fields if f["entity_type"] == "leads"]) > 50
    with DemoApiServer(account) as server:
        env(server, server.token)
        summary = runner.ingest(warehouse, requests_per_second=0)
        log = list(server.api.log)
    assert_complete(warehouse, account, TABLES)
    assert summary.quarantined == 0 and not summary.incomplete  # trimmed deleted leads are not malformed
    # each event once, though amoCRM serves them newest first: no duplicates in what was extracted
    assert summary.rows["events"] == len(account.events)
    events = [served.query for served in log if served.path == "/api/v4/events"]
    assert events and not any(key.startswith("order") for query in events for key in query)
    # every events request is a bounded created_at window but the last, open one
    assert all("filter[created_at][to]" in q for q in events[:-1]) and "filter[created_at][to]" not in events[-1]
    # custom fields: the second 50-field page was asked for, though the first was "short" of limit=250
    pages = [served.query["page"][0] for served in log if served.path == "/api/v4/leads/custom_fields"]
    assert pages == ["1", "2"]
    # calls on all three cards, each with its card
    cards = dict(raw(warehouse, "select entity_type, count(*) from raw_amocrm.notes group by 1"))
    assert cards == {"leads": len(account.notes), "contacts": len(account.contact_notes),
                     **({"companies": len(account.company_notes)} if account.company_notes else {})}
    # the account's task types, built-in and its own
    assert {r[0] for r in raw(warehouse, "select name from raw_amocrm.task_types")} == {"Связаться", "Встреча",
                                                                                        "Звонок"}
    # deleted leads: only the trimmed fields, no other column invented
    columns = {r[0] for r in raw(warehouse, "select column_name from information_schema.columns where "
                                            "table_schema = 'raw_amocrm' and table_name = 'deleted_leads'")}
    assert columns - {"_dlt_load_id", "_dlt_id"} == {"account_id", "id", "updated_at", "updated_by", "is_deleted"}


def test_events_keep_their_cursor_and_look_back_without_an_order(tmp_path: Path, env, account: DemoAccount) -> None:
    warehouse = tmp_path / "wh.duckdb"
    newest = max(e["created_at"] for e in account.events)
    with DemoApiServer(account) as server:
        env(server, server.token)
        runner.ingest(warehouse, requests_per_second=0)
        # two events arrive: one after the cursor, one late-written inside the 600 s look-back
        late = make_event("zz-late", "lead_status_changed", account.leads[0]["id"], newest - 300, 0)
        new = make_event("zz-new", "lead_added", account.leads[0]["id"], newest + 60, 0)
        account.events += [late, new]
        try:
            again = runner.ingest(warehouse, requests_per_second=0)
        finally:
            account.events.remove(late)
            account.events.remove(new)
    window = sum(1 for e in account.events if e["created_at"] >= newest - 600) + 2
    assert again.rows["events"] == window  # only the look-back window and what is new, each once
    got = {r[0] for r in raw(warehouse, "select id from raw_amocrm.events")}
    assert {"zz-late", "zz-new"} <= got and len(got) == len(account.events) + 2


def test_a_failing_resource_stops_only_itself(tmp_path: Path, env, account: DemoAccount) -> None:
    warehouse = tmp_path / "wh.duckdb"
    faults = Faults(failing_paths={"/api/v4/tasks"}, broken_json_path="/api/v4/events", broken_json_from=25)
    with DemoApiServer(account, faults=faults) as server:
        env(server, server.token)
        with pytest.raises(runner.IngestIncomplete) as failure:
            runner.ingest(warehouse, **FAST_RETRY)
        message = str(failure.value)
        assert "tasks:" in message and "events:" in message and "next run" in message
        # every other table loaded in full; events only whole windows (the cursor never passes a gap)
        assert_complete(warehouse, account, [t for t in TABLES if t not in ("tasks", "events")])
        assert raw(warehouse, "select count(*) from raw_amocrm.tasks") == [(0,)]
        loaded = sorted(r[0] for r in raw(warehouse, "select created_at from raw_amocrm.events"))
        oldest = sorted(e["created_at"] for e in account.events)
        assert 0 < len(loaded) < len(oldest) and loaded == oldest[: len(loaded)]
        faults.failing_paths.clear()
        faults.broken_json_path = None  # amoCRM recovers: the next run fetches the rest
        runner.ingest(warehouse, **FAST_RETRY)
    assert_complete(warehouse, account, TABLES)
    assert served(account, "leads")
