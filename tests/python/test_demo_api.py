"""The demo amoCRM API speaks amoCRM API v4 over real HTTP (HAL, paging, 204, filters, auth)."""

from __future__ import annotations

import time

import requests

from ingestion.demo.api import DemoApiServer


def get(server: DemoApiServer, path: str, token: str | None = "default", **params: object) -> requests.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {server.token if token == 'default' else token}"}
    return requests.get(server.base_url + path, params=params, headers=headers, timeout=10)


def test_next_link_keeps_every_value_of_a_repeated_filter(demo_api: DemoApiServer) -> None:
    """`filter[note_type][]` twice: following `_links.next` reads both types, as page numbers do."""
    kinds = ["call_in", "call_out"]
    params = {"filter[note_type][]": kinds, "limit": 50}
    headers = {"Authorization": f"Bearer {demo_api.token}"}
    by_number, page = [], 1
    while (response := requests.get(demo_api.base_url + "/api/v4/leads/notes", params={**params, "page": page},
                                    headers=headers, timeout=10)).status_code == 200:
        by_number += response.json()["_embedded"]["notes"]
        page += 1
    assert page > 2 and {n["note_type"] for n in by_number} == set(kinds)
    by_link, url = [], demo_api.base_url + "/api/v4/leads/notes"
    first = requests.get(url, params=params, headers=headers, timeout=10)
    while first.status_code == 200 and len(by_link) < len(by_number) + 50:
        body = first.json()
        by_link += body["_embedded"]["notes"]
        if "next" not in body["_links"]:
            break
        first = requests.get(body["_links"]["next"]["href"], headers=headers, timeout=10)
    assert [n["id"] for n in by_link] == [n["id"] for n in by_number]


def test_bearer_token_is_required(demo_api: DemoApiServer) -> None:
    for token in (None, "wrong"):
        response = get(demo_api, "/api/v4/leads", token=token)
        assert response.status_code == 401
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.json()["status"] == 401


def test_hal_pages_with_next_links_and_204_past_the_end(demo_api: DemoApiServer) -> None:
    total = len(demo_api.api.account.leads)
    first = get(demo_api, "/api/v4/leads", limit=250)
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("application/hal+json")
    body = first.json()
    assert body["_page"] == 1 and len(body["_embedded"]["leads"]) == min(250, total)
    assert body["_links"]["next"]["href"].startswith(demo_api.base_url) and "page=2" in body["_links"]["next"]["href"]
    seen, page = [], 1
    while True:
        response = get(demo_api, "/api/v4/leads", limit=250, page=page)
        if response.status_code == 204:
            assert response.content == b""
            break
        seen += [lead["id"] for lead in response.json()["_embedded"]["leads"]]
        page += 1
    assert sorted(seen) == sorted(lead["id"] for lead in demo_api.api.account.leads if not lead["is_deleted"])


def test_deleted_leads_are_listed_only_on_request_and_trimmed(demo_api: DemoApiServer) -> None:
    # amoCRM leads-api, `with=only_deleted`: leads still in the trash, with only id, updated_at,
    # updated_by and is_deleted filled in (the other keys come null: amocrm-api-php issue #254)
    deleted = {lead["id"]: lead for lead in demo_api.api.account.leads if lead["is_deleted"]}
    assert deleted
    body = get(demo_api, "/api/v4/leads", limit=250, **{"with": "only_deleted"}).json()
    served = body["_embedded"]["leads"]
    assert sorted(lead["id"] for lead in served) == sorted(deleted)
    for lead in served:
        filled = {k for k, v in lead.items() if v is not None}
        assert filled == {"id", "updated_at", "updated_by", "is_deleted", "account_id"}
        assert lead["is_deleted"] is True and lead["updated_at"] == deleted[lead["id"]]["updated_at"]
        assert lead["pipeline_id"] is None and lead["price"] is None


