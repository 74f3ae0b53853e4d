"""Known-answer test: a hand-written account whose KPIs were computed by hand (see the comments),
served by the demo API over HTTP, ingested by the dlt source, built by dbt; every figure asserted.

Account timezone Europe/Moscow (UTC+3). Pipeline 100: Incoming leads (1001) → Initial contact
(1002) → Qualification (1003) → Offer made (1004) → won 142 / lost 143. Manager A = 11, B = 12.

  L1 (A) created 03-02 10:00 in Initial contact; outgoing call 10:05 (120 s, talked) = first
         response 5 min; Qualification 14:00 (processing 4 h); Offer made 03-04 10:00; won
         03-06 10:00, price 100 000 (time to close 03-02 14:00 → 03-06 10:00 = 3 d 20 h).
         Also an incoming call 03-03 12:00 (300 s, talked) and a meeting completed 03-04 12:00.
  L2 (A) created 03-03 09:00 in Incoming leads; outgoing call 09:30 (no answer) = first
         response 30 min; Initial contact 09:40; lost 03-05 12:00 (reason "Дорого").
  L3 (B) created 03-10 11:00 in Initial contact; call task completed 11:20 = first response
         20 min; Qualification 03-11 11:00 (24 h); two meetings completed 03-12 15:00 and 17:00
         (one lead, one day: counts once); Offer made 03-13 11:00; an outgoing call known only
         from its event 03-15 10:00; won 03-20 12:00, price 50 000 (9 d 1 h to close).
  L5 (A) created 03-20 10:00 in Initial contact, deleted 03-21 10:00 (junk): in the warehouse as
         a deleted lead, in no KPI and not in the funnel.
  L4 (B) created 04-01 01:30 Moscow = 03-31 22:30 UTC — April in the account timezone — in
         Incoming leads; an incoming call (60 s, talked) 10 minutes later; still open; edited
         04-02 01:30, which is the snapshot time (the newest update).

What a real account adds (calls and tasks on contact and company cards, the account's own task
types, deletions seen only in amoCRM's trash listing):
  C1     a contact of both L1 and L2. An outgoing call on C1's card 03-04 15:00 (240 s, talked):
         two open leads, so amoCRM put it on the contact; the note's call_responsible names «Анна»
         though its responsible user is B, so it is A's call, with no lead. A meeting task on C1
         completed 03-04 12:00 by A: another card than L1's meeting at the same time, so it counts.
  CO1    L3's company. An incoming call on CO1's card 03-16 10:00 (60 s, talked) by B: the
         company's single open lead is L3, so it is B's call on L3.
  L3's first response is a completed task of the account's own type 777 «Звонок» (call role).
  L5 was deleted before the first load: amoCRM lists it only trimmed in the trash (`only_deleted`),
         so the warehouse knows its id and nothing else; it is in no lead table.
  L6 (B) created 03-25 10:00 in Initial contact, loaded by a first run, then deleted 03-26 10:00
         with no event the source reads: the second run sees it only in the trash listing, so it
         is a deleted lead, in no KPI (B's new leads stay 1).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from ingestion.demo.account import (
    DemoAccount,
    EventIds,
    make_account,
    make_call_note,
    make_event,
    make_lead,
    make_party,
    make_pipeline,
    make_task,
    make_user,
    status_value,
)

ACC = 555
CONTACT, COMPANY, CALL_TYPE = 9_001, 9_101, 777
P = 100
INCOMING, INITIAL, QUALIFICATION, OFFER, WON, LOST = 1001, 1002, 1003, 1004, 142, 143
A, B = 11, 12
GROUP = (21, "Отдел продаж")
MSK = ZoneInfo("Europe/Moscow")


def msk(month: int, day: int, hour: int, minute: int = 0) -> int:
    return int(datetime(2026, month, day, hour, minute, tzinfo=MSK).timestamp())


def known_account() -> DemoAccount:
    ids = EventIds("kn")
    events: list[dict] = []

    def ev(kind: str, lead: int, at: int, by: int, after=None, before=None, entity_type: str = "lead") -> None:
        events.append(make_event(ids.next(), kind, lead, at, by, after, before, account_id=ACC,
                                 entity_type=entity_type))

    def move(lead: int, at: int, by: int, frm: int, to: int) -> None:
        ev("lead_status_changed", lead, at, by, status_value(to, P), status_value(frm, P))

    acc = DemoAccount(account=make_account(account_id=ACC, created_at=msk(1, 1, 0)))
    acc.users = [
        make_user(A, "Анна", GROUP, (31, "Менеджер")),
        make_user(B, "Борис", GROUP, (32, "Старший менеджер")),
    ]
    acc.pipelines = [make_pipeline(P, "Продажи", [(INCOMING, "Incoming leads"), (INITIAL, "Initial contact"),
                                                  (QUALIFICATION, "Qualification"), (OFFER, "Offer made")],
                                   is_main=True, account_id=ACC)]
    acc.loss_reasons = [{"id": 7, "name": "Дорого", "sort": 10, "created_at": msk(1, 1, 0), "updated_at": msk(1, 1, 0)}]
    g = GROUP[0]
    acc.leads = [
        make_lead(1, "L1", 100_000, A, g, P, WON, msk(3, 2, 10), msk(3, 6, 10), msk(3, 6, 10), account_id=ACC),
        make_lead(2, "L2", 70_000, A, g, P, LOST, msk(3, 3, 9), msk(3, 5, 12), msk(3, 5, 12), loss_reason_id=7,
                  account_id=ACC),
        make_lead(3, "L3", 50_000, B, g, P, WON, msk(3, 10, 11), msk(3, 20, 12), msk(3, 20, 12), account_id=ACC),
        make_lead(4, "L4", 30_000, B, g, P, INCOMING, msk(4, 1, 1, 30), msk(4, 2, 1, 30), account_id=ACC),
        make_lead(5, "L5", 10_000, A, g, P, INITIAL, msk(3, 20, 10), msk(3, 21, 10), is_deleted=True, account_id=ACC),
        make_lead(6, "L6", 20_000, B, g, P, INITIAL, msk(3, 25, 10), account_id=ACC),
    ]
    for lead, contacts, companies in ((1, [CONTACT], []), (2, [CONTACT], []), (3, [], [COMPANY])):
        acc.leads[lead - 1]["_embedded"].update(contacts=[{"id": c, "is_main": True} for c in contacts],
                                                companies=[{"id": c} for c in companies])
    acc.contacts = [make_party(CONTACT, "Клиент C1", A, g, msk(3, 2, 9), companies=[], account_id=ACC)]
    acc.companies = [make_party(COMPANY, "ООО CO1", B, g, msk(3, 10, 10), account_id=ACC)]
    acc.task_types.append({"id": CALL_TYPE, "name": "Звонок", "color": None, "icon_id": None, "code": None})
    # L1: a call-scoring integration and a survey wrote scores into lead custom fields
    acc.leads[0]["custom_fields_values"] = [
        {"field_id": 71, "field_name": "CSAT", "field_code": None, "field_type": "numeric", "values": [{"value": "9"}]},
        {"field_id": 72, "field_name": "Оценка звонка", "field_code": None, "field_type": "numeric",
         "values": [{"value": "80"}]},
    ]
    ev("lead_added", 1, msk(3, 2, 10), A, status_value(INITIAL, P))
    acc.notes.append(make_call_note(501, 1, A, msk(3, 2, 10, 5), "out", 120, 4, g, account_id=ACC))
    ev("outgoing_call", 1, msk(3, 2, 10, 5), A, [{"note": {"id": 501}}])  # same call as note 501
    move(1, msk(3, 2, 14), A, INITIAL, QUALIFICATION)
    acc.notes.append(make_call_note(502, 1, A, msk(3, 3, 12), "in", 300, 4, g, account_id=ACC))
    move(1, msk(3, 4, 10), A, QUALIFICATION, OFFER)
    acc.tasks.append(make_task(601, 1, A, 2, msk(3, 3, 9), msk(3, 4, 13), True, msk(3, 4, 12), g, account_id=ACC))
    acc.tasks.append(make_task(605, CONTACT, A, 2, msk(3, 3, 9), msk(3, 4, 13), True, msk(3, 4, 12), g,
                               account_id=ACC, entity_type="contacts"))  # the same meeting time, C1's card
    acc.contact_notes.append(make_call_note(505, CONTACT, B, msk(3, 4, 15), "out", 240, 4, g, account_id=ACC,
                                            call_responsible="Анна"))
    ev("outgoing_call", CONTACT, msk(3, 4, 15), B, [{"note": {"id": 505}}], entity_type="contact")
    move(1, msk(3, 6, 10), A, OFFER, WON)
    # L2
    ev("lead_added", 2, msk(3, 3, 9), A, status_value(INCOMING, P))
    acc.notes.append(make_call_note(503, 2, A, msk(3, 3, 9, 30), "out", 0, 6, g, account_id=ACC))
    move(2, msk(3, 3, 9, 40), A, INCOMING, INITIAL)
    move(2, msk(3, 5, 12), A, INITIAL, LOST)
    # L3
    ev("lead_added", 3, msk(3, 10, 11), B, status_value(INITIAL, P))
    acc.tasks.append(make_task(602, 3, B, CALL_TYPE, msk(3, 10, 11), msk(3, 10, 12), True, msk(3, 10, 11, 20), g,
                               account_id=ACC))
    move(3, msk(3, 11, 11), B, INITIAL, QUALIFICATION)
    acc.tasks.append(make_task(603, 3, B, 2, msk(3, 11, 12), msk(3, 12, 16), True, msk(3, 12, 15), g, account_id=ACC))
    acc.tasks.append(make_task(604, 3, B, 2, msk(3, 11, 12), msk(3, 12, 18), True, msk(3, 12, 17), g, account_id=ACC))
    move(3, msk(3, 13, 11), B, QUALIFICATION, OFFER)
    ev("outgoing_call", 3, msk(3, 15, 10), B, [{"note": {"id": 999}}])  # its note never reached the API
    acc.company_notes.append(make_call_note(506, COMPANY, B, msk(3, 16, 10), "in", 60, 4, g, account_id=ACC))
    move(3, msk(3, 20, 12), B, OFFER, WON)
    # L4
    ev("lead_added", 4, msk(4, 1, 1, 30), B, status_value(INCOMING, P))
    acc.notes.append(make_call_note(504, 4, B, msk(4, 1, 1, 40), "in", 60, 4, g, account_id=ACC))
    # L5
    ev("lead_added", 5, msk(3, 20, 10), A, status_value(INITIAL, P))
    ev("lead_deleted", 5, msk(3, 21, 10), A)
    # L6
    ev("lead_added", 6, msk(3, 25, 10), B, status_value(INITIAL, P))
    acc.events = events
    return acc


def delete_in_trash(account: DemoAccount, lead_id: int, at: int) -> None:
    """A manager deletes a lead and the source reads no event of it: only the trash listing tells."""
    lead = next(lead for lead in account.leads if lead["id"] == lead_id)
    lead.update(is_deleted=True, updated_at=at, updated_by=lead["responsible_user_id"])


@pytest.fixture(scope="module")
def marts(known_answer_build):
    """This account's view of the shared known-answer warehouse (conftest.known_answer_build): two
    runs over HTTP, as nightly runs would see the account, with L6 deleted between them."""
    view = known_answer_build.view(ACC)
    yield view
    view.con.close()


def rows(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def test_raw_tables_hold_exactly_the_served_records(marts) -> None:
    account = known_account()
    notes = account.notes + account.contact_notes + account.company_notes
    live_leads = [lead for lead in account.leads if not lead["is_deleted"]]  # L6 was live in the first run
    for table, records in [("leads", live_leads), ("notes", notes), ("tasks", account.tasks),
                           ("events", account.events), ("users", account.users), ("task_types", account.task_types)]:
        ids = sorted(r[0] for r in marts.execute(f"select id from raw_amocrm.{table}").fetchall())
        assert ids == sorted(r["id"] for r in records), table
    cards = marts.execute("select id, entity_type from raw_amocrm.notes order by id").fetchall()
    assert cards == [(501, "leads"), (502, "leads"), (503, "leads"), (504, "leads"), (505, "contacts"),
                     (506, "companies")]
    # the trash listing: L5 (deleted before any run) and L6, trimmed to what amoCRM keeps
    trash = marts.execute("select id, updated_at, is_deleted from raw_amocrm.deleted_leads order by id").fetchall()
    assert trash == [(5, msk(3, 21, 10), True), (6, msk(3, 26, 10), True)]


def test_manager_kpis_for_march(marts) -> None:
    got = {r["manager_id"]: r for r in rows(marts, """
        select * from marts.mart_manager_kpi_monthly where month_start = date '2026-03-01'""")}
    assert set(got) == {A, B}
    a, b = got[A], got[B]
    # Manager A: calls L1 out (note + event = 1), L1 in, L2 out, and the call on C1's card that
    # call_responsible names her for (note + event = 1); connected 3 of 120 s, 300 s and 240 s
    assert (a["calls_count"], a["calls_outgoing_count"], a["calls_incoming_count"]) == (4, 3, 1)
    assert a["calls_connected_count"] == 3 and a["avg_call_minutes"] == pytest.approx(11 / 3)
    # meetings: L1's and C1's, same time, two cards
    assert a["meetings_count"] == 2 and a["call_to_meeting_rate"] == pytest.approx(2 / 4)
    assert (a["new_leads_count"], a["leads_won_from_cohort_count"], a["lead_conversion_rate"]) == (2, 1, 0.5)
    assert (a["deals_won_count"], a["deals_lost_count"], a["win_rate"]) == (1, 1, 0.5)
    assert (a["revenue_amount"], a["avg_deal_amount"]) == (100_000, 100_000)
    assert a["first_response_minutes_median"] == pytest.approx(17.5)  # median of 5 and 30
    assert a["leads_qualified_count"] == 1 and a["lead_processing_hours"] == pytest.approx(4.0)
    assert a["time_to_close_days"] == pytest.approx(3 + 20 / 24)
    # Manager B: one event-only outgoing call and the incoming call on CO1's card (60 s);
    # two meetings the same day on L3 count once
    assert (b["calls_count"], b["calls_outgoing_count"], b["calls_connected_count"]) == (2, 1, 1)
    assert b["avg_call_minutes"] == pytest.approx(1.0)
    assert b["meetings_count"] == 1 and b["call_to_meeting_rate"] == pytest.approx(1 / 2)
    # L4 belongs to April; L6 was deleted (seen only in the trash listing)
    assert (b["new_leads_count"], b["lead_conversion_rate"]) == (1, 1.0)
    assert (b["deals_won_count"], b["deals_lost_count"], b["win_rate"]) == (1, 0, 1.0)
    assert (b["revenue_amount"], b["avg_deal_amount"]) == (50_000, 50_000)
    # the completed task of the account's own «Звонок» type (without it: the 03-15 call, 5 days on)
    assert b["first_response_minutes_median"] == pytest.approx(20.0)
    assert b["lead_processing_hours"] == pytest.approx(24.0)
    assert b["time_to_close_days"] == pytest.approx(9 + 1 / 24)


def test_april_rows_and_timezone_bucketing(marts) -> None:
    got = {r["manager_id"]: r for r in rows(marts, """
        select * from marts.mart_manager_kpi_monthly where month_start = date '2026-04-01'""")}
    # A had no activity in April but is listed with zero counts and NULL rates
    assert got[A]["calls_count"] == 0 and got[A]["new_leads_count"] == 0
    assert got[A]["win_rate"] is None and got[A]["lead_conversion_rate"] is None
    # L4 was created at 22:30 UTC on March 31, which is April 1 in Moscow
    assert got[B]["new_leads_count"] == 1 and got[B]["calls_incoming_count"] == 1
    assert got[B]["avg_call_minutes"] == pytest.approx(1.0)
    assert got[B]["first_response_minutes_median"] is None and got[B]["lead_conversion_rate"] == 0.0


def test_department_totals_recompute_rates_from_counts(marts) -> None:
    (d,) = rows(marts, "select * from marts.mart_department_kpi_monthly where month_start = date '2026-03-01'")
    assert d["currency"] == "RUB" and d["managers_count"] == 2
    assert (d["calls_count"], d["meetings_count"], d["new_leads_count"]) == (6, 3, 3)
    assert (d["deals_won_count"], d["deals_lost_count"], d["revenue_amount"]) == (2, 1, 150_000)
    assert d["win_rate"] == pytest.approx(2 / 3) and d["lead_conversion_rate"] == pytest.approx(2 / 3)
    assert d["avg_deal_amount"] == pytest.approx(75_000) and d["call_to_meeting_rate"] == pytest.approx(3 / 6)
    assert d["first_response_minutes_median"] == pytest.approx(20.0)  # median of 5, 30, 20
    assert d["lead_processing_hours"] == pytest.approx(14.0)  # mean of 4 and 24
    assert d["time_to_close_days"] == pytest.approx(((3 + 20 / 24) + (9 + 1 / 24)) / 2)


def test_funnel_stages(marts) -> None:
    got = {(r["month_start"].month, r["status_id"]): r for r in rows(marts, """
        select * from marts.mart_funnel_stages where pipeline_id = 100""")}
    expected = {  # (month, stage): entered, advanced, lost, conversion, median hours in stage
        (3, INCOMING): (1, 1, 0, 1.0, 40 / 60),
        (3, INITIAL): (3, 2, 1, 2 / 3, 24.0),  # visits of 4 h, 50 h 20 min and 24 h
        (3, QUALIFICATION): (2, 2, 0, 1.0, 46.0),  # 44 h and 48 h
        (3, OFFER): (2, 2, 0, 1.0, 108.5),  # 48 h and 169 h
        (3, WON): (2, 0, 0, None, None),
        (4, INCOMING): (1, 0, 0, 0.0, 24.0),  # open, measured to the snapshot time
        (4, INITIAL): (0, 0, 0, None, None),
    }
    for key, (entered, advanced, lost, conversion, hours) in expected.items():
        r = got[key]
        assert (r["leads_entered_count"], r["leads_advanced_count"], r["leads_lost_count"]) == (
            entered, advanced, lost), key
        assert r["stage_conversion_rate"] == (pytest.approx(conversion) if conversion is not None else None), key
        assert r["median_hours_in_stage"] == (pytest.approx(hours) if hours is not None else None), key
    assert {r["stage_role"] for r in got.values()} == {"incoming", "first_contact", "qualified", "proposal", "won"}


def test_fct_leads(marts) -> None:
    got = {r["lead_id"]: r for r in rows(marts, "select * from marts.fct_leads")}
    assert sorted(got) == [1, 2, 3, 4, 6]  # L5 was never loaded: the trash keeps only its id
    assert [got[i]["is_deleted"] for i in (1, 2, 3, 4, 6)] == [False, False, False, False, True]
    assert [got[i]["is_won"] for i in (1, 2, 3, 4)] == [True, False, True, False]
    assert got[2]["is_lost"] and got[2]["loss_reason_name"] == "Дорого"
    assert got[4]["is_open"] and got[4]["first_response_minutes"] is None
    assert got[1]["first_response_minutes"] == pytest.approx(5.0)
    assert got[3]["sales_cycle_days"] == pytest.approx(10 + 1 / 24)


def test_more_manager_kpis_for_march(marts) -> None:
    """Activity, cohort, SLA, automation, customer and plan KPIs, computed by hand."""
    got = {r["manager_id"]: r for r in rows(marts, """
        select * from marts.mart_manager_kpi_monthly where month_start = date '2026-03-01'""")}
    a, b = got[A], got[B]
    # first entries into "Offer made" (a proposal stage); the account has no presentation stage
    assert (a["proposals_sent_count"], b["proposals_sent_count"]) == (1, 1)
    assert (a["presentations_count"], a["presentation_success_rate"]) == (0, None)
    # completed tasks of any type, on any card: A both meetings; B the call task and both meetings
    assert (a["tasks_completed_count"], b["tasks_completed_count"]) == (2, 3)
    assert (a["tasks_overdue_count"], b["tasks_overdue_count"]) == (0, 0)
    # cohorts: A created L1 (won) and L2 (lost), B created L3 (won); L1 and L3 got qualified
    assert (a["refusal_rate"], b["refusal_rate"]) == (0.5, 0.0)
    assert (a["sql_rate"], b["sql_rate"]) == (0.5, 1.0)
    # first responses: A 5 and 30 minutes, B 20 minutes; SLA 15 minutes, then 24 hours
    assert (a["response_within_sla_rate"], b["response_within_sla_rate"]) == (0.5, 0.0)
    assert (a["response_within_day_rate"], b["response_within_day_rate"]) == (1.0, 1.0)
    assert a["first_response_minutes_p90"] == pytest.approx(27.5)
    # all three answers came within working hours on working days, so the working-time medians agree
    assert (a["first_response_working_minutes_median"], b["first_response_working_minutes_median"]) == (17.5, 20.0)
    # actions: A's leads carry 8 events (L5 was never loaded, L6 is deleted) plus her 2 tasks (one on
    # C1's card); B's 5 events plus 3 tasks; all by people, none by robots
    assert (a["actions_count"], b["actions_count"]) == (10, 8)
    assert (a["automation_rate"], b["automation_rate"]) == (0.0, 0.0)
    # without contacts each won lead is its own customer: a new one, no upsell
    assert (a["new_customers_count"], b["new_customers_count"], a["upsell_rate"]) == (1, 1, 0.0)
    assert (a["plan_revenue_amount"], a["plan_fulfillment_rate"]) == (None, None)  # no plan for this account
    # only L1 carries scores: A's closed leads average 9 and 80; B has none: not available, not 0
    assert (a["csat_score_avg"], a["call_quality_score_avg"]) == (9.0, 80.0)
    assert (b["csat_score_avg"], b["call_quality_score_avg"]) == (None, None)
    # customers to date: A's L1 and B's L3, one win each
    assert (a["customers_to_date_count"], a["repeat_purchase_rate"], a["customer_ltv_amount"]) == (1, 0.0, 100_000)
    (d,) = rows(marts, "select * from marts.mart_department_kpi_monthly where month_start = date '2026-03-01'")
    assert (d["proposals_sent_count"], d["tasks_completed_count"], d["actions_count"]) == (2, 5, 18)
    assert d["refusal_rate"] == pytest.approx(1 / 3) and d["sql_rate"] == pytest.approx(2 / 3)
    assert d["response_within_sla_rate"] == pytest.approx(1 / 3)
    assert d["first_response_minutes_p90"] == pytest.approx(28.0)  # of 5, 20 and 30


def test_weekly_activity_and_onboarding(marts) -> None:
    weekly = {(r["manager_id"], r["week_start"]): r
              for r in rows(marts, "select * from marts.mart_manager_activity_weekly")}
    first_week = weekly[(A, date(2026, 3, 2))]  # Monday 2 March: L1's two calls, L2's and C1's
    assert (first_week["calls_count"], first_week["new_leads_count"]) == (4, 2)
    # the week of 9 March: the call task (10 March) and both meetings (12 March)
    assert weekly[(B, date(2026, 3, 9))]["tasks_completed_count"] == 3
    onboarding = {r["manager_id"]: r for r in rows(marts, "select * from marts.mart_manager_onboarding")}
    # no hire dates for this account: hired on the first active day; A's March revenue (100 000)
    # reaches the team median (75 000) at once: 2 March → 31 March = 29 days; B never does
    assert onboarding[A]["is_hire_date_inferred"] and onboarding[A]["onboarding_days"] == 29
    assert onboarding[B]["onboarding_days"] is None


def test_weekly_wins_and_the_week_so_far(marts) -> None:
    """Won deals by the week of the day they closed; no plans for this account (the seed-edit test below adds one)."""
    weekly = {(r["manager_id"], r["week_start"]): r
              for r in rows(marts, "select * from marts.mart_manager_plan_weekly")}
    # L1 won Friday 6 March (A), L3 won Friday 20 March (B): one row each, no plan, so no fulfilment
    assert set(weekly) == {(A, date(2026, 3, 2)), (B, date(2026, 3, 16))}
    a, b = weekly[(A, date(2026, 3, 2))], weekly[(B, date(2026, 3, 16))]
    assert (a["deals_won_count"], a["revenue_amount"]) == (1, 100_000)
    assert (b["deals_won_count"], b["revenue_amount"]) == (1, 50_000)
    assert (a["plan_revenue_amount"], a["plan_fulfillment_to_date_rate"], a["is_current_week"]) == (None, None, False)
    department = {r["week_start"]: r for r in rows(marts, "select * from marts.mart_department_plan_weekly")}
    # the snapshot is 2 April 01:30 Moscow: the week of 30 March is "the week so far" (L4's call on 1 April)
    assert [w for w, r in department.items() if r["is_current_week"]] == [date(2026, 3, 30)]
    assert (department[date(2026, 3, 30)]["calls_count"], department[date(2026, 3, 30)]["revenue_amount"]) == (1, 0)
    assert department[date(2026, 3, 2)]["revenue_amount"] == 100_000
    assert department[date(2026, 3, 2)]["calls_count"] == 4 and department[date(2026, 3, 2)]["new_leads_count"] == 2


def test_the_models_unit_tests_pass(known_answer_build) -> None:
    """dbt's unit tests (each model's formulas on fixed inputs, beside its SQL) run once per `make test`, in the
    known-answer warehouse's build (conftest), not in every nightly build: they test the SQL, not the data."""
    rows, declared = known_answer_build.unit_tests, known_answer_build.unit_tests_declared
    assert declared >= 15 and len(rows) == declared
    assert {(r.suite, r.status) for r in rows} == {("unit_test", "pass")}


