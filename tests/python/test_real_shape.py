"""Real-shape test: records written after the amoCRM API v4 documentation examples
(tests/python/fixtures/amocrm, loaded by real_shape.py) served over HTTP by the demo API with list
pages that carry no `_page`, ingested once, built once; the raw tables and the mart figures,
computed by hand below, asserted.

What the fixtures hold that hand-built test accounts do not: every custom-field type (60 lead
fields, over two 50-field pages; exactly 50 contact fields, so that listing ends on a full page
that still links `next` and is followed by a 204), lead custom_fields_values with a value of every
type and null on other leads, `_embedded.loss_reason` as an array (L2) and as an object (L3),
tags, documented event value shapes (lead_added points at a note, not at a status), events the
marts do not read (filtered out by the source), a common note beside the call notes, call notes on
lead, contact and company cards, `call_responsible` as a user id and as a user name, tasks of
built-in and custom types on leads, contacts and nothing, and a deleted lead known only as
`with=only_deleted` shows it.

Account timezone Europe/Moscow; every time below is Moscow time in February 2026.
Users: D = Дарья Климова 9284101, T = Тимур Гайнуллин 9284102, V = Вера Ланская 9284103, admin
Светлана Орехова 9284011. Pipeline «Основная воронка»: Неразобранное (unsorted) → Первичный
контакт → Переговоры → Принимают решение → 142 won / 143 lost. Contacts K1 (L1's and L2's), K2
(L3's), K3; company C1 (L4's).

  L1 (D) created 02-02 10:00; outgoing call on its card 10:12 (95 s, talked) = first response
         12 min; won 02-10 15:00, price 240 000. Also an incoming call 02-03 16:00 (40 s, status 2
         "call back later": not connected), a meeting completed 02-06 15:00, a completed task of
         the account's «Отправить КП» type (no role), a common note (never loaded).
  L2 (D) created 02-04 09:00; a «Связаться» (FOLLOW_UP) task completed 09:45 = first response
         45 min; lost 02-06 18:00, loss reason «Дорого» served as an array.
  K1     D's outgoing call on K1's card 02-05 12:00 (240 s, talked): the note's responsible user
         is T, its call_responsible names «Дарья Климова», so it is D's; K1 then had two open
         leads (L1, L2), so it belongs to no lead. Its event is deduplicated with the note.
  L7 (V) created 02-05 10:00; outgoing call 10:30 (60 s, talked) = first response 30 min;
         deleted 12:00 and restored 12:30 (events): open, not deleted.
  L3 (T) created 02-09 11:00; incoming call on K2's card 11:30 (300 s, talked; K2's single open
         lead is L3); a task of the custom «Звонок» type completed 12:10 = first response 70 min
         (the outgoing call 13:00, 0 s, status 6, comes later); meetings: two on K2's card on
         02-11 (one card, one day: counted once) and one on L3 02-12; lost 02-13 17:00, loss
         reason «Выбрали конкурента» served as an object.
  L4     created 02-16 10:00 by T (responsible T); outgoing call on C1's card 10:08 (180 s,
         talked; C1's single open lead is L4) = first response 8 min; the admin hands it to V
         02-18 09:00; an outgoing call known only from its event 02-19 10:00 (V); won 02-20
         14:00, price 180 000: new lead of T, won deal of V.
  L8 (V) created 02-01 00:30 Moscow (01-31 21:30 UTC) by a web form: February; no response.
  L5 (D) created 02-25 15:00; incoming call 15:05 (45 s, talked) written by the admin, its
         call_responsible is D's user id: D's call; no outgoing contact, no first response.
  L6     created 02-20, deleted 02-21 09:00 before any load: only its trimmed trash record.
  Tasks on nothing: a completed «Связаться» of D (no card: no response), a meeting of V
         completed 02-19 14:00 (counts); an open meeting on L4 and an open «Звонок» on K1 (none).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from real_shape import load

from ingestion.amocrm import EVENT_TYPES

D, T, V, ADMIN = 9_284_101, 9_284_102, 9_284_103, 9_284_011
L1, L2, L3, L4, L5, L6, L7, L8 = (22_515_001, 22_515_002, 22_515_003, 22_515_004, 22_515_005, 22_515_006,
                                  22_515_007, 22_515_008)
MSK = ZoneInfo("Europe/Moscow")
FEBRUARY = date(2026, 2, 1)
ALL_FIELD_TYPES = {
    "text", "numeric", "checkbox", "select", "multiselect", "multitext", "date", "url", "textarea", "radiobutton",
    "streetaddress", "smart_address", "birthday", "legal_entity", "date_time", "price", "category", "items",
    "tracking_data", "linked_entity", "chained_list", "monetary", "file", "payer", "supplier", "org_legal_name",
}


def msk(month: int, day: int, hour: int, minute: int = 0) -> int:
    return int(datetime(2026, month, day, hour, minute, tzinfo=MSK).timestamp())


@pytest.fixture(scope="module")
def built(known_answer_build):
    """The fixture account's view of the shared known-answer warehouse (conftest.known_answer_build):
    one ingest over HTTP with list pages without `_page`, then the shared dbt build."""
    view = known_answer_build.view(load("account")["id"])
    yield known_answer_build.real_shape, view
    view.con.close()


@pytest.fixture(scope="module")
def con(built):
    return built[1]


def rows(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def ids(con, table: str) -> list:
    return sorted(r[0] for r in con.execute(f"select id from raw_amocrm.{table}").fetchall())


def test_paging_as_amocrm_does_it(built) -> None:
    shape, _ = built
    lists = [r for r in shape.log if r.status == 200 and r.path != "/api/v4/account"
             and r.path != "/api/v4/leads/pipelines"]
    assert lists and not any(r.numbered for r in lists)  # no list page carried `_page`

    def pages(path: str) -> list[tuple[int, int, int, bool]]:
        return [(r.page, r.status, r.records, r.has_next) for r in shape.listing(path)]

    # contact fields: exactly 50; custom fields come 50 a page whatever `limit` says, so the first
    # page is full and links `next`, and the source follows it to a 204
    assert pages("/api/v4/contacts/custom_fields") == [(1, 200, 50, True), (2, 204, 0, False)]
    # lead fields: 60 = a full page of 50 linking the next one, then 10 and no link
    assert pages("/api/v4/leads/custom_fields") == [(1, 200, 50, True), (2, 200, 10, False)]
    # the source reads events in created_at windows: the windows holding none answer 204
    events = shape.listing("/api/v4/events")
    assert sum(r.records for r in events) == len(load("events_read_by_marts"))
    assert any(r.status == 204 for r in events)


def test_raw_tables_hold_exactly_the_fixture_records(con) -> None:
    account = load("account")
    assert ids(con, "account") == [account["id"]]
    assert ids(con, "task_types") == sorted(t["id"] for t in account["_embedded"]["task_types"])
    for table, fixture in [("users", "users"), ("pipelines", "pipelines"), ("loss_reasons", "loss_reasons"),
                           ("leads", "leads"), ("contacts", "contacts"), ("companies", "companies"),
                           ("tasks", "tasks")]:
        assert ids(con, table) == sorted(r["id"] for r in load(fixture)), table
    statuses = con.execute("select pipeline_id, id from raw_amocrm.statuses order by 1, 2").fetchall()
    assert statuses == sorted((p["id"], s["id"]) for p in load("pipelines") for s in p["_embedded"]["statuses"])
    # all 60 lead fields (two pages), 50 contact and 4 company fields
    fields = con.execute("select entity_type, id from raw_amocrm.custom_fields order by 1, 2").fetchall()
    expected = [(entity, f["id"]) for entity in ("leads", "contacts", "companies")
                for f in load(f"custom_fields_{entity}")]
    assert fields == sorted(expected)
    assert sum(1 for entity, _ in fields if entity == "leads") == 60
    assert {f["type"] for f in load("custom_fields_leads")} == ALL_FIELD_TYPES
    # call notes of the three card types; the common note is not asked for, so not loaded
    notes = con.execute("select id, entity_type, note_type from raw_amocrm.notes order by id").fetchall()
    expected_notes = [(n["id"], card, n["note_type"]) for card in ("leads", "contacts", "companies")
                      for n in load(f"notes_{card}") if n["note_type"] in ("call_in", "call_out")]
    assert notes == sorted(expected_notes) and len(notes) == 8
    assert any(n["note_type"] == "common" for n in load("notes_leads"))
    responsible = dict(con.execute("select id, params__call_responsible from raw_amocrm.notes").fetchall())
    assert responsible[81_000_003] == "Дарья Климова" and responsible[81_000_008] == str(D)
    # events: the types the marts read; the others are filtered out by the request
    read, other = load("events_read_by_marts"), load("events_not_read")
    assert {e["type"] for e in read} <= set(EVENT_TYPES)
    assert not {e["type"] for e in other} & set(EVENT_TYPES)
    assert ids(con, "events") == sorted(e["id"] for e in read)
    # the trash: what `with=only_deleted` keeps of L6
    assert con.execute("select id, updated_at, updated_by, is_deleted from raw_amocrm.deleted_leads").fetchall() == [
        (L6, msk(2, 21, 9), D, True)]
    assert con.execute("select count(*) from raw_amocrm.quarantine").fetchone() == (0,)


def test_lead_shapes_reach_staging(con) -> None:
    # both loss reason variants are stored as amoCRM served them; staging reads loss_reason_id
    shapes = dict(con.execute("""
        select id, json_type(_embedded -> 'loss_reason') from raw_amocrm.leads where id in (22515002, 22515003)
    """).fetchall())
    assert shapes == {L2: "ARRAY", L3: "OBJECT"}
    reasons = dict(con.execute("""
        select lead_id, loss_reason_id from staging.stg_amocrm__leads where loss_reason_id is not null""").fetchall())
    assert reasons == {L2: 9_301, L3: 9_302}
    # L1 carries a value of every field type; L2, L5 and L7 carry none (custom_fields_values null)
    types = {r[0] for r in con.execute("""
        select custom_field_type from staging.stg_amocrm__lead_custom_field_values
        where lead_id = 22515001""").fetchall()}
    assert types == ALL_FIELD_TYPES
    with_values = {r[0] for r in con.execute(
        "select distinct lead_id from staging.stg_amocrm__lead_custom_field_values").fetchall()}
    assert with_values == {L1, L3, L4, L8}
    tags = con.execute("select lead_id, tag_name from staging.stg_amocrm__lead_tags order by 1, 2").fetchall()
    assert tags == [(L1, "Казань"), (L1, "опт"), (L4, "опт"), (L4, "повторный")]


def test_calls_are_placed_and_attributed(con) -> None:
    calls = {r["call_key"]: r for r in rows(con, "select * from intermediate.int_calls_deduplicated")}
    # 8 notes + the event-only call; the 5 events with a note are the same calls as their notes
    assert len(calls) == 9 and calls["81000099"]["call_source"] == "event"
    assert (calls["81000003"]["manager_id"], calls["81000003"]["lead_id"]) == (D, None)  # by name; two open leads
    assert calls["81000008"]["manager_id"] == D  # call_responsible by user id, though the admin wrote it
    assert calls["81000004"]["lead_id"] == L3 and calls["81000006"]["lead_id"] == L4  # single open lead


def test_manager_kpis_for_february(con) -> None:
    got = {r["manager_id"]: r for r in rows(con, """
        select * from marts.mart_manager_kpi_monthly where month_start = date '2026-02-01'""")}
    assert set(got) == {D, T, V}  # the admin is nobody's manager
    d, t, v = got[D], got[T], got[V]

    # D's calls: L1 out 95 s talked; L1 in 40 s status 2; K1 out 240 s talked (named by name);
    # L5 in 45 s talked (named by id) -> 4 calls, 2 out, 2 in, 3 connected;
    # avg minutes of connected calls = (95 + 240 + 45) / 60 / 3 = 380 / 180 = 2.111...
    assert (d["calls_count"], d["calls_outgoing_count"], d["calls_incoming_count"]) == (4, 2, 2)
    assert d["calls_connected_count"] == 3 and d["avg_call_minutes"] == pytest.approx(380 / 180)
    # T's calls: K2 in 300 s talked; L3 out 0 s status 6; C1 out 180 s talked
    # -> 3 calls, 2 out, 1 in, 2 connected; (300 + 180) / 60 / 2 = 4.0
    assert (t["calls_count"], t["calls_outgoing_count"], t["calls_incoming_count"]) == (3, 2, 1)
    assert t["calls_connected_count"] == 2 and t["avg_call_minutes"] == pytest.approx(4.0)
    # V's calls: L7 out 60 s talked; L4 out known only from its event (no duration, no status)
    # -> 2 calls, 2 out, 0 in, 1 connected; 60 / 60 / 1 = 1.0
    assert (v["calls_count"], v["calls_outgoing_count"], v["calls_incoming_count"]) == (2, 2, 0)
    assert v["calls_connected_count"] == 1 and v["avg_call_minutes"] == pytest.approx(1.0)

    # meetings: D 1 (L1 02-06); T 1 (K2 02-11, two tasks, one card and day) + 1 (L3 02-12) = 2;
    # V 1 (the task on nothing 02-19; the open one on L4 is not done)
    assert (d["meetings_count"], t["meetings_count"], v["meetings_count"]) == (1, 2, 1)

    # new leads by the manager at creation: D L1, L2, L5 = 3; T L3, L4 = 2; V L7, L8 = 2 (L6 deleted)
    assert (d["new_leads_count"], t["new_leads_count"], v["new_leads_count"]) == (3, 2, 2)
    # closed by the manager responsible at closing: D won L1, lost L2; T lost L3; V won L4
    assert (d["deals_won_count"], d["deals_lost_count"]) == (1, 1)
    assert (t["deals_won_count"], t["deals_lost_count"]) == (0, 1)
    assert (v["deals_won_count"], v["deals_lost_count"]) == (1, 0)
    assert (d["revenue_amount"], t["revenue_amount"], v["revenue_amount"]) == (240_000, 0, 180_000)

    # first response medians over each manager's new leads that got one:
    # D: L1 12, L2 45 (L5 none) -> (12 + 45) / 2 = 28.5; T: L3 70, L4 8 -> (8 + 70) / 2 = 39;
    # V: L7 30 (L8 none) -> 30
    assert d["first_response_minutes_median"] == pytest.approx(28.5)
    assert t["first_response_minutes_median"] == pytest.approx(39.0)
    assert v["first_response_minutes_median"] == pytest.approx(30.0)


def test_fct_leads(con) -> None:
    got = {r["lead_id"]: r for r in rows(con, "select * from marts.fct_leads")}
    # L6 was deleted before it was ever loaded: the trash keeps only its id, so it has no row
    assert sorted(got) == [L1, L2, L3, L4, L5, L7, L8]
    assert not any(r["is_deleted"] for r in got.values())  # L7 was deleted, then restored
    assert (got[L2]["is_lost"], got[L2]["loss_reason_name"]) == (True, "Дорого")  # the array variant
    assert (got[L3]["is_lost"], got[L3]["loss_reason_name"]) == (True, "Выбрали конкурента")  # the object variant
    assert [got[i]["loss_reason_name"] for i in (L1, L4, L5, L7, L8)] == [None] * 5
    minutes = {i: got[i]["first_response_minutes"] for i in got}
    assert minutes == {L1: 12.0, L2: 45.0, L3: 70.0, L4: 8.0, L5: None, L7: 30.0, L8: None}
    assert (got[L4]["manager_at_creation_id"], got[L4]["manager_at_close_id"]) == (T, V)
    assert all(r["created_month_start"] == FEBRUARY for r in got.values())  # L8: 01-31 21:30 UTC