def test_custom_fields_come_fifty_a_page_whatever_the_limit(demo_api: DemoApiServer) -> None:
    # amoCRM custom-fields: "Метод возвращает до 50 полей за один запрос", paged by _links.next
    total = [f for f in demo_api.api.account.custom_fields if f["entity_type"] == "leads"]
    assert len(total) > 50
    first = get(demo_api, "/api/v4/leads/custom_fields", limit=250).json()
    assert len(first["_embedded"]["custom_fields"]) == 50 and "page=2" in first["_links"]["next"]["href"]
    second = get(demo_api, "/api/v4/leads/custom_fields", limit=250, page=2).json()
    assert len(second["_embedded"]["custom_fields"]) == len(total) - 50 and "next" not in second["_links"]
    assert get(demo_api, "/api/v4/leads/custom_fields", limit=250, page=3).status_code == 204
    for entity in ("leads", "contacts", "companies"):
        fields = get(demo_api, f"/api/v4/{entity}/custom_fields").json()["_embedded"]["custom_fields"]
        assert fields and all(f["entity_type"] == entity for f in fields)
    source = next(f for f in first["_embedded"]["custom_fields"] if f["name"] == "Источник")
    assert source["type"] == "select" and len(source["enums"]) == 5


def test_a_limit_over_the_maximum_falls_back_to_the_default(demo_api: DemoApiServer) -> None:
    # amoCRM caps limit at 250 (events 100) and answers a larger one with the default 50, no error
    for path, limit in (("/api/v4/leads", 251), ("/api/v4/events", 101), ("/api/v4/tasks", 1000)):
        response = get(demo_api, path, limit=limit)
        assert response.status_code == 200
        assert len(next(iter(response.json()["_embedded"].values()))) == 50, path
    events = get(demo_api, "/api/v4/events", limit=100).json()["_embedded"]["events"]
    assert len(events) == 100 and all(isinstance(e["id"], str) for e in events)
    assert len(get(demo_api, "/api/v4/leads", limit=250).json()["_embedded"]["leads"]) == 250