@pytest.mark.slow  # a fresh dbt parse of a copied project (~20 s): `make test-slow` (CI) and make bench
def test_amokpi_publish_after_a_seed_edit_shows_the_new_plan_in_the_report(known_answer_build, tmp_path) -> None:
    """An analyst's workflow: give manager A a March plan of 200 000 in sales_plans.csv, `dbt build` the seed
    and the models between it and the report's KPI mart, then `amokpi publish`: GX passes on the raw tables,
    the build's results are recorded under the run (test_data_quality has the refusals), and the report
    shows A's March plan and its fulfilment (revenue 100 000 / 200 000 = 50 %) where it said "no plan"."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import duckdb
    from streamlit.testing.v1 import AppTest

    from amokpi.settings import DBT_PROFILES_DIR, PROJECT_ROOT
    from streamlit_app import data, formatting
    from streamlit_app.columns import label

    # the analyst's checkout: the project's models, macros and tests, its own copy of the seeds
    project = tmp_path / "project"
    (project / "dbt_project").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "dbt_project.yml", project)
    for linked in ("models", "tests", "dbt_project/macros"):
        (project / linked).symlink_to(PROJECT_ROOT / linked)
    shutil.copytree(PROJECT_ROOT / "dbt_project" / "seeds", project / "dbt_project" / "seeds")
    plans = project / "dbt_project" / "seeds" / "sales_plans.csv"
    plans.write_text(plans.read_text().rstrip("\n") + f"\n{ACC},{A},2026-03-01,200000,2\n")

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(known_answer_build.warehouse, warehouse)
    target = tmp_path / "target"
    env = {k: v for k, v in os.environ.items() if k not in ("AMOKPI_SERVING", "AMOKPI_REPORT")}
    env.update(AMOKPI_WAREHOUSE=str(warehouse), DBT_TARGET_PATH=str(target))
    bin_dir = Path(sys.executable).parent
    built = subprocess.run([str(bin_dir / "dbt"), "build", "--project-dir", str(project), "--profiles-dir",
                            str(DBT_PROFILES_DIR), "--target-path", str(target), "--select",
                            "sales_plans fct_sales_plans int_kpi_monthly mart_manager_kpi_monthly "
                            "fct_sales_plans_weekly mart_manager_plan_weekly mart_department_plan_weekly",
                            "--exclude-resource-type", "unit_test"], env=env, capture_output=True, text=True,
                           timeout=300)
    assert built.returncode == 0, built.stdout[-3000:]
    done = subprocess.run([str(bin_dir / "amokpi"), "publish"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    serving = warehouse.with_name("warehouse.serving.duckdb")
    assert f"serving copy: {serving}" in done.stdout and serving.exists()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tools = dict(con.execute("select tool, count(*) from marts.data_quality_runs where run_id = (select"
                                 " arg_max(run_id, checked_at) from marts.data_quality_runs) group by tool").fetchall())
    assert tools["dbt"] > 3 and tools["gx"] > 10  # the analyst's build's tests and the raw suites, one run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        weeks = {r[0]: r[1:] for r in con.execute(
            "select week_start, plan_revenue_amount, plan_revenue_to_date_amount, revenue_amount,"
            " plan_fulfillment_to_date_rate from marts.mart_manager_plan_weekly where account_id = ? and manager_id = ?"
            " order by week_start", [ACC, A]).fetchall()}
    # March 2026 has 22 weekdays less the 9 March holiday = 21 working days: 200 000 / 21 a day. The week of
    # 2 March (5 days) carries 200 000 × 5/21, against L1's 100 000 = 2.1; the week of 9 March 4 days (the
    # holiday); the week of 30 March only its two March days (no April plan); the snapshot (2 April) is past March
    assert list(weeks) == [date(2026, 3, d) for d in (2, 9, 16, 23, 30)]
    assert weeks[date(2026, 3, 2)] == pytest.approx((200_000 * 5 / 21, 200_000 * 5 / 21, 100_000, 2.1))
    assert weeks[date(2026, 3, 9)][:2] == pytest.approx((200_000 * 4 / 21, 200_000 * 4 / 21))
    assert weeks[date(2026, 3, 30)][:2] == pytest.approx((200_000 * 2 / 21, 200_000 * 2 / 21))
    assert sum(w[0] for w in weeks.values()) == pytest.approx(200_000)
    with duckdb.connect(known_answer_build.serving, read_only=True) as con:  # before: no plan
        assert con.execute("select plan_revenue_amount from marts.mart_manager_kpi_monthly where account_id = ?"
                           " and manager_id = ? and month_start = '2026-03-01'", [ACC, A]).fetchone() == (None,)

    report = warehouse.with_name("warehouse.report.duckdb")
    previous = os.environ.get("AMOKPI_REPORT")
    os.environ["AMOKPI_REPORT"] = str(report)
    try:
        data.release()
        at = AppTest.from_file(str(PROJECT_ROOT / "streamlit_app" / "app.py"), default_timeout=30)
        at.query_params.update(lang="ru", month="2026-03-01", manager=str(A))
        at.run()
        if any(box.key == "account" for box in at.selectbox):  # several accounts share the test warehouse
            at.selectbox(key="account").set_value(ACC).run()
        at.selectbox(key="month").set_value(date(2026, 3, 1)).run()
        at.selectbox(key="manager").set_value(A).run()
        assert not at.exception, [e.value for e in at.exception]
        cards = {m.label: m.value for m in at.metric}
        assert cards[label("plan_fulfillment_rate", "ru")] == formatting.percent(0.5, "ru")
        assert cards[label("plan_revenue_amount", "ru")] == formatting.money(200000, "RUB", "ru")
    finally:
        if previous is None:
            os.environ.pop("AMOKPI_REPORT", None)
        else:
            os.environ["AMOKPI_REPORT"] = previous
        data.release()


