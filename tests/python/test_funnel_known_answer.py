"""Known-answer funnel: an account with tricky stage histories, served by the demo API over HTTP,
ingested and built; every funnel figure below was computed by hand.

Moscow time. Pipeline 100: A Initial contact (sort 10) → B Qualification (20) → C Offer made (30)
→ D Contract discussion (40) → won / lost. Pipeline 200: X Initial contact → Y Qualification.
Managers 11 and 12. All leads are created in March 2026 except L8.

  L1 (11) A 03-02 10:00 → C 12:00 (skips B) → won 03-05 12:00, price 100
  L2 (11) A 03-03 10:00 → B 11:00 → A 13:00 (back) → B 15:00 (again) → lost 03-04 15:00 (Дорого)
  L3 (12) A 03-04 10:00 → lost 11:00 (Конкурент) → reopened into B 03-06 10:00 → won 03-10 10:00, 200
  L4 A 03-05 10:00 by 11, handed to 12 at 11:00 → B 12:00 → C 03-06 12:00, open, 300
  L5 (12) created directly in C 03-06 10:00, open, 400
  L6 (11) A 03-07 10:00 → moved to pipeline 200, X 12:00 → Y 03-08 12:00, open, 500
  L7 (11) A 03-08 10:00, deleted 03-09 10:00 (junk): counts nowhere
  L8 (12) A 04-01 10:00, open, 50; edited 04-02 10:00 = the snapshot time
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import duckdb
import pytest

from ingestion.demo.account import (
    DemoAccount,
    EventIds,
    make_account,
    make_event,
    make_lead,
    make_pipeline,
    make_user,
    status_value,
)

ACC, P, Q = 777, 100, 200
A, B, C, D, X, Y, WON, LOST = 1001, 1002, 1003, 1004, 2001, 2002, 142, 143
M1, M2 = 11, 12
MSK = ZoneInfo("Europe/Moscow")
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


def msk(month: int, day: int, hour: int) -> int:
    return int(datetime(2026, month, day, hour, tzinfo=MSK).timestamp())


def tricky_account() -> DemoAccount:
    ids = EventIds("fn")
    acc = DemoAccount(account=make_account(account_id=ACC, created_at=msk(1, 1, 0)))
    group = (5, "Отдел")
    acc.users = [make_user(M1, "Первый", group, (1, "Менеджер")), make_user(M2, "Второй", group, (1, "Менеджер"))]
    acc.pipelines = [
        make_pipeline(P, "Продажи", [(A, "Initial contact"), (B, "Qualification"), (C, "Offer made"),
                                     (D, "Contract discussion")], is_main=True, account_id=ACC),
        make_pipeline(Q, "Partners", [(X, "Initial contact"), (Y, "Qualification")], sort=2, account_id=ACC),
    ]
    acc.loss_reasons = [{"id": 7, "name": "Дорого", "sort": 1, "created_at": 0, "updated_at": 0},
                        {"id": 8, "name": "Конкурент", "sort": 2, "created_at": 0, "updated_at": 0}]

    def added(lead: int, at: int, by: int, status: int, pipeline: int = P) -> None:
        acc.events.append(make_event(ids.next(), "lead_added", lead, at, by, status_value(status, pipeline),
                                     account_id=ACC))

    def move(lead: int, at: int, by: int, frm: int, to: int, frm_p: int = P, to_p: int = P) -> None:
        acc.events.append(make_event(ids.next(), "lead_status_changed", lead, at, by, status_value(to, to_p),
                                     status_value(frm, frm_p), account_id=ACC))

    def lead(lead_id: int, manager: int, pipeline: int, status: int, created: int, updated: int, price: int,
             closed: int | None = None, reason: int | None = None, deleted: bool = False) -> None:
        acc.leads.append(make_lead(lead_id, f"L{lead_id}", price, manager, group[0], pipeline, status, created,
                                   updated, closed, loss_reason_id=reason, is_deleted=deleted, account_id=ACC))

    lead(1, M1, P, WON, msk(3, 2, 10), msk(3, 5, 12), 100, msk(3, 5, 12))
    added(1, msk(3, 2, 10), M1, A)
    move(1, msk(3, 2, 12), M1, A, C)
    move(1, msk(3, 5, 12), M1, C, WON)

    lead(2, M1, P, LOST, msk(3, 3, 10), msk(3, 4, 15), 70, msk(3, 4, 15), reason=7)
    added(2, msk(3, 3, 10), M1, A)
    move(2, msk(3, 3, 11), M1, A, B)
    move(2, msk(3, 3, 13), M1, B, A)
    move(2, msk(3, 3, 15), M1, A, B)
    move(2, msk(3, 4, 15), M1, B, LOST)

    lead(3, M2, P, WON, msk(3, 4, 10), msk(3, 10, 10), 200, msk(3, 10, 10), reason=8)
    added(3, msk(3, 4, 10), M2, A)
    move(3, msk(3, 4, 11), M2, A, LOST)
    move(3, msk(3, 6, 10), M2, LOST, B)
    move(3, msk(3, 10, 10), M2, B, WON)

    lead(4, M2, P, C, msk(3, 5, 10), msk(3, 6, 12), 300)
    added(4, msk(3, 5, 10), M1, A)
    acc.events.append(make_event(ids.next(), "entity_responsible_changed", 4, msk(3, 5, 11), M1,
                                 [{"responsible_user": {"id": M2}}], [{"responsible_user": {"id": M1}}],
                                 account_id=ACC))
    move(4, msk(3, 5, 12), M2, A, B)
    move(4, msk(3, 6, 12), M2, B, C)

    lead(5, M2, P, C, msk(3, 6, 10), msk(3, 6, 10), 400)
    added(5, msk(3, 6, 10), M2, C)

    lead(6, M1, Q, Y, msk(3, 7, 10), msk(3, 8, 12), 500)
    added(6, msk(3, 7, 10), M1, A)
    move(6, msk(3, 7, 12), M1, A, X, P, Q)
    move(6, msk(3, 8, 12), M1, X, Y, Q, Q)

    lead(7, M1, P, A, msk(3, 8, 10), msk(3, 9, 10), 90, deleted=True)
    added(7, msk(3, 8, 10), M1, A)
    acc.events.append(make_event(ids.next(), "lead_deleted", 7, msk(3, 9, 10), M1, account_id=ACC))

    lead(8, M2, P, A, msk(4, 1, 10), msk(4, 2, 10), 50)
    added(8, msk(4, 1, 10), M2, A)
    return acc


@pytest.fixture(scope="module")
def con(known_answer_build):
    """This account's view of the shared known-answer warehouse (conftest.known_answer_build)."""
    view = known_answer_build.view(ACC)
    yield view
    view.con.close()


