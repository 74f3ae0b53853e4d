"""The demo amoCRM API speaks amoCRM API v4 over real HTTP (HAL, paging, 204, filters, auth)."""

from __future__ import annotations

import requests

from ingestion.demo_api import DemoApiServer


def get(server: DemoApiServer, path: str, token: str | None = "default", **params: object) -> requests.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {server.token if token == 'default' else token}"}
    return requests.get(server.base_url + path, params=params, headers=headers, timeout=10)


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


def test_deleted_leads_are_listed_only_on_request(demo_api: DemoApiServer) -> None:
    deleted = sorted(lead["id"] for lead in demo_api.api.account.leads if lead["is_deleted"])
    assert deleted
    body = get(demo_api, "/api/v4/leads", limit=250, **{"with": "only_deleted"}).json()
    assert sorted(lead["id"] for lead in body["_embedded"]["leads"]) == deleted
    assert all(lead["is_deleted"] for lead in body["_embedded"]["leads"])


def test_custom_field_definitions_per_entity(demo_api: DemoApiServer) -> None:
    for entity in ("leads", "contacts", "companies"):
        fields = get(demo_api, f"/api/v4/{entity}/custom_fields").json()["_embedded"]["custom_fields"]
        assert fields and all(f["entity_type"] == entity for f in fields)
    (source,) = get(demo_api, "/api/v4/leads/custom_fields").json()["_embedded"]["custom_fields"]
    assert source["type"] == "select" and len(source["enums"]) == 5


def test_limits_are_enforced(demo_api: DemoApiServer) -> None:
    assert get(demo_api, "/api/v4/leads", limit=251).status_code == 400
    assert get(demo_api, "/api/v4/events", limit=101).status_code == 400
    events = get(demo_api, "/api/v4/events", limit=100).json()["_embedded"]["events"]
    assert len(events) == 100 and all(isinstance(e["id"], str) for e in events)


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
