"""The scalable demo account: served exactly as the list API serves the same records, a page costs
the same whatever the account's size, and `change()` edits the share asked, which an incremental
ingest then loads exactly."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import requests

from ingestion.demo.api import DemoApiServer
from ingestion.demo.scalable import NOTE_CARDS, ScalableAccount, as_demo_account, event_id, event_number
from ingestion.pipeline import runner


@pytest.fixture(scope="module")
def small() -> ScalableAccount:
    return ScalableAccount.generate(leads=600, seed=3)


def get(server: DemoApiServer, path: str, **params: object) -> requests.Response:
    return requests.get(server.base_url + path, params=params, timeout=10,
                        headers={"Authorization": f"Bearer {server.token}"})


def queries(account: ScalableAccount) -> list[tuple[str, dict]]:
    leads, events, notes, tasks = (account.leads.cols, account.events.cols, account.notes.cols, account.tasks.cols)
    live = [int(i) for i, d in zip(leads["id"], leads["is_deleted"], strict=True) if not d][:3]
    deleted = int(leads["id"][leads["is_deleted"] == 1][0])
    cut = int(sorted(leads["updated_at"])[len(leads["id"]) // 2])
    stamp = int(sorted(events["created_at"])[len(events["id"]) // 3])
    on_contact = next(int(n) for n, c in zip(notes["entity_id"], notes["card"], strict=True)
                      if NOTE_CARDS[c] == "contacts")
    return [
        ("/api/v4/leads", {}), ("/api/v4/leads", {"limit": 250, "page": 2}), ("/api/v4/leads", {"limit": 400}),
        ("/api/v4/leads", {"page": 99}),
        ("/api/v4/leads", {"filter[updated_at][from]": cut, "order[updated_at]": "asc", "limit": 250}),
        ("/api/v4/leads", {"filter[updated_at][from]": cut, "order[updated_at]": "desc", "page": 2}),
        ("/api/v4/leads", {"filter[updated_at]": f"{cut - 86400},{cut}"}),
        ("/api/v4/leads", {"order[created_at]": "desc", "with": "contacts,loss_reason", "limit": 100}),
        ("/api/v4/leads", {"filter[id][]": live + [deleted]}), ("/api/v4/leads", {"filter[pipeline_id]": 8_100_002}),
        ("/api/v4/leads", {"filter[statuses][0][pipeline_id]": 8_100_001, "filter[statuses][0][status_id]": 142,
                           "filter[statuses][1][pipeline_id]": 8_100_002, "filter[statuses][1][status_id]": 143}),
        ("/api/v4/leads", {"with": "only_deleted", "filter[updated_at][from]": 0, "order[updated_at]": "asc"}),
        ("/api/v4/leads", {"order[price]": "asc"}),
        ("/api/v4/contacts", {"with": "companies", "filter[updated_at][from]": cut, "order[updated_at]": "asc"}),
        ("/api/v4/companies", {"order[id]": "desc", "limit": 250}),
        ("/api/v4/leads/notes", {"filter[note_type][]": ["call_in", "call_out"], "filter[updated_at][from]": cut,
                                 "order[updated_at]": "asc", "limit": 250}),
        ("/api/v4/contacts/notes", {"filter[note_type]": "call_in", "limit": 250}),
        ("/api/v4/companies/notes", {}), (f"/api/v4/contacts/{on_contact}/notes", {}),
        ("/api/v4/tasks", {"filter[updated_at][from]": cut, "limit": 250, "page": 2}),
        ("/api/v4/tasks", {"order[complete_till]": "desc", "filter[task_type]": 2}),
        ("/api/v4/tasks", {"filter[entity_type]": "contacts"}), ("/api/v4/tasks", {"order[updated_at]": "asc"}),
        ("/api/v4/events", {"limit": 100, "page": 3}),
        ("/api/v4/events", {"filter[type]": "lead_status_changed,outgoing_call", "filter[created_at][from]": stamp,
                            "filter[created_at][to]": stamp + 7 * 86400, "limit": 100, "page": 2}),
        ("/api/v4/events", {"filter[created_at]": stamp, "order[created_at]": "asc"}),
        ("/api/v4/events", {"filter[entity]": "contact", "filter[entity_id][]": on_contact}),
        ("/api/v4/events", {"filter[id][]": [event_id(5), event_id(9), "nonsense"]}),
        ("/api/v4/events", {"filter[created_by]": 7_000_104, "filter[entity]": "leads"}),
        ("/api/v4/events", {"filter[entity_id][]": live[0]}),
        (f"/api/v4/leads/{live[0]}", {"with": "contacts"}), (f"/api/v4/leads/{deleted}", {}), ("/api/v4/leads/1", {}),
        (f"/api/v4/contacts/{int(account.contacts.cols['id'][4])}", {}),
        (f"/api/v4/tasks/{int(tasks['id'][7])}", {}), (f"/api/v4/events/{event_id(11)}", {}),
        (f"/api/v4/leads/notes/{int(notes['id'][2])}", {}),
    ]


def test_served_exactly_as_the_list_api_serves_the_same_records(small: ScalableAccount) -> None:
    assert event_number(event_id(12_345)) == 12_345
    with DemoApiServer(small) as columnar, DemoApiServer(as_demo_account(small)) as lists:
        for path, params in queries(small):
            ours, theirs = get(columnar, path, **params), get(lists, path, **params)
            assert ours.status_code == theirs.status_code, (path, params)
            assert ours.text.replace(columnar.base_url, "") == theirs.text.replace(lists.base_url, ""), (path, params)


def test_a_page_builds_only_its_records_whatever_the_size() -> None:
    for leads in (500, 2_000):
        account = ScalableAccount.generate(leads=leads, seed=5)
        with DemoApiServer(account) as server:
            touched = []
            for path, key, params in (("/api/v4/leads", "leads", {"order[updated_at]": "asc"}),
                                      ("/api/v4/events", "events",
                                       {"filter[created_at][from]": account.end - 86400 * 200})):
                table = getattr(account, key)
                for page in (1, 2, 3):
                    before, built = table.touched, server.api.selections_built
                    body = get(server, path, page=page, limit=50 if key == "events" else 100, **params).json()
                    touched.append(table.touched - before)
                    assert len(body["_embedded"][key]) == touched[-1]
                    if page > 1:  # the listing's selection is reused: no record outside the page is looked at
                        assert server.api.selections_built == built
        assert touched == [100, 100, 100, 50, 50, 50], leads


def test_a_change_edits_the_share_asked_and_an_incremental_ingest_loads_exactly_it(tmp_path: Path, env) -> None:
    account = ScalableAccount.generate(leads=400, seed=11)
    live_before = int((account.leads.cols["is_deleted"] == 0).sum())
    warehouse = tmp_path / "wh.duckdb"
    with DemoApiServer(account) as server:
        env(server, server.token)
        runner.ingest(warehouse, requests_per_second=0, lookback_seconds=0)
        answer = requests.post(server.base_url + "/demo/change", json={"percent": 5, "seed": 2}, timeout=30,
                               headers={"Authorization": f"Bearer {server.token}"})
        assert answer.status_code == 200
        done = answer.json()
        assert sum(done[k] for k in ("edited", "moved", "created", "deleted")) == round(live_before * 5 / 100)
        assert min(done["edited"], done["moved"], done["created"], done["deleted"]) >= 1
        second = runner.ingest(warehouse, requests_per_second=0, lookback_seconds=0)
    assert second.rows.get("leads") == done["edited"] + done["moved"] + done["created"]
    assert second.rows.get("deleted_leads") == done["deleted"]
    assert second.rows.get("contacts") == done["created"]
    assert second.rows.get("events") == done["moved"] + done["deleted"] + done["created"]
    assert not second.rows.get("tasks") and not second.rows.get("notes")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw_amocrm.leads").fetchone() == (live_before + done["created"],)
        assert con.execute("select count(*) from raw_amocrm.leads where updated_at >= ?",
                           [done["at"]]).fetchone() == (done["edited"] + done["moved"] + done["created"],)