def rows(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def funnel(con: duckdb.DuckDBPyConnection) -> dict[tuple, dict]:
    return {(r["pipeline_id"], r["status_id"], r["month_start"]): r
            for r in rows(con, "select * from marts.mart_funnel_stages")}


def approx(value: float | None) -> object:
    return None if value is None else pytest.approx(value)


def test_stage_entries_conversion_and_time_in_stage(con) -> None:
    got = funnel(con)
    expected = {  # entered, advanced, lost, stage conversion, median h, p90 h
        (P, A, MARCH): (5, 4, 0, 0.8, 2.0, 2.0),  # L6 left the pipeline: not advanced; L7 deleted
        (P, B, MARCH): (3, 2, 1, 2 / 3, 24.0, 74.4),  # L1 skipped B; visits 2, 24, 24, 96 h
        (P, C, MARCH): (3, 1, 0, 1 / 3, 646.0, 647.6),  # open L4, L5 measured to the snapshot time
        (P, D, MARCH): (0, 0, 0, None, None, None),
        (P, WON, MARCH): (2, 0, 0, None, None, None),
        (Q, X, MARCH): (1, 1, 0, 1.0, 24.0, 24.0),
        (Q, Y, MARCH): (1, 0, 0, 0.0, 24 * 24 + 22, 24 * 24 + 22),
        (P, A, APRIL): (1, 0, 0, 0.0, 24.0, 24.0),
    }
    for key, (entered, advanced, lost, conversion, median, p90) in expected.items():
        r = got[key]
        assert (r["leads_entered_count"], r["leads_advanced_count"], r["leads_lost_count"]) == (
            entered, advanced, lost), key
        assert r["stage_conversion_rate"] == approx(conversion), key
        assert (r["median_hours_in_stage"], r["p90_hours_in_stage"]) == (approx(median), approx(p90)), key


def test_cumulative_conversion_by_creation_cohort(con) -> None:
    got = funnel(con)
    # March cohort of pipeline 100: L1-L6 (L6 was created there); furthest stages: L1 won, L2 B,
    # L3 won, L4 C, L5 C (created there: passes A and B), L6 A
    for status, reached in [(A, 6), (B, 5), (C, 4), (D, 2), (WON, 2)]:
        r = got[(P, status, MARCH)]
        assert (r["cohort_leads_count"], r["leads_reached_count"]) == (6, reached), status
        assert r["cumulative_conversion_rate"] == pytest.approx(reached / 6), status
    assert got[(Q, X, MARCH)]["cohort_leads_count"] == 0 and got[(Q, X, MARCH)]["cumulative_conversion_rate"] is None
    assert (got[(P, A, APRIL)]["leads_reached_count"], got[(P, B, APRIL)]["leads_reached_count"]) == (1, 0)


def test_open_pipeline_at_month_end(con) -> None:
    got = funnel(con)
    assert (got[(P, C, MARCH)]["open_leads_count"], got[(P, C, MARCH)]["pipeline_open_amount"]) == (2, 700)
    assert (got[(Q, Y, MARCH)]["open_leads_count"], got[(Q, Y, MARCH)]["pipeline_open_amount"]) == (1, 500)
    assert got[(P, A, MARCH)]["open_leads_count"] == 0  # L8 arrives after March ends
    assert (got[(P, A, APRIL)]["open_leads_count"], got[(P, A, APRIL)]["pipeline_open_amount"]) == (1, 50)
    pipeline = {(r["pipeline_id"], r["month_start"]): r for r in rows(con, "select * from marts.mart_pipeline_monthly")}
    march = pipeline[(P, MARCH)]
    assert (march["leads_created_count"], march["deals_won_count"], march["deals_lost_count"]) == (5, 2, 1)
    assert march["revenue_amount"] == 300 and march["open_leads_count"] == 2 and march["pipeline_open_amount"] == 700
    assert march["avg_sales_cycle_days"] == pytest.approx((3 + 2 / 24 + 6) / 2)
    assert march["open_leads_priced_by_snapshot_count"] == 0
    april = pipeline[(P, APRIL)]
    assert (april["open_leads_count"], april["pipeline_open_amount"], april["open_leads_priced_by_snapshot_count"]) == (
        3, 750, 3)
    (snapshot,) = rows(con, "select snapshot_day, count(*) as n, sum(price_amount) as amount "
                            "from marts.fct_pipeline_daily_snapshots group by 1")
    assert snapshot == {"snapshot_day": date(2026, 4, 2), "n": 4, "amount": 1250}


def test_loss_reasons_and_manager_attribution(con) -> None:
    lost = rows(con, "select * from marts.mart_funnel_loss_reasons")
    assert [(r["status_id"], r["month_start"], r["loss_reason_name"], r["leads_lost_count"], r["loss_reason_share"])
            for r in lost] == [(B, MARCH, "Дорого", 1, 1.0)]  # L3's loss was undone when it was reopened
    by_manager = {(r["status_id"], r["manager_id"]): r["leads_entered_count"] for r in rows(con, """
        select * from marts.mart_manager_funnel_stages where pipeline_id = 100 and month_start = date '2026-03-01'""")}
    assert (by_manager[(A, M1)], by_manager[(A, M2)]) == (4, 1)
    assert (by_manager[(B, M1)], by_manager[(B, M2)]) == (1, 2)  # L4 entered B after it was handed to 12