def test_updated_at_filter_and_order(demo_api: DemoApiServer) -> None:
    leads = demo_api.api.account.leads
    cut = sorted(lead["updated_at"] for lead in leads)[len(leads) // 2]
    body = get(demo_api, "/api/v4/leads", limit=250, **{"filter[updated_at][from]": cut,
                                                         "order[updated_at]": "asc"}).json()
    got = [lead["updated_at"] for lead in body["_embedded"]["leads"]]
    assert got == sorted(got) and min(got) >= cut
    assert get(demo_api, "/api/v4/leads", **{"filter[updated_at][from]": 4_000_000_000}).status_code == 204


def test_account_gives_timezone_with_datetime_settings(demo_api: DemoApiServer) -> None:
    plain = get(demo_api, "/api/v4/account").json()
    assert "datetime_settings" not in plain.get("_embedded", {})
    full = get(demo_api, "/api/v4/account", **{"with": "datetime_settings"}).json()
    assert full["_embedded"]["datetime_settings"]["timezone"] == "Europe/Moscow" and full["currency"] == "RUB"


def test_pipelines_have_won_and_lost_in_every_pipeline(demo_api: DemoApiServer) -> None:
    pipelines = get(demo_api, "/api/v4/leads/pipelines").json()["_embedded"]["pipelines"]
    for pipeline in pipelines:
        ids = {s["id"] for s in pipeline["_embedded"]["statuses"]}
        assert {142, 143} <= ids


def test_task_types_come_with_the_account(demo_api: DemoApiServer) -> None:
    # amoCRM account-info, `with=task_types`: built-in 1 (FOLLOW_UP) and 2 (MEETING), then the account's own
    assert "task_types" not in get(demo_api, "/api/v4/account").json().get("_embedded", {})
    types = {t["id"]: t for t in get(demo_api, "/api/v4/account", **{"with": "task_types"}).json()[
        "_embedded"]["task_types"]}
    assert types[1]["code"] == "FOLLOW_UP" and types[2]["code"] == "MEETING"
    own = [t for t in types.values() if t["id"] not in (1, 2)]
    assert [t["name"] for t in own] == ["Звонок"] and own[0]["code"] is None
    used = {t["task_type_id"] for t in demo_api.api.account.tasks}
    assert used <= set(types) and own[0]["id"] in used
    on_contacts = get(demo_api, "/api/v4/tasks", limit=250, **{"filter[entity_type]": "contacts"}).json()
    assert {t["entity_type"] for t in on_contacts["_embedded"]["tasks"]} == {"contacts"}
    assert get(demo_api, "/api/v4/tasks", **{"order[updated_at]": "asc"}).status_code == 400  # not sortable


def _open_leads(account, card: str, card_id: int, at: int) -> list[int]:
    key = "contacts" if card == "contacts" else "companies"
    return [lead["id"] for lead in account.leads
            if any(c["id"] == card_id for c in lead["_embedded"][key])
            and lead["created_at"] <= at and (lead["closed_at"] is None or lead["closed_at"] > at)
            and not (lead["is_deleted"] and lead["updated_at"] <= at)]


def test_calls_sit_on_contact_and_company_cards_by_the_calls_api_rule(demo_api: DemoApiServer) -> None:
    # amoCRM calls API: a call goes on the lead when the contact/company found by phone has exactly
    # one open lead; otherwise (none, or several) on the contact or company card itself
    account = demo_api.api.account
    for card in ("contacts", "companies"):
        notes, page = [], 1
        while (response := get(demo_api, f"/api/v4/{card}/notes", limit=250, page=page,
                               **{"filter[note_type][]": ["call_in", "call_out"]})).status_code == 200:
            notes += response.json()["_embedded"]["notes"]
            page += 1
        assert notes, card
        for note in notes:
            assert len(_open_leads(account, card, note["entity_id"], note["created_at"])) != 1
    # a call event follows its note to the card
    on_contact = account.contact_notes[0]
    event = next(e for e in account.events if e["value_after"] == [{"note": {"id": on_contact["id"]}}])
    found = get(demo_api, "/api/v4/events", **{"filter[entity]": "contact", "filter[entity_id][]": on_contact[
        "entity_id"], "filter[type]": event["type"]}).json()["_embedded"]["events"]
    assert event["id"] in {e["id"] for e in found} and {e["entity_type"] for e in found} == {"contact"}
    single = get(demo_api, f"/api/v4/contacts/{on_contact['entity_id']}/notes").json()["_embedded"]["notes"]
    assert on_contact["id"] in {n["id"] for n in single}


def test_events_come_newest_first_and_ignore_order(demo_api: DemoApiServer) -> None:
    # amoCRM events list documents no `order` parameter; the list comes newest first
    for params in ({}, {"order[created_at]": "asc"}):
        events = get(demo_api, "/api/v4/events", limit=100, **params).json()["_embedded"]["events"]
        stamps = [e["created_at"] for e in events]
        assert stamps == sorted(stamps, reverse=True)
    newest = max(e["created_at"] for e in demo_api.api.account.events)
    assert stamps[0] == newest


def test_filters(demo_api: DemoApiServer) -> None:
    account = demo_api.api.account
    live = [lead for lead in account.leads if not lead["is_deleted"]]
    ids = [live[0]["id"], live[5]["id"]]
    # filter[id] as one value or an array
    assert [x["id"] for x in get(demo_api, "/api/v4/leads", **{"filter[id]": ids[0]}).json()["_embedded"][
        "leads"]] == ids[:1]
    assert sorted(x["id"] for x in get(demo_api, "/api/v4/leads", **{"filter[id][]": ids}).json()["_embedded"][
        "leads"]) == sorted(ids)
    # filter[pipeline_id] and filter[statuses][0][pipeline_id]/[status_id]
    lead = live[0]
    by_pipeline = get(demo_api, "/api/v4/leads", limit=250, **{"filter[pipeline_id]": lead["pipeline_id"]}).json()
    assert {x["pipeline_id"] for x in by_pipeline["_embedded"]["leads"]} == {lead["pipeline_id"]}
    by_status = get(demo_api, "/api/v4/leads", limit=250, **{
        "filter[statuses][0][pipeline_id]": lead["pipeline_id"], "filter[statuses][0][status_id]": lead["status_id"]})
    pairs = {(x["pipeline_id"], x["status_id"]) for x in by_status.json()["_embedded"]["leads"]}
    assert pairs == {(lead["pipeline_id"], lead["status_id"])}
    # filter[updated_at]=<ts> alone means "from ts"
    cut = sorted(x["updated_at"] for x in live)[len(live) // 2]
    bare = get(demo_api, "/api/v4/leads", limit=250, **{"filter[updated_at]": cut, "order[updated_at]": "asc"})
    assert min(x["updated_at"] for x in bare.json()["_embedded"]["leads"]) >= cut
    assert bare.json()["_embedded"]["leads"][0]["updated_at"] == min(x["updated_at"] for x in live
                                                                     if x["updated_at"] >= cut)
    # events: filter[created_at]=<ts> means "from ts"; filter[entity] + filter[entity_id]
    stamp = sorted(e["created_at"] for e in account.events)[-10]
    recent = get(demo_api, "/api/v4/events", limit=100, **{"filter[created_at]": stamp}).json()["_embedded"]["events"]
    assert len(recent) == sum(e["created_at"] >= stamp for e in account.events)
    of_lead = get(demo_api, "/api/v4/events", limit=100, **{"filter[entity]": "lead",
                                                            "filter[entity_id][]": lead["id"]}).json()
    assert {e["entity_id"] for e in of_lead["_embedded"]["events"]} == {lead["id"]}
    assert get(demo_api, "/api/v4/events", **{"filter[entity_id][]": lead["id"]}).status_code == 400


def test_single_record_routes(demo_api: DemoApiServer) -> None:
    account = demo_api.api.account
    lead = next(x for x in account.leads if not x["is_deleted"])
    assert get(demo_api, f"/api/v4/leads/{lead['id']}").json()["id"] == lead["id"]
    assert get(demo_api, f"/api/v4/contacts/{account.contacts[0]['id']}").json()["name"] == account.contacts[0][
        "name"]
    assert get(demo_api, f"/api/v4/tasks/{account.tasks[0]['id']}").json()["id"] == account.tasks[0]["id"]
    assert get(demo_api, f"/api/v4/events/{account.events[0]['id']}").json()["type"] == account.events[0]["type"]
    assert get(demo_api, f"/api/v4/leads/notes/{account.notes[0]['id']}").json()["id"] == account.notes[0]["id"]
    pipeline = account.pipelines[0]
    assert get(demo_api, f"/api/v4/leads/pipelines/{pipeline['id']}").json()["name"] == pipeline["name"]
    missing = get(demo_api, "/api/v4/leads/1")
    assert missing.status_code == 204 and missing.content == b""  # amoCRM: 204 for a record that is not there


def test_a_429_storm_blocks_for_a_while_not_forever(small_demo_account) -> None:
    from ingestion.demo.faults import Faults

    # amoCRM answers overruns with a bare 429 and, after repeated ones, a 403 HTML page for every
    # request until the block is lifted; the demo lifts it after block_seconds
    faults = Faults(forced_429_requests={1, 2, 3}, block_after_429s=3, block_seconds=0.3)
    with DemoApiServer(small_demo_account, faults=faults) as server:
        answers = [get(server, "/api/v4/account") for _ in range(4)]
        assert [a.status_code for a in answers] == [429, 429, 429, 403]
        assert answers[0].content == b"" and "Retry-After" not in answers[0].headers
        assert answers[3].headers["Content-Type"].startswith("text/html") and faults.blocks == 1
        time.sleep(0.4)  # a lower bound only: the block has surely run out after it
        assert get(server, "/api/v4/account").status_code == 200 and not faults.blocked
