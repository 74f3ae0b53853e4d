"""The generated demo account is deterministic and has the shape the product promises."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from ingestion.demo.account import PLANTED, generate_account


def test_generator_is_deterministic_and_seed_sensitive() -> None:
    a, b = generate_account(seed=3, leads_per_month=30), generate_account(seed=3, leads_per_month=30)
    assert a.leads == b.leads and a.events == b.events and a.notes == b.notes
    assert generate_account(seed=4, leads_per_month=30).leads != a.leads


def test_account_shape() -> None:
    acc = generate_account()
    assert acc.account["currency"] == "RUB"
    assert acc.account["_embedded"]["datetime_settings"]["timezone"] == "Europe/Moscow"
    assert len(acc.pipelines) >= 2
    for pipeline in acc.pipelines:
        working = [s for s in pipeline["_embedded"]["statuses"] if s["id"] not in (142, 143)]
        assert len(working) >= 6
    managers = [u for u in acc.users if u["rights"]["group_id"]]
    assert len(managers) >= 8
    assert len({u["rights"]["group_id"] for u in managers}) >= 2
    roles = {u["_embedded"]["roles"][0]["name"] for u in managers}
    assert {"Менеджер", "Старший менеджер"} <= roles
    tz = ZoneInfo("Europe/Moscow")
    months = {datetime.fromtimestamp(lead["created_at"], tz).strftime("%Y-%m") for lead in acc.leads}
    assert len(months) == 12
    statuses = Counter(lead["status_id"] for lead in acc.leads)
    assert statuses[142] > 100 and statuses[143] > 100
    lost = [lead for lead in acc.leads if lead["status_id"] == 143]
    assert all(lead["loss_reason_id"] for lead in lost)
    kinds = Counter(e["type"] for e in acc.events)
    assert kinds["lead_status_changed"] > len(acc.leads) and kinds["outgoing_call"] > 0
    assert {n["note_type"] for n in acc.notes} == {"call_in", "call_out"}
    assert any(t["task_type_id"] == 2 and t["is_completed"] for t in acc.tasks)
    # repeat customers: some contacts are linked to more than one lead
    links = Counter(c["id"] for lead in acc.leads for c in lead["_embedded"]["contacts"])
    assert sum(1 for n in links.values() if n >= 2) > 50


def test_planted_patterns_are_in_the_raw_data() -> None:
    acc = generate_account()
    busy, slow = PLANTED["busy_unproductive_manager_id"], PLANTED["slow_responder_manager_id"]
    calls = Counter(n["responsible_user_id"] for n in acc.notes)
    won = Counter(lead["responsible_user_id"] for lead in acc.leads if lead["status_id"] == 142)
    calls_per_win = {m: calls[m] / max(won[m], 1) for m in calls}
    assert max(calls_per_win, key=calls_per_win.get) == busy
    assert calls[busy] == max(calls.values())
    assert slow in calls  # the slow responder's delay is checked on the marts (test_demo_marts.py)
